"""The five services' HTTP APIs, called for the person signed in: each call carries a short-lived token the portal
signs for that person (EdDSA with the portal's key, verified by the services against its JWKS), so each service
still decides what that person may see and do (C9, F6)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from portal.config import PortalSettings
from sme_runtime.auth import Role, mint_token
from sme_runtime.keys import load_signing_key

TOKEN_TTL = timedelta(minutes=5)
PROGRAMS_TTL_SECONDS = 30.0


@dataclass(frozen=True)
class Person:
    """Who acts: an account as the services know it."""

    login: str
    role: str
    brn: str | None = None
    evaluator_id: str | None = None
    agencies: tuple[str, ...] = ()  # T1: the agencies a staff member, evaluator or expert acts for

    @property
    def subject(self) -> str:
        return {"company": f"company:{self.brn}", "evaluator": self.evaluator_id or self.login,
                "expert": f"expert:{self.login}"}.get(self.role, f"operator:{self.login}")


@dataclass
class Answer:
    status: int
    body: Any = None

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def problems(self) -> list[dict[str, str]]:
        if isinstance(self.body, dict) and isinstance(self.body.get("errors"), list):
            return self.body["errors"]
        return [] if self.ok else [{"field": "(request)", "rule": "http", "message": f"HTTP {self.status}"}]


class ServiceUnavailable(Exception):
    def __init__(self, service: str, reason: str, retry_after: str | None = None) -> None:
        super().__init__(f"{service}: {reason}")
        self.service, self.retry_after = service, retry_after  # the service's own Retry-After (busy, issue 28)


@dataclass
class Services:
    settings: PortalSettings
    client: httpx.AsyncClient = field(init=False)
    _tokens: dict[tuple, tuple[float, str]] = field(default_factory=dict, init=False)
    _programs: tuple[float, list[dict]] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.client = httpx.AsyncClient(timeout=self.settings.service_timeout_seconds)
        self._signer: Any = (load_signing_key(self.settings.signing_key) if self.settings.signing_key
                             else self.settings.jwt_secret)
        self.urls = {"intake": self.settings.intake_url, "screening": self.settings.screening_url,
                     "evaluation": self.settings.evaluation_url, "contracts": self.settings.contracts_url,
                     "payments": self.settings.payments_url}

    def token(self, person: Person) -> str:
        """A token for `person`, reused until a minute before it expires."""
        key = (person.role, person.subject, person.brn, person.agencies)
        cached = self._tokens.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        token = mint_token(self._signer, subject=person.subject, role=Role(person.role), brn=person.brn,
                           agencies=() if person.role == Role.COMPANY else person.agencies, ttl=TOKEN_TTL)
        self._tokens[key] = (time.monotonic() + TOKEN_TTL.total_seconds() - 60, token)
        return token

    async def call(self, person: Person, service: str, method: str, path: str, *, json: Any = None,
                   params: dict[str, Any] | None = None, idempotency_key: str | None = None) -> Answer:
        headers = {"Authorization": "Bearer " + self.token(person)}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = await self.client.request(method, self.urls[service] + path, json=json, params=params,
                                                 headers=headers)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(service, type(exc).__name__) from exc
        if response.status_code >= 500:
            raise ServiceUnavailable(service, f"HTTP {response.status_code}", response.headers.get("retry-after"))
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return Answer(response.status_code, body)

    async def get(self, person: Person, service: str, path: str, **params: Any) -> Any:
        """The body of a read that must succeed (a 4xx here is the portal's mistake or a denial: shown as such)."""
        answer = await self.call(person, service, "GET", path,
                                 params={k: v for k, v in params.items() if v is not None})
        if not answer.ok:
            raise Denied(answer)
        return answer.body

    async def programs(self, person: Person) -> list[dict]:
        """The program definitions intake accepts applications for, the same for everyone signed in. They change
        only when a new version is deployed (V1), and reading them was the largest part of a company's dashboard
        (py-spy: 14% of the portal's samples, most of it parsing their JSON): kept for 30 seconds."""
        if self._programs and self._programs[0] > time.monotonic():
            return self._programs[1]
        found = await self.get(person, "intake", "/programs")
        self._programs = (time.monotonic() + PROGRAMS_TTL_SECONDS, found)
        return found

    async def close(self) -> None:
        await self.client.aclose()


class Denied(Exception):
    """A service refused to show something to this person (404 for what is not theirs, 403 for their role)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.problems)
        self.answer = answer
