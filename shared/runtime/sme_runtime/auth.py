"""Bearer tokens with a role claim (HS256 JWT). Companies act only on their own records (C9)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum

import jwt
from typing import Annotated

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


def mint_token(secret: str, *, subject: str, role: Role, brn: str | None = None,
               ttl: timedelta = timedelta(hours=8)) -> str:
    now = datetime.now(timezone.utc)
    claims = {"sub": subject, "role": role.value, "iss": ISSUER, "iat": now, "exp": now + ttl}
    if brn:
        claims["brn"] = brn
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub"]})
        role = Role(claims.get("role", ""))
    except (jwt.PyJWTError, ValueError) as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"invalid bearer token: {exc}",
                            headers={"WWW-Authenticate": "Bearer"}) from exc
    brn = claims.get("brn")
    if role is Role.COMPANY and not brn:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "company token without a 'brn' claim",
                            headers={"WWW-Authenticate": "Bearer"})
    return Principal(subject=claims["sub"], role=role, business_registration_number=brn)


bearer_scheme = HTTPBearer(auto_error=False, description="JWT with a 'role' claim (and 'brn' for companies)")


def authorise(credentials: HTTPAuthorizationCredentials | None, secret: str, roles: tuple[Role, ...]) -> Principal:
    """The caller's Principal, or 401 (no or bad token) / 403 (role not allowed)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    principal = decode_token(secret, credentials.credentials)
    if roles and principal.role not in roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"role {principal.role} may not do this; allowed: {', '.join(roles)}")
    return principal


def requires(*roles: Role):
    """A FastAPI dependency: the caller's Principal, with one of `roles`, checked against the app's settings."""

    async def dependency(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                                  Depends(bearer_scheme)]) -> Principal:
        return authorise(credentials, request.app.state.settings.jwt_secret, roles)

    return dependency
