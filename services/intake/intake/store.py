"""Intake's tables: applications, their history, and idempotency keys."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from sme_runtime.db import as_json as _json
from sme_runtime.rows import columns, every, first

from intake.domain import LIVE, Status
from intake.rows import ApplicationRow, StoredResponse

_COLUMNS = columns(ApplicationRow)
_LIVE = "(" + ", ".join(f"'{s.value}'" for s in LIVE) + ")"


# Built once: constructing a text() clause per call parses its binds again (3% of intake's CPU at 300/s).
_INSERT_UNLESS_LIVE = text(
    "WITH a AS (INSERT INTO applications (application_id, program_id, brn, status, revision, channel, "
    "submitted_at, updated_at, content, contacts, source_system, external_reference, submitted_by, program_version) "
    "VALUES (:id, :p, :b, 'submitted', 1, :ch, :at, :at, CAST(:content AS jsonb), CAST(:contacts AS jsonb), :src, "
    f":ext, :by, :v) ON CONFLICT (program_id, brn) WHERE status IN {_LIVE} DO NOTHING RETURNING {_COLUMNS}), "
    "h AS (INSERT INTO application_history (application_id, revision, action, actor, at) "
    "SELECT application_id, 1, 'submitted', :by, :at FROM a) "
    f"SELECT {_COLUMNS} FROM a")


@dataclass(frozen=True)
class StatusMove:
    """One screening event about an application (`follow_statuses`)."""

    application_id: str
    at: datetime
    event_id: str


class IntakeStore:
    """The service's queries, each inside the transaction of the session it is given (one unit of work's)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def live_application(self, program_id: str, brn: str) -> ApplicationRow | None:
        """The company's live application in the program, locked for the rest of the transaction."""
        return first(ApplicationRow, await self.session.execute(text(
            f"SELECT {_COLUMNS} FROM applications WHERE program_id = :p AND brn = :b AND status IN {_LIVE} FOR UPDATE"),
            {"p": program_id, "b": brn}))

    async def get(self, application_id: str, *, lock: bool = False) -> ApplicationRow | None:
        return first(ApplicationRow, await self.session.execute(text(
            f"SELECT {_COLUMNS} FROM applications WHERE application_id = :id" + (" FOR UPDATE" if lock else "")),
            {"id": application_id}))

    async def by_external_reference(self, source_system: str, reference: str) -> ApplicationRow | None:
        return first(ApplicationRow, await self.session.execute(text(
            f"SELECT {_COLUMNS} FROM applications WHERE source_system = :s AND external_reference = :r"),
            {"s": source_system, "r": reference}))

    async def insert_unless_live(self, *, application_id: str, program_id: str, program_version: int,
                                 brn: str, channel: str, at: datetime, content: dict[str, Any],
                                 contacts: dict[str, Any] | None, submitted_by: str,
                                 source_system: str | None = None,
                                 external_reference: str | None = None) -> ApplicationRow | None:
        """The new application and its first history line in one statement, unless the company already has a live
        application in the program (A2's unique index): then nothing is written and None is returned. Its event
        goes through the unit of work's outbox like every other (written as the transaction commits)."""
        return first(ApplicationRow, await self.session.execute(_INSERT_UNLESS_LIVE, {
            "id": application_id, "p": program_id, "v": program_version, "b": brn, "ch": channel, "at": at,
            "content": _json(content),
            "contacts": _json(contacts) if contacts is not None else None, "src": source_system,
            "ext": external_reference, "by": submitted_by}))

    async def amend(self, application_id: str, *, content: dict[str, Any], contacts: dict[str, Any] | None,
                    at: datetime) -> int:
        """Store the new content; returns the new revision."""
        return int((
            await self.session.execute(
                text(
                    "UPDATE applications SET content = CAST(:content AS jsonb), "
                    "contacts = COALESCE(CAST(:contacts AS jsonb), contacts), "
                    "revision = revision + 1, updated_at = :at WHERE application_id = :id RETURNING revision"
                ),
                {
                    "id": application_id,
                    "content": _json(content),
                    "at": at,
                    "contacts": _json(contacts) if contacts is not None else None,
                },
            )
        ).scalar_one())

    async def set_status(self, application_id: str, status: Status, *, at: datetime,
                         reason: str | None = None) -> None:
        await self.session.execute(text(
            "UPDATE applications SET status = :s, status_reason = :r, updated_at = :at WHERE application_id = :id"),
            {"id": application_id, "s": status.value, "r": reason, "at": at})

    async def follow_statuses(self, moves: list[StatusMove], *, status: Status, only_from: tuple[Status, ...],
                              reason: str, actor: str) -> set[str]:
        """A batch of screening's events moving applications to `status` (those now in one of `only_from`), each
        with its history line, in one statement (issue 30: three statements per event were most of intake's
        share of a deadline day's statements); returns the applications known here, moved or not."""
        if not moves:
            return set()
        return set((await self.session.execute(text(
            "WITH x AS (SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:at AS timestamptz[]), CAST(:ce AS text[])) "
            "  AS x(id, at, ce)), "
            "moved AS (UPDATE applications a SET status = :st, status_reason = :reason, updated_at = x.at FROM x "
            "  WHERE a.application_id = x.id AND a.status = ANY(CAST(:from AS text[])) "
            "  RETURNING a.application_id, a.revision, x.at, x.ce), "
            "noted AS (INSERT INTO application_history (application_id, revision, action, actor, at, detail) "
            "  SELECT application_id, revision, :st, :actor, at, jsonb_build_object('ce_id', ce) FROM moved) "
            "SELECT a.application_id FROM applications a JOIN x ON a.application_id = x.id"),
            {"ids": [m.application_id for m in moves], "at": [m.at for m in moves], "ce": [m.event_id for m in moves],
             "st": status.value, "reason": reason, "from": [s.value for s in only_from], "actor": actor})).scalars())

    async def request_supplement(self, application_id: str, *, deadline: datetime,
                                 at: datetime) -> None:
        await self.session.execute(text(
            "UPDATE applications SET status = 'supplement', supplement_deadline = :d, status_reason = "
            "'SupplementRequested', updated_at = :at WHERE application_id = :id"),
            {"id": application_id, "d": deadline, "at": at})

    async def add_history(self, application_id: str, *, revision: int, action: str, actor: str,
                          at: datetime, detail: dict[str, Any] | None = None) -> None:
        await self.session.execute(text(
            "INSERT INTO application_history (application_id, revision, action, actor, at, detail) "
            "VALUES (:id, :rev, :action, :actor, :at, CAST(:detail AS jsonb))"),
            {"id": application_id, "rev": revision, "action": action, "actor": actor, "at": at,
             "detail": _json(detail) if detail is not None else None})

    async def listing(self, *, brn: str | None, program_id: str | None, status: str | None,
                      limit: int, offset: int, programs: list[str] | None = None) -> list[ApplicationRow]:
        """`programs`: only these programs' applications (T1: the caller's agencies'); None: any program."""
        clauses: list[str] = [] if programs is None else ["program_id = ANY(:programs)"]
        params: dict[str, Any] = {"limit": limit, "offset": offset, "programs": programs}
        for column, value in (("brn", brn), ("program_id", program_id), ("status", status)):
            if value is not None:
                clauses.append(f"{column} = :{column}")
                params[column] = value
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return every(ApplicationRow, await self.session.execute(text(
            f"SELECT {_COLUMNS} FROM applications {where} "
            "ORDER BY submitted_at, application_id LIMIT :limit OFFSET :offset"), params))

    async def idempotent_response(self, principal: str, key: str) -> StoredResponse | None:
        return first(StoredResponse, await self.session.execute(text(
            f"SELECT {columns(StoredResponse)} FROM idempotency_keys WHERE principal = :p AND key = :k"),
            {"p": principal, "k": key}))

    async def remember_response(self, principal: str, key: str, *, request_hash: str,
                                status_code: int, response: dict[str, Any]) -> None:
        await self.session.execute(text(
            "INSERT INTO idempotency_keys (principal, key, request_hash, status_code, response) "
            "VALUES (:p, :k, :h, :s, CAST(:r AS jsonb))"),
            {"p": principal, "k": key, "h": request_hash, "s": status_code, "r": _json(response)})
