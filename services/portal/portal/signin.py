"""Signing in and out, invitations, and each person's notices."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from portal import notices, security, store
from portal.web import (
    Lifetime, now, posted, render, see_other, session_cookie, Settings, settings_of, signed_in,
    SIGNIN_CSRF_COOKIE, Tables, User,
)

router = APIRouter()
GENERIC_FAILURE = "아이디 또는 비밀번호가 맞지 않습니다"
HOME = {"company": "/company", "expert": "/agreements", "evaluator": "/evaluator", "operator": "/operator"}


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (an open redirect would send people to a look-alike sign-in page)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("/")
async def home(request: Request) -> Response:
    user = await signed_in(request)
    return see_other(HOME[user.role])


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    token = security.new_token()
    response = await render(request, "login.html", signin_csrf=token, next=_safe_next(next))
    _signin_cookie(request, response, token)
    return response


def _signin_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(SIGNIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login",
                        secure=settings_of(request).secure_cookies, max_age=3600)


@router.post("/login")
async def login(request: Request, tables: Tables, settings: Settings, lifetime: Lifetime) -> Response:
    form = await request.form()
    login_name = security.normalised_login(str(form.get("login", "")))
    password = str(form.get("password", ""))
    next_page = _safe_next(str(form.get("next", "")) or None)
    # The sign-in form carries a token equal to its own cookie: another site cannot post it (login CSRF)
    if not security.csrf_ok(request.cookies.get(SIGNIN_CSRF_COOKIE), str(form.get("csrf_token", ""))):
        return await _refused(request, "보안 토큰이 맞지 않습니다. 화면을 새로 고친 뒤 다시 시도해 주세요.", login_name,
                              next_page, status_code=403)
    at = now()
    lockout = security.Lockout(settings.lockout_failures, settings.lockout_minutes)
    async with tables.writing() as db:
        account = await db.account_by_login(login_name, lock=True)
        # The hash is checked for an unknown login and a locked account too, and all three get the same answer:
        # who tries names learns neither which exist nor which are locked (issue 31: a locked login answered 429,
        # an unknown one 401). The holder learns of the lock by e-mail, the moment it begins.
        matched = security.password_matches(account.password_hash if account else None, password)
        if account is not None and lockout.locked(account.locked_until, at):
            return await _refused(request, GENERIC_FAILURE, login_name, next_page, status_code=401)
        if account is None or not matched:
            if account is not None:
                failed, locked_until = lockout.after_failure(account.failed_signins, at)
                await db.record_signin(account.account_id, failed=failed, locked_until=locked_until)
                if locked_until is not None:
                    notice = notices.locked_out(account.account_id, settings.lockout_failures, locked_until)
                    await db.add_notice(f"lockout:{account.account_id}:{locked_until.isoformat()}", notice, at)
            return await _refused(request, GENERIC_FAILURE, login_name, next_page, status_code=401)
        await db.record_signin(account.account_id, failed=0, locked_until=None)
        # A new session id at every sign-in: an id planted before it (session fixation) is never the signed-in one
        token, csrf = security.new_token(), security.new_token()
        await db.open_session(token_hash=security.token_hash(token), account_id=account.account_id,
                              csrf_token=csrf, at=at, expires_at=lifetime.expires(at, at))
    response = see_other(next_page or HOME[account.role])
    response.set_cookie(session_cookie(request), token, httponly=True, samesite="lax", path="/",
                        secure=settings.secure_cookies)
    response.delete_cookie(SIGNIN_CSRF_COOKIE, path="/login")
    return response


async def _refused(request: Request, message: str, login_name: str, next_page: str | None, *,
                   status_code: int) -> Response:
    token = security.new_token()
    response = await render(request, "login.html", status_code, error=message, login=login_name,
                            signin_csrf=token, next=next_page)
    _signin_cookie(request, response, token)
    return response


@router.post("/logout")
async def logout(request: Request, tables: Tables) -> Response:
    await posted(request)
    token = request.cookies.get(session_cookie(request))
    if token:
        async with tables.writing() as db:
            await db.close_session(security.token_hash(token))
    response = see_other("/login")
    response.delete_cookie(session_cookie(request), path="/")
    return response


@router.get("/notifications")
async def notifications(request: Request, tables: Tables) -> Response:
    user = await signed_in(request)
    async with tables.writing() as db:
        rows = await db.notices_for(user.recipients, limit=200)
        await db.mark_read(user.recipients, now())
    return await render(request, "notifications.html", notices=rows)


# --- invitations ------------------------------------------------------------------------------------------

@router.get("/operator/invites")
async def invites_page(request: Request, tables: Tables) -> Response:
    user = await signed_in(request, "operator")
    async with tables.reading() as db:
        return await render(request, "invites.html", **await _people_of(db, user))


async def _people_of(db: store.PortalStore, user: User) -> dict[str, Any]:
    """T1: the invitations and accounts of the operator's agencies only."""
    mine = list(user.agencies)
    return {"invites": await db.invites(agencies=mine),
            "accounts": await db.accounts(agencies=mine)}


@router.post("/operator/invites")
async def invite(request: Request, tables: Tables, settings: Settings) -> Response:
    user, form = await posted(request, "operator")
    values = {k: str(form.get(k, "")).strip() for k in ("role", "login", "display_name", "email", "brn",
                                                        "evaluator_id")}
    problems = invite_problems(values)
    async with tables.writing() as db:
        if problems:
            return await render(request, "invites.html", 422, problems=problems, values=values,
                                **await _people_of(db, user))
        token, at = security.new_token(), now()
        login_name = values["brn"] if values["role"] == "company" else security.normalised_login(values["login"])
        await db.add_invite(token_hash=security.token_hash(token), role=values["role"], login=login_name,
                            display_name=values["display_name"], email=values["email"],
                            brn=values["brn"] or None, evaluator_id=values["evaluator_id"] or None,
                            invited_by=user.login, at=at, agencies=list(user.agencies),
                            expires_at=at + timedelta(days=settings.invite_days))
        link = f"{settings.public_url.rstrip('/')}/invite/{token}"
        return await render(request, "invites.html", created=link, **await _people_of(db, user))


def invite_problems(values: dict[str, str]) -> dict[str, str]:
    """Field → what is wrong, in Korean."""
    problems = {}
    if values["role"] not in ("company", "expert", "evaluator", "operator"):
        problems["role"] = "역할을 고르세요"
    if not values["display_name"]:
        problems["display_name"] = "이름을 입력하세요"
    if not security.EMAIL.match(values["email"]):
        problems["email"] = "이메일 주소 형식이 아닙니다"
    if values["role"] in ("company", "expert") and not security.BRN.match(values["brn"].replace("-", "")):
        problems["brn"] = "사업자등록번호 10자리를 입력하세요 (전문가는 자문할 기업의 번호)"
    values["brn"] = values["brn"].replace("-", "")
    if values["role"] == "evaluator" and not values["evaluator_id"]:
        problems["evaluator_id"] = "평가위원 풀의 ID를 입력하세요 (예: EV-01)"
    if values["role"] != "company" and not security.LOGIN.match(values["login"]):
        problems["login"] = "아이디는 영문 소문자·숫자·-·_ 3~40자입니다"
    return problems


@router.get("/invite/{token}")
async def invite_page(request: Request, tables: Tables, token: str) -> Response:
    async with tables.reading() as db:
        invite_row = await db.open_invite(security.token_hash(token), now())
    if invite_row is None:
        return await render(request, "error.html", 404, title="초대장이 없거나 만료되었습니다",
                            message="센터 담당자에게 새 초대를 요청해 주세요.")
    return await render(request, "accept_invite.html", invite=invite_row, token=token)


@router.post("/invite/{token}")
async def accept(request: Request, tables: Tables, token: str) -> Response:
    form = await request.form()
    password, again = str(form.get("password", "")), str(form.get("password_again", ""))
    at = now()
    async with tables.writing() as db:
        invite_row = await db.open_invite(security.token_hash(token), at, lock=True)
        if invite_row is None:
            return await render(request, "error.html", 404, title="초대장이 없거나 만료되었습니다",
                                message="센터 담당자에게 새 초대를 요청해 주세요.")
        problem = security.password_problem(password, invite_row.login) or (
            "두 비밀번호가 다릅니다" if password != again else None)
        if problem is None:
            created = await db.create_account(
                login=invite_row.login, role=invite_row.role, display_name=invite_row.display_name,
                email=invite_row.email, brn=invite_row.brn, evaluator_id=invite_row.evaluator_id,
                password_hash=security.hash_password(password), at=at, invited_by=invite_row.invited_by,
                agencies=list(invite_row.agencies))  # T1: the inviter's agencies
            problem = None if created else "이 아이디의 계정이 이미 있습니다. 로그인해 주세요."
            if created:
                await db.accept_invite(security.token_hash(token), at)
                await db.release_waiting_mail(notices.recipient_of(
                    invite_row.role, invite_row.brn and invite_row.brn.strip(), invite_row.evaluator_id))
        if problem:
            return await render(request, "accept_invite.html", 422, invite=invite_row, token=token, error=problem)
    return see_other("/login")
