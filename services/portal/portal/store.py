"""The portal's SQL: accounts, sessions, invitations, uploads, owners, the timeline and notices."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from portal import progress
from portal.notices import Entry, Notice
from portal.progress import Status
from portal.rows import (
    AccountRow, AgreementUpload, JobRow, NoticeRow, OpenInvite, PersonRow, SentInvite, SignedInRow, TimelineLine,
    UnsentNotice, UploadRow,
)
from sme_runtime.rows import columns, every, first

_ACCOUNT = columns(AccountRow)


NO_ADDRESS = "no account with an address"


class PortalStore:
    """The service's queries, each inside the transaction of the session it is given (one unit of work's)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def account_by_login(self, login: str, *, lock: bool = False) -> AccountRow | None:
        return first(AccountRow, await self.session.execute(text(f"SELECT {_ACCOUNT} FROM accounts WHERE login = :l"
                                                                 + (" FOR UPDATE" if lock else "")), {"l": login}))

    async def create_account(self, *, login: str, role: str, display_name: str, email: str,
                             brn: str | None, evaluator_id: str | None, password_hash: str, at: datetime,
                             invited_by: str | None, agencies: list[str]) -> int | None:
        """The new account's id, or None when the login is taken."""
        return (await self.session.execute(text(
            "INSERT INTO accounts (login, role, display_name, email, brn, evaluator_id, password_hash, created_at, "
            "invited_by, agencies) VALUES (:l, :r, :n, :e, :b, :v, :h, :at, :by, :ag) ON CONFLICT (login) DO NOTHING "
            "RETURNING account_id"),
            {"l": login, "r": role, "n": display_name, "e": email, "b": brn, "v": evaluator_id, "h": password_hash,
             "at": at, "by": invited_by, "ag": sorted(agencies)})).scalar_one_or_none()

    async def release_waiting_mail(self, recipient: str) -> None:
        """Notices that waited for someone with an address go out now that there is one."""
        await self.session.execute(text(
            "UPDATE notifications SET email_next_at = NULL, email_attempts = 0 WHERE recipient = :r "
            "AND emailed_at IS NULL AND email_error = :why"), {"r": recipient, "why": NO_ADDRESS})

    async def reset_account(self, account_id: int, *, password_hash: str, display_name: str,
                            email: str, brn: str | None, evaluator_id: str | None, agencies: list[str]) -> None:
        """A new password (and the account's details as given now); the lock and every self.session end."""
        await self.session.execute(text(
            "UPDATE accounts SET password_hash = :h, display_name = :n, email = :e, brn = :b, evaluator_id = :v, "
            "agencies = :ag, failed_signins = 0, locked_until = NULL WHERE account_id = :id"),
            {"id": account_id, "h": password_hash, "n": display_name, "e": email, "b": brn, "v": evaluator_id,
             "ag": sorted(agencies)})
        await self.close_sessions_of(account_id)

    async def record_signin(self, account_id: int, *, failed: int, locked_until: datetime | None
                            ) -> None:
        await self.session.execute(text(
            "UPDATE accounts SET failed_signins = :f, locked_until = :u WHERE account_id = :id"),
            {"id": account_id, "f": failed, "u": locked_until})

    async def accounts(self, *, agencies: list[str]) -> list[AccountRow]:
        """The accounts of `agencies` (T1: staff see their own agencies' people and the companies they invited)."""
        return every(AccountRow, await self.session.execute(text(
            f"SELECT {_ACCOUNT} FROM accounts WHERE agencies && CAST(:ag AS text[]) ORDER BY role, login"),
            {"ag": agencies}))

    async def emails_of(self, recipient: str) -> list[str]:
        """The addresses behind a recipient: company:<brn>, expert:<brn>, evaluator:<id>, operators, or one
        person's account:<account id>."""
        kind, _, key = recipient.partition(":")
        where = {"company": "role = 'company' AND brn = :k", "expert": "role = 'expert' AND brn = :k",
                 "evaluator": "role = 'evaluator' AND evaluator_id = :k", "operators": "role = 'operator'",
                 "account": "CAST(account_id AS text) = :k"}[kind]
        return list((await self.session.execute(text(f"SELECT email FROM accounts WHERE {where} ORDER BY login"),
                                                {"k": key})).scalars())

    # --- sessions -----------------------------------------------------------------------------------------

    async def open_session(self, *, token_hash: bytes, account_id: int, csrf_token: str,
                           at: datetime, expires_at: datetime) -> None:
        await self.session.execute(text(
            "INSERT INTO web_sessions (token_hash, account_id, csrf_token, created_at, last_seen_at, expires_at) "
            "VALUES (:t, :a, :c, :at, :at, :x)"), {"t": token_hash, "a": account_id, "c": csrf_token, "at": at,
                                                   "x": expires_at})

    async def signed_in(self, token_hash: bytes, now: datetime) -> SignedInRow | None:
        """The live web session and its account, or None (unknown or expired)."""
        return first(SignedInRow, await self.session.execute(text(
            f"SELECT s.created_at AS session_started_at, s.csrf_token, a.account_id, {columns(PersonRow, 'a')} "
            "FROM web_sessions s JOIN accounts a USING (account_id) WHERE s.token_hash = :t AND s.expires_at > :now"),
            {"t": token_hash, "now": now}))

    async def touch_session(self, token_hash: bytes, *, at: datetime, expires_at: datetime) -> None:
        await self.session.execute(text(
            "UPDATE web_sessions SET last_seen_at = :at, expires_at = :x WHERE token_hash = :t"),
            {"t": token_hash, "at": at, "x": expires_at})

    async def close_session(self, token_hash: bytes) -> None:
        await self.session.execute(text("DELETE FROM web_sessions WHERE token_hash = :t"), {"t": token_hash})

    async def close_sessions_of(self, account_id: int) -> None:
        await self.session.execute(text("DELETE FROM web_sessions WHERE account_id = :a"), {"a": account_id})

    # --- invitations --------------------------------------------------------------------------------------

    async def add_invite(self, *, token_hash: bytes, role: str, login: str, display_name: str,
                         email: str, brn: str | None, evaluator_id: str | None, invited_by: str, at: datetime,
                         expires_at: datetime, agencies: list[str]) -> None:
        await self.session.execute(text(
            "INSERT INTO invites (token_hash, role, login, display_name, email, brn, evaluator_id, invited_by, "
            "created_at, expires_at, agencies) VALUES (:t, :r, :l, :n, :e, :b, :v, :by, :at, :x, :ag)"),
            {"t": token_hash, "r": role, "l": login, "n": display_name, "e": email, "b": brn, "v": evaluator_id,
             "by": invited_by, "at": at, "x": expires_at, "ag": sorted(agencies)})

    async def open_invite(self, token_hash: bytes, now: datetime, *, lock: bool = False) -> OpenInvite | None:
        return first(OpenInvite, await self.session.execute(text(
            f"SELECT {columns(OpenInvite)} FROM invites WHERE token_hash = :t "
            "AND accepted_at IS NULL AND expires_at > :now" + (" FOR UPDATE" if lock else "")),
            {"t": token_hash, "now": now}))

    async def accept_invite(self, token_hash: bytes, at: datetime) -> None:
        await self.session.execute(text("UPDATE invites SET accepted_at = :at WHERE token_hash = :t"),
                                   {"t": token_hash, "at": at})

    async def invites(self, *, agencies: list[str]) -> list[SentInvite]:
        """The invitations staff of `agencies` sent (T1)."""
        return every(SentInvite, await self.session.execute(text(
            f"SELECT {columns(SentInvite)} FROM invites "
            "WHERE agencies && CAST(:ag AS text[]) ORDER BY created_at DESC LIMIT 200"), {"ag": agencies}))

    # --- uploads ------------------------------------------------------------------------------------------

    async def add_upload(self, *, upload_id: str, account_id: int, brn: str | None, filename: str,
                         media_type: str, size_bytes: int, sha256: str, at: datetime, purpose: str = "evidence",
                         agreement_id: str | None = None) -> None:
        await self.session.execute(text(
            "INSERT INTO uploads (upload_id, account_id, brn, filename, media_type, size_bytes, sha256, purpose, "
            "agreement_id, uploaded_at) VALUES (:u, :a, :b, :f, :m, :s, :h, :p, :ag, :at)"),
            {"u": upload_id, "a": account_id, "b": brn, "f": filename, "m": media_type, "s": size_bytes, "h": sha256,
             "p": purpose, "ag": agreement_id, "at": at})

    async def uploads_of_agreement(self, agreement_id: str, purpose: str) -> list[AgreementUpload]:
        return every(AgreementUpload, await self.session.execute(text(
            f"SELECT {columns(AgreementUpload)} FROM uploads WHERE agreement_id = :ag AND "
            "purpose = :p ORDER BY uploaded_at"), {"ag": agreement_id, "p": purpose}))

    async def upload(self, upload_id: str) -> UploadRow | None:
        return first(UploadRow, await self.session.execute(text(
            f"SELECT {columns(UploadRow)} FROM uploads WHERE upload_id = :u"), {"u": upload_id}))

    # --- what the events told -----------------------------------------------------------------------------

    async def own_application(self, *, application_id: str, program_id: str, brn: str,
                              company_name: str, at: datetime) -> None:
        await self.session.execute(text(
            "INSERT INTO application_owners (application_id, program_id, brn, company_name, submitted_at) "
            "VALUES (:a, :p, :b, :n, :at) ON CONFLICT (application_id) DO NOTHING"),
            {"a": application_id, "p": program_id, "b": brn, "n": company_name, "at": at})

    async def owners(self, application_ids: tuple[str, ...]) -> dict[str, tuple[str, str]]:
        rows = await self.session.execute(text(
            "SELECT application_id, brn, company_name FROM application_owners WHERE application_id = ANY(:ids)"),
            {"ids": list(application_ids)})
        return {r.application_id: (r.brn, r.company_name) for r in rows}

    async def add_entry(self, event_id: str, entry: Entry, at: datetime) -> None:
        status = entry.status
        await self.session.execute(text(
            "INSERT INTO timeline (event_id, application_id, at, stage, title, detail, status_step, status_words, "
            "status_ended) VALUES (:e, :a, :at, :s, :t, :d, :ss, :sw, :se) ON CONFLICT (event_id) DO NOTHING"),
            {"e": event_id, "a": entry.application_id, "at": at, "s": entry.stage, "t": entry.title, "d": entry.detail,
             "ss": status.step if status else None, "sw": status.words if status else None,
             "se": bool(status and status.ended)})

    async def statuses(self, application_ids: list[str]) -> dict[str, Status]:
        """Each application's one status (portal.progress), folded from its timeline in the order it happened."""
        rows = await self.session.execute(text(
            "SELECT application_id, status_step, status_words, status_ended FROM timeline "
            "WHERE application_id = ANY(:ids) AND status_step IS NOT NULL ORDER BY application_id, at, event_id"),
            {"ids": application_ids})
        found: dict[str, list[Status]] = {}
        for r in rows:
            found.setdefault(r.application_id, []).append(Status(r.status_step, r.status_words, r.status_ended))
        return {a: status for a, lines in found.items() if (status := progress.fold(lines)) is not None}

    async def timeline(self, application_id: str) -> list[TimelineLine]:
        return every(TimelineLine, await self.session.execute(text(
            f"SELECT {columns(TimelineLine)} FROM timeline WHERE application_id = :a ORDER BY at, event_id"),
            {"a": application_id}))

    async def add_notice(self, event_id: str, notice: Notice, at: datetime) -> None:
        await self.session.execute(text(
            "INSERT INTO notifications (event_id, recipient, application_id, kind, subject, body, link, created_at) "
            "VALUES (:e, :r, :a, :k, :s, :b, :l, :at) ON CONFLICT (event_id, recipient) DO NOTHING"),
            {"e": event_id, "r": notice.recipient, "a": notice.application_id, "k": notice.kind, "s": notice.subject,
             "b": notice.body, "l": notice.link, "at": at})

    async def notices_for(self, recipients: list[str], limit: int = 50) -> list[NoticeRow]:
        return every(NoticeRow, await self.session.execute(text(
            f"SELECT {columns(NoticeRow)} FROM notifications WHERE recipient = ANY(:r) "
            "ORDER BY created_at DESC, notification_id DESC LIMIT :n"), {"r": recipients, "n": limit}))

    async def unread_count(self, recipients: list[str]) -> int:
        return int((await self.session.execute(text(
            "SELECT count(*) FROM notifications WHERE recipient = ANY(:r) AND read_at IS NULL"),
            {"r": recipients})).scalar_one())

    async def mark_read(self, recipients: list[str], at: datetime) -> None:
        await self.session.execute(text(
            "UPDATE notifications SET read_at = :at WHERE recipient = ANY(:r) AND read_at IS NULL"),
            {"r": recipients, "at": at})

    async def unsent(self, now: datetime, *, limit: int, max_attempts: int) -> list[UnsentNotice]:
        """Notices waiting for their e-mail, each taken by one sender (SKIP LOCKED: several portal processes)."""
        return every(UnsentNotice, await self.session.execute(text(
            f"SELECT {columns(UnsentNotice)} FROM notifications "
            "WHERE emailed_at IS NULL AND email_attempts < :m AND (email_next_at IS NULL OR email_next_at <= :now) "
            "ORDER BY notification_id LIMIT :n FOR UPDATE SKIP LOCKED"),
            {"n": limit, "m": max_attempts, "now": now}))

    async def mark_emailed(self, notification_id: int, *, at: datetime | None, error: str | None,
                           next_at: datetime | None = None) -> None:
        await self.session.execute(text(
            "UPDATE notifications SET emailed_at = :at, email_attempts = email_attempts + 1, email_error = :err, "
            "email_next_at = :next WHERE notification_id = :id"),
            {"id": notification_id, "at": at, "err": error, "next": next_at})

    # --- long work ----------------------------------------------------------------------------------------

    async def start_job(self, *, job_id: str, kind: str, title: str, account_id: int,
                        at: datetime) -> None:
        await self.session.execute(text("INSERT INTO jobs (job_id, kind, title, account_id, status, started_at) "
                                        "VALUES (:j, :k, :t, :a, 'running', :at)"),
                                   {"j": job_id, "k": kind, "t": title, "a": account_id, "at": at})

    async def job_step(self, job_id: str, step: str, at: datetime, *, status: str | None = None,
                       link: str | None = None) -> None:
        await self.session.execute(text(
            "UPDATE jobs SET steps = steps || jsonb_build_array(jsonb_build_object('at', CAST(:at AS text), 'text', "
            "CAST(:s AS text))), status = COALESCE(:st, status), result_link = COALESCE(:l, result_link), "
            "finished_at = CASE WHEN :st IN ('done', 'failed') THEN CAST(:at AS timestamptz) ELSE finished_at END "
            "WHERE job_id = :j"), {"j": job_id, "s": step, "at": at.isoformat(), "st": status, "l": link})

    async def job(self, job_id: str) -> JobRow | None:
        return first(JobRow, await self.session.execute(text(
            f"SELECT {columns(JobRow)} FROM jobs WHERE job_id = :j"), {"j": job_id}))

    async def interrupt_jobs(self, at: datetime) -> None:
        """At start-up: work a stopped process was doing is no longer running (the page says so)."""
        await self.session.execute(text(
            "UPDATE jobs SET status = 'interrupted', finished_at = :at WHERE status = 'running'"), {"at": at})
