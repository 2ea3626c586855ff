"""What every page shares: who is signed in (server-side sessions behind an HttpOnly cookie), the CSRF check of
every form post, rendering in Korean, the security headers, and the pages shown for errors."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from portal import labels, notices, security, store
from portal.config import PortalSettings
from portal.rows import SignedInRow
from portal.services import Denied, Person, Services, ServiceUnavailable
from sme_runtime.routes import Transactions, started, state_of, transactions, transactions_of

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters.update(won=labels.won, kst=labels.kst, day=labels.day, rule=labels.rule)
TEMPLATES.env.globals.update(labels=labels)
SIGNIN_CSRF_COOKIE = "sme_signin"


# What the portal set up at start, each typed and checked (sme_runtime.routes.state_of): routes take them as the
# dependencies below, the helpers every page shares read them through these accessors, given the request.
def tables_of(request: Request) -> Transactions[store.PortalStore]:
    return transactions_of(request, store.PortalStore)


def services_of(request: Request) -> Services:
    return state_of(request, "services", Services)


def settings_of(request: Request) -> PortalSettings:
    return state_of(request, "settings", PortalSettings)


def lifetime_of(request: Request) -> security.SessionLifetime:
    return state_of(request, "session_lifetime", security.SessionLifetime)


Tables = Annotated[Transactions[store.PortalStore], Depends(transactions(store.PortalStore))]
PortalServices = Annotated[Services, Depends(started("services", Services))]
Settings = Annotated[PortalSettings, Depends(started("settings", PortalSettings))]
Lifetime = Annotated[security.SessionLifetime, Depends(started("session_lifetime", security.SessionLifetime))]
Jobs = Annotated[set[Any], Depends(started("jobs", set))]  # the pages' long work running now (kept until done)
HEADERS = {
    # Every script, style and image is the portal's own (no CDN); nothing may frame it (clickjacking)
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def now() -> datetime:
    return datetime.now(timezone.utc)


def session_cookie(request: Request) -> str:
    # __Host- binds the cookie to this host and path over HTTPS; plain HTTP (development) cannot carry it
    return "__Host-sme_session" if settings_of(request).secure_cookies else "sme_session"


@dataclass(frozen=True)
class User(SignedInRow):
    """The person signed in (their session's row; `agencies`: whom a staff member, evaluator or expert acts for,
    T1), as every page sees them."""

    @classmethod
    def of(cls, row: SignedInRow) -> "User":
        signed_in = {f.name: getattr(row, f.name) for f in fields(row)}
        return cls(**{**signed_in, "brn": row.brn.strip() if row.brn else None})  # brn is char(10)

    @property
    def person(self) -> Person:
        return Person(login=self.login, role=self.role, brn=self.brn, evaluator_id=self.evaluator_id,
                      agencies=tuple(self.agencies))

    @property
    def recipients(self) -> list[str]:
        """Whose notices this person reads: their role's, and their own account's."""
        return [notices.recipient_of(self.role, self.brn, self.evaluator_id), notices.account(self.account_id)]


class SignInRequired(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, message: str = "이 화면을 볼 권한이 없습니다") -> None:
        super().__init__(message)


class CsrfRefused(Exception):
    pass


async def current_user(request: Request) -> User | None:
    if hasattr(request.state, "user"):
        return request.state.user
    token = request.cookies.get(session_cookie(request))
    user = None
    if token:
        at = now()
        lifetime = lifetime_of(request)
        async with tables_of(request).writing() as db:
            row = await db.signed_in(security.token_hash(token), at)
            if row is not None:
                await db.touch_session(security.token_hash(token), at=at,
                                       expires_at=lifetime.expires(row.session_started_at, at))
                user = User.of(row)
    request.state.user = user
    return user


async def signed_in(request: Request, *roles: str) -> User:
    """The person signed in, with one of `roles` (any role when none is given)."""
    user = await current_user(request)
    if user is None:
        raise SignInRequired()
    if roles and user.role not in roles:
        raise Forbidden()
    return user


async def posted(request: Request, *roles: str) -> tuple[User, FormData]:
    """A form post by the person signed in (with one of `roles`, any when none is given), refused unless it
    carries their session's CSRF token."""
    user = await signed_in(request, *roles)
    form = await request.form(max_part_size=settings_of(request).upload_max_bytes + 1024)
    given = form.get("csrf_token")
    if not security.csrf_ok(user.csrf_token, given if isinstance(given, str) else None):
        raise CsrfRefused()
    return user, form


async def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    user = await current_user(request)
    unread = 0
    if user is not None:
        async with tables_of(request).reading() as db:
            unread = await db.unread_count(user.recipients)
    return TEMPLATES.TemplateResponse(request, template, {"user": user, "unread": unread, **context},
                                      status_code=status_code)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def install(app) -> None:
    """Security headers on every answer, and the error pages."""

    @app.middleware("http")
    async def security_headers(request: Request, call_next) -> Response:
        response = await call_next(request)
        for name, value in HEADERS.items():
            if not (name == "Cache-Control" and request.url.path.startswith("/static/")):
                response.headers.setdefault(name, value)
        return response

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return see_other("/login?next=" + quote(target, safe=""))

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return await render(request, "error.html", 403, title="권한 없음", message=str(exc))

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _: CsrfRefused) -> Response:
        return await render(request, "error.html", 403, title="요청을 처리할 수 없습니다",
                            message="보안 토큰이 없거나 맞지 않습니다. 화면을 새로 고친 뒤 다시 시도해 주세요.")

    @app.exception_handler(Denied)
    async def _denied(request: Request, exc: Denied) -> Response:
        status = exc.answer.status if exc.answer.status in (403, 404) else 400
        message = "; ".join(f"{p.get('message')} ({labels.rule(p.get('rule', ''))})" for p in exc.answer.problems)
        return await render(request, "error.html", status, title="찾을 수 없거나 권한이 없습니다", message=message)

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(request: Request, exc: ServiceUnavailable) -> Response:
        page = await render(request, "error.html", 503, title="잠시 후 다시 시도해 주세요",
                            message=f"{exc.service} 서비스가 응답하지 않습니다. 입력한 내용은 저장되지 않았습니다.")
        page.headers["Retry-After"] = exc.retry_after or "5"  # the busy service's own estimate, passed on
        return page
