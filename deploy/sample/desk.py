"""People at a service's HTTP API: tokens per role, and calls that fail loudly with the service's answer."""
from __future__ import annotations

from typing import Any, Callable

from deploy.local import polite
from deploy.local.procs import demo_agencies, signer
from deploy.local.waiting import SERVICE_WRITES, Stalled, wait_while_moving
from sme_runtime.auth import Role, mint_token


class Desk:
    def __init__(self, base_url: str, secret: Any = None, agencies: tuple[str, ...] | None = None) -> None:
        self.base, self.secret = base_url, secret if secret is not None else signer()
        self.agencies = agencies if agencies is not None else demo_agencies()  # T1: whom its staff act for
        self.http = polite.client(base_url=base_url, timeout=30)

    def _as(self, role: Role, subject: str, brn: str | None = None) -> dict[str, str]:
        agencies = () if role is Role.COMPANY else self.agencies
        return {"Authorization": "Bearer " + mint_token(self.secret, subject=subject, role=role, brn=brn,
                                                        agencies=agencies)}

    def operator(self) -> dict[str, str]:
        return self._as(Role.OPERATOR, "operator:center-staff")

    def company(self, brn: str) -> dict[str, str]:
        return self._as(Role.COMPANY, f"company:{brn}", brn)

    def evaluator(self, evaluator_id: str) -> dict[str, str]:
        return self._as(Role.EVALUATOR, evaluator_id)

    def call(self, method: str, path: str, *, headers: dict, expect: tuple[int, ...] = (200, 201), **kw) -> Any:
        response = self.http.request(method, path, headers=headers, **kw)
        if response.status_code not in expect:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    @staticmethod
    def poll(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 60) -> Any:
        """Read until `done` holds, for as long as the answer or the services' database writes keep moving, giving
        up after `timeout` seconds of neither (issue 28: a loaded machine is slow, not stuck); returns the last
        read either way (the caller says what it expected)."""
        try:
            return wait_while_moving(read, done, what="a poll", quiet=timeout, signals=(SERVICE_WRITES,))
        except Stalled:
            return read()
