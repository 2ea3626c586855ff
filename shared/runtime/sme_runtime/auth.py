"""Bearer tokens with a role claim. Companies act only on their own records (C9).

Where a service is given a JWKS (`<SERVICE>_JWKS`: a file or an http(s) URL), it verifies Ed25519 (EdDSA) tokens
with those public keys only — whoever signs holds the private key, no service holds a secret that could mint a
token, and a token signed with the shared development secret is refused. Without a JWKS (development, tests) the
shared secret signs and verifies (HS256)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

ISSUER = "sme-platform"
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


def mint_token(secret: str | tuple[Ed25519PrivateKey, str], *, subject: str, role: Role, brn: str | None = None,
               ttl: timedelta = timedelta(hours=8)) -> str:
    """A token signed with the shared secret (HS256), or with a signing key and its kid (EdDSA)."""
    now = datetime.now(timezone.utc)
    claims: dict[str, Any] = {"sub": subject, "role": role.value, "iss": ISSUER, "iat": now, "exp": now + ttl}
    if brn:
        claims["brn"] = brn
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
    return Principal(subject=claims["sub"], role=role, business_registration_number=brn)


bearer_scheme = HTTPBearer(auto_error=False, description="JWT with a 'role' claim (and 'brn' for companies)")


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


def requires(*roles: Role):
    """A FastAPI dependency: the caller's Principal, with one of `roles`, checked by the app's TokenVerifier
    (service_app makes it from the settings)."""

    async def dependency(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                                  Depends(bearer_scheme)]) -> Principal:
        return authorise(credentials, request.app.state.token_verifier, roles)

    return dependency
