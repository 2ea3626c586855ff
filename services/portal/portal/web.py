"""What every page shares: who is signed in (server-side sessions behind an HttpOnly cookie), the CSRF check of
every form post, rendering in Korean, the security headers, and the pages shown for errors."""
from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from portal import forms, labels, notices, security, store
from portal.config import PortalSettings
from portal.rows import SignedInRow
from portal.services import Denied, Person, Services, ServiceUnavailable
from sme_runtime.routes import Transactions, started, state_of, transactions, transactions_of

log = logging.getLogger("portal.web")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters.update(won=labels.won, kst=labels.kst, day=labels.day, rule=labels.rule,
                             field=forms.field_label, plain=forms.plain_message)
TEMPLATES.env.globals.update(labels=labels, close_reasons=forms.close_reasons)
SERVICE_NAMES = {"intake": "신청 접수", "screening": "서류 검토", "evaluation": "평가", "contracts": "협약",
                 "payments": "지급"}
# The portal's own 4xx/5xx in words (issue 32: never FastAPI's JSON on a person's screen)
ERROR_PAGES = {400: ("주소가 올바르지 않습니다",
                     "필요한 값이 빠졌거나 형식이 맞지 않습니다. 메뉴에서 다시 찾아가 주세요."),
               404: ("페이지를 찾을 수 없습니다", "주소가 바뀌었거나 없는 페이지입니다."),
               405: ("이 방법으로는 열 수 없는 주소입니다", "메뉴나 화면의 단추로 다시 시도해 주세요."),
               413: ("보낸 내용이 너무 큽니다", "파일을 줄이거나 나누어 올려 주세요."),
               429: ("요청이 너무 많습니다", "잠시 후 다시 시도해 주세요."),
               500: ("처리하지 못했습니다",
                     "일시적인 문제입니다. 잠시 후 다시 시도해 주세요. 계속되면 센터에 알려 주세요.")}
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
    settings = request.app.state.settings
    return TEMPLATES.TemplateResponse(request, template, {"user": user, "unread": unread,
                                                          "portal_name": settings.name,
                                                          "operator_name": settings.operator_name, **context},
                                      status_code=status_code)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _error_page(request: Request, status_code: int) -> Response:
    title, message = ERROR_PAGES.get(status_code, ERROR_PAGES[400 if status_code < 500 else 500])
    try:
        return await render(request, "error.html", status_code, title=title, message=message)
    except Exception:  # the page's own parts (the session, the notices) are what failed: the plain page then
        return HTMLResponse(f"<!doctype html><html lang=\"ko\"><meta charset=\"utf-8\"><title>{title}</title>"
                            f"<h1>{title}</h1><p>{message}</p><p><a href=\"/\">처음 화면으로</a></p></html>",
                            status_code=status_code)


def install(app) -> None:
    """Security headers on every answer, and the error pages."""

    @app.middleware("http")
    async def security_headers(request: Request, call_next) -> Response:
        response = await call_next(request)
        for name, value in HEADERS.items():
            if not (name == "Cache-Control" and request.url.path.startswith("/static/")):
                response.headers.setdefault(name, value)
        return response

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError) -> Response:
        return await _error_page(request, 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        page = await _error_page(request, exc.status_code)
        for name, value in (exc.headers or {}).items():  # 405's Allow, 429's Retry-After
            page.headers[name] = value
        return page

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("page %s failed", request.url.path)
        return await _error_page(request, 500)

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
        message = "; ".join(labels.cited(forms.plain_message(p.get("message", "")), p.get("rule"))
                            for p in exc.answer.problems)
        return await render(request, "error.html", status, title="찾을 수 없거나 권한이 없습니다", message=message)

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(request: Request, exc: ServiceUnavailable) -> Response:
        page = await render(request, "error.html", 503, title="잠시 후 다시 시도해 주세요",
                            message=f"{SERVICE_NAMES.get(exc.service, '업무')} 시스템이 응답하지 않습니다. "
                                    "입력한 내용은 저장되지 않았습니다.")
        page.headers["Retry-After"] = exc.retry_after or "5"  # the busy service's own estimate, passed on
        return page
