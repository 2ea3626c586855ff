"""Bearer tokens with a role claim. Companies act only on their own records (C9); staff, evaluators and experts
only on the programs of the agencies their token names (T1, the `agencies` claim): one deployment runs several
agencies' programs, and none sees another's. A company keeps one account across agencies.

Where a service is given a JWKS (`<SERVICE>_JWKS`: a file or an http(s) URL), it verifies Ed25519 (EdDSA) tokens
with those public keys only — whoever signs holds the private key, no service holds a secret that could mint a
token, and a token signed with the shared development secret is refused. Without a JWKS (development, tests) the
shared secret signs and verifies (HS256)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Awaitable, Callable, Iterable

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sme_runtime.routes import state_of
from sme_runtime.settings import ServiceSettings

if TYPE_CHECKING:
    from sme_programs import Programs

ISSUER = "sme-platform"
# T1: the deploying organisation's operations team. It sees the dead letters no program can be read from (they
# belong to no agency); it is no agency's staff, so it sees no agency's applications.
PLATFORM = "platform"
ALGORITHM = "HS256"


class Role(StrEnum):
    OPERATOR = "operator"
    COMPANY = "company"
    EVALUATOR = "evaluator"
    EXPERT = "expert"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    business_registration_number: str | None = None  # set for companies: whose records they may see
    agencies: frozenset[str] = frozenset()  # staff, evaluators, experts: the agencies they act for (T1)
    programs: frozenset[str] = frozenset()  # of those agencies, the programs deployed here (`within`)

    def within(self, programs: "Programs") -> "Principal":
        """The principal with the programs its agencies run among those deployed here (T1)."""
        return replace(self, programs=programs.of_agencies(self.agencies))

    def acts_for(self, agency: str | None) -> bool:
        """T1: may this principal see or act on a record of `agency` (None: no agency's)? Companies are walled by
        their own number instead (C9), one account across agencies."""
        return self.role is Role.COMPANY or (agency is not None and agency in self.agencies)

    def sees(self, program_id: str | None) -> bool:
        """T1: a record of `program_id` is visible to this principal (a company's by its number, C9)."""
        return self.role is Role.COMPANY or program_id in self.programs

    def visible_programs(self) -> list[str] | None:
        """T1: the program ids a listing is limited to; None for a company (its number limits it, C9)."""
        return None if self.role is Role.COMPANY else sorted(self.programs)


def mint_token(secret: str | tuple[Ed25519PrivateKey, str], *, subject: str, role: Role, brn: str | None = None,
               agencies: Iterable[str] = (), ttl: timedelta = timedelta(hours=8)) -> str:
    """A token signed with the shared secret (HS256), or with a signing key and its kid (EdDSA). Staff, evaluators
    and experts need `agencies` (T1)."""
    now = datetime.now(timezone.utc)
    claims: dict[str, Any] = {"sub": subject, "role": role.value, "iss": ISSUER, "iat": now, "exp": now + ttl}
    if brn:
        claims["brn"] = brn
    if agencies:
        claims["agencies"] = sorted(agencies)
    if isinstance(secret, tuple):
        key, kid = secret
        return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


class TokenVerifier:
    """How a service checks a bearer token: the JWKS's public keys where one is configured (a file read once, or
    a URL fetched and cached, fetched again for a key id it does not know — a rotation — at most every
    `refetch_seconds`, so unknown ids cannot make it hammer the signer), else the shared secret."""

    def __init__(self, secret: str, jwks: str | None = None, *, refetch_seconds: float = 30) -> None:
        self._secret, self._source = secret, jwks
        self._client = jwt.PyJWKClient(jwks, cache_keys=True, lifespan=300, cooldown_duration=refetch_seconds) \
            if jwks and jwks.startswith(("http://", "https://")) else None
        self._set = jwt.PyJWKSet.from_json(Path(jwks).read_text("utf-8")) if jwks and not self._client else None

    def _key(self, token: str) -> tuple[Any, list[str]]:
        if self._source is None:
            return self._secret, [ALGORITHM]
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key, ["EdDSA"]
        kid = jwt.get_unverified_header(token).get("kid")
        assert self._set is not None
        for jwk in self._set.keys:
            if jwk.key_id == kid:
                return jwk.key, ["EdDSA"]
        raise jwt.InvalidKeyError(f"no key {kid!r} in the JWKS {self._source}")

    def principal(self, token: str) -> Principal:
        try:
            key, algorithms = self._key(token)
            claims = jwt.decode(token, key, algorithms=algorithms, issuer=ISSUER, options={"require": ["exp", "sub"]})
            role = Role(claims.get("role", ""))
        except (jwt.PyJWTError, ValueError) as exc:
            raise _unauthorised(f"invalid bearer token: {exc}") from exc
        return _principal(claims, role)


def _principal(claims: dict[str, Any], role: Role) -> Principal:
    brn = claims.get("brn")
    if role is Role.COMPANY and not brn:
        raise _unauthorised("company token without a 'brn' claim")
    return Principal(subject=claims["sub"], role=role, business_registration_number=brn,
                     agencies=_agencies(claims, role))


def _agencies(claims: dict[str, Any], role: Role) -> frozenset[str]:
    """T1: a staff member's, evaluator's or expert's token names the agencies they act for; without them the
    token would see nothing, or (read as 'all') everything: refused either way."""
    agencies = claims.get("agencies")
    if role is Role.COMPANY:
        return frozenset()
    if not isinstance(agencies, list) or not agencies or not all(isinstance(a, str) and a for a in agencies):
        raise _unauthorised(f"{role} token without an 'agencies' claim (a list of agency ids, T1)")
    return frozenset(agencies)


bearer_scheme = HTTPBearer(auto_error=False, description="JWT with a 'role' claim, 'brn' for companies and "
                                                        "'agencies' for staff, evaluators and experts (T1)")


def authorise(credentials: HTTPAuthorizationCredentials | None, verifier: TokenVerifier,
              roles: tuple[Role, ...]) -> Principal:
    """The caller's Principal, or 401 (no or bad token) / 403 (role not allowed)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorised("a bearer token is required")
    principal = verifier.principal(credentials.credentials)
    if roles and principal.role not in roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"role {principal.role} may not do this; allowed: {', '.join(roles)}")
    return principal


def requires(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency: the caller's Principal, with one of `roles`, checked by the app's TokenVerifier
    (service_app makes it from the settings)."""

    async def dependency(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                                  Depends(bearer_scheme)]) -> Principal:
        principal = authorise(credentials, state_of(request, "token_verifier", TokenVerifier), roles)
        return principal.within(state_of(request, "settings", ServiceSettings).programs)

    return dependency
