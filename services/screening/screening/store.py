"""Screening's SQL. Every function runs inside the caller's transaction."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from screening.status import RecheckStatus, ScreeningStatus
from sme_runtime.db import as_json as _json


async def get(session: AsyncSession, application_id: str, *, lock: bool = False) -> Any:
    sql = "SELECT * FROM screenings WHERE application_id = :id" + (" FOR UPDATE" if lock else "")
    return (await session.execute(text(sql), {"id": application_id})).first()


async def insert(session: AsyncSession, *, application_id: str, program_id: str, brn: str | None, revision: int,
                 status: ScreeningStatus, submitted_at: datetime | None, at: datetime, content: dict | None,
                 required_evidence: list | None, program_version: int | None = None) -> bool:
    """A new screening row; False when the application is already known (a redelivery or a race)."""
    row = (await session.execute(text(
        "INSERT INTO screenings (application_id, program_id, brn, revision, status, submitted_at, started_at, "
        "updated_at, content, required_evidence, program_version) VALUES (:id, :p, :brn, :rev, :st, :sub, :at, :at, "
        "CAST(:content AS jsonb), CAST(:req AS jsonb), :v) ON CONFLICT DO NOTHING RETURNING 1"),
        {"id": application_id, "p": program_id, "brn": brn, "rev": revision, "st": status, "sub": submitted_at,
         "at": at, "content": _json(content), "req": _json(required_evidence), "v": program_version})).first()
    return row is not None


@dataclass(frozen=True)
class Dossier:
    """Everything `reconsider` reads about one application, fetched (and the row locked) in one round trip."""

    row: Any
    rulings: list[SimpleNamespace]  # rule, exclude, operator, reason, at — in the order given
    restrictions: list[SimpleNamespace]  # approved_on, restricted_until
    lookups: list[SimpleNamespace]


async def dossier(session: AsyncSession, application_id: str, purpose: str) -> Dossier | None:
    """The application's row (locked), its rulings and lookups of `purpose` and its company's restrictions: one
    statement instead of four, which is what a deadline-day surge pays per registry answer."""
    row = (
        await session.execute(
            text(
                "SELECT s.*, "
                "(SELECT coalesce(json_agg(json_build_object('rule', r.rule, 'exclude', r.exclude, "
                "'operator', r.operator, "
                " 'reason', r.reason, 'at', r.at) ORDER BY r.id), '[]') FROM rulings r "
                " WHERE r.application_id = s.application_id AND r.purpose = :p) AS rulings_json, "
                "(SELECT coalesce(json_agg(json_build_object('approved_on', x.approved_on, 'restricted_until', "
                " x.restricted_until)), '[]') FROM restrictions x WHERE x.brn = s.brn) AS restrictions_json, "
                "(SELECT coalesce(json_agg(json_build_object('lookup_id', l.lookup_id, 'answered_at', l.answered_at, "
                " 'verdict', l.verdict, 'findings', l.findings, 'superseded', l.superseded)), '[]') FROM lookups l "
                " WHERE l.application_id = s.application_id AND l.purpose = :p) AS lookups_json "
                "FROM screenings s WHERE s.application_id = :id FOR UPDATE OF s"
            ),
            {"id": application_id, "p": purpose},
        )
    ).first()
    if row is None:
        return None
    return Dossier(
        row=row,
        rulings=[SimpleNamespace(**{**r, "at": datetime.fromisoformat(r["at"])}) for r in _json_list(row.rulings_json)],
        restrictions=[SimpleNamespace(approved_on=date.fromisoformat(r["approved_on"]),
                                      restricted_until=date.fromisoformat(r["restricted_until"])
                                      if r["restricted_until"] else None) for r in _json_list(row.restrictions_json)],
        lookups=[SimpleNamespace(**lk) for lk in _json_list(row.lookups_json)])


def _json_list(value: Any) -> list[dict]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


async def replace_content(session: AsyncSession, application_id: str, *, revision: int, content: dict,
                          required_evidence: list, at: datetime) -> None:
    await session.execute(text(
        "UPDATE screenings SET revision = :rev, content = CAST(:content AS jsonb), "
        "required_evidence = CAST(:req AS jsonb), updated_at = :at WHERE application_id = :id"),
        {"id": application_id, "rev": revision, "content": _json(content), "req": _json(required_evidence),
         "at": at})


async def set_state(session: AsyncSession, application_id: str, *, status: ScreeningStatus, at: datetime,
                    decision: dict | None, decided_by: str | None = None, final: bool = False,
                    supplement_deadline: datetime | None = None) -> None:
    await session.execute(text(
        "UPDATE screenings SET status = :st, updated_at = :at, decision = CAST(:d AS jsonb), "
        "decided_by = COALESCE(:by, decided_by), decided_at = CASE WHEN :final THEN :at ELSE decided_at END, "
        "supplement_deadline = COALESCE(:deadline, supplement_deadline) WHERE application_id = :id"),
        {"id": application_id, "st": status, "at": at, "d": _json(decision), "by": decided_by, "final": final,
         "deadline": supplement_deadline})


async def lookups_for(session: AsyncSession, application_id: str, purpose: str) -> list[Any]:
    """Every question of one purpose asked about the application (one round trip for all four registries)."""
    return list((await session.execute(text(
        "SELECT * FROM lookups WHERE application_id = :a AND purpose = :p"),
        {"a": application_id, "p": purpose})).all())


async def add_lookups(session: AsyncSession, *, application_id: str, purpose: str, at: datetime,
                      lookups: list[tuple[str, str]], supersede_others: bool) -> None:
    """New questions (registry, lookup id) in one statement; earlier, different questions of the same purpose to
    the same registries are superseded (only looked for when the application had lookups of that purpose)."""
    registries, ids = [r for r, _ in lookups], [i for _, i in lookups]
    if supersede_others:
        await session.execute(text(
            "UPDATE lookups SET superseded = true WHERE application_id = :a AND purpose = :p "
            "AND registry = ANY(CAST(:r AS text[])) AND NOT (lookup_id = ANY(CAST(:ids AS text[])))"),
            {"a": application_id, "p": purpose, "r": registries, "ids": ids})
    await session.execute(text(
        "INSERT INTO lookups (lookup_id, application_id, purpose, registry, requested_at) "
        "SELECT i, :a, :p, r, :at FROM unnest(CAST(:ids AS text[]), CAST(:r AS text[])) AS x(i, r) "
        "ON CONFLICT DO NOTHING"), {"a": application_id, "p": purpose, "at": at, "ids": ids, "r": registries})


async def record_answer(session: AsyncSession, *, lookup_id: str, at: datetime, verdict: str, findings: list,
                        attempts: int) -> Any:
    """The first answer of a lookup wins; returns its row, or None for a repeated or unknown answer."""
    return (await session.execute(text(
        "UPDATE lookups SET answered_at = :at, verdict = :v, findings = CAST(:f AS jsonb), attempts = :n "
        "WHERE lookup_id = :id AND answered_at IS NULL RETURNING application_id, purpose, superseded"),
        {"id": lookup_id, "at": at, "v": verdict, "f": _json(findings), "n": attempts})).first()


async def lookup_known(session: AsyncSession, lookup_id: str) -> bool:
    return (await session.execute(text("SELECT 1 FROM lookups WHERE lookup_id = :id"), {"id": lookup_id})).first() \
        is not None


async def abandon_lookups(session: AsyncSession, application_id: str, purpose: str | None = None) -> None:
    """The application was decided: its unanswered lookups no longer make anyone wait."""
    await session.execute(text(
        "UPDATE lookups SET superseded = true WHERE application_id = :a AND answered_at IS NULL "
        "AND (CAST(:p AS text) IS NULL OR purpose = :p)"), {"a": application_id, "p": purpose})


async def rulings(session: AsyncSession, application_id: str, purpose: str) -> list[Any]:
    return list((await session.execute(text(
        "SELECT * FROM rulings WHERE application_id = :a AND purpose = :p ORDER BY id"),
        {"a": application_id, "p": purpose})).all())


async def add_ruling(session: AsyncSession, *, application_id: str, purpose: str, rule: str, exclude: bool,
                     operator: str, reason: str, at: datetime) -> None:
    await session.execute(text(
        "INSERT INTO rulings (application_id, purpose, rule, exclude, operator, reason, at) "
        "VALUES (:a, :p, :r, :x, :o, :reason, :at)"),
        {"a": application_id, "p": purpose, "r": rule, "x": exclude, "o": operator, "reason": reason, "at": at})


async def add_restriction(session: AsyncSession, *, brn: str, application_id: str, approved_on: date,
                          until: date | None) -> None:
    await session.execute(text(
        "INSERT INTO restrictions (brn, application_id, approved_on, restricted_until) VALUES (:b, :a, :on, :u) "
        "ON CONFLICT (brn, application_id) DO UPDATE SET approved_on = :on, restricted_until = :u"),
        {"b": brn, "a": application_id, "on": approved_on, "u": until})


async def recheck(session: AsyncSession, request_id: str, *, lock: bool = False) -> Any:
    sql = "SELECT * FROM rechecks WHERE request_id = :id" + (" FOR UPDATE" if lock else "")
    return (await session.execute(text(sql), {"id": request_id})).first()


async def add_recheck(session: AsyncSession, *, request_id: str, application_id: str, program_id: str,
                      at: datetime) -> bool:
    return (await session.execute(text(
        "INSERT INTO rechecks (request_id, application_id, program_id, requested_at, status) "
        "VALUES (:id, :a, :p, :at, 'waiting') ON CONFLICT DO NOTHING RETURNING 1"),
        {"id": request_id, "a": application_id, "p": program_id, "at": at})).first() is not None


async def set_recheck(session: AsyncSession, request_id: str, *, status: RecheckStatus, at: datetime,
                      decision: dict, final: bool) -> None:
    await session.execute(text(
        "UPDATE rechecks SET status = :st, decision = CAST(:d AS jsonb), "
        "completed_at = CASE WHEN :final THEN :at ELSE completed_at END WHERE request_id = :id"),
        {"id": request_id, "st": status, "d": _json(decision), "at": at, "final": final})


async def audit(session: AsyncSession, application_id: str, *, at: datetime, actor: str, action: str,
                detail: dict | None = None) -> None:
    await session.execute(text(
        "INSERT INTO audit (application_id, at, actor, action, detail) VALUES (:a, :at, :actor, :action, "
        "CAST(:d AS jsonb))"), {"a": application_id, "at": at, "actor": actor, "action": action, "d": _json(detail)})


async def overdue_supplements(session: AsyncSession, cutoff: datetime, limit: int = 100) -> list[str]:
    """E6: applications whose supplement deadline passed before `cutoff`, locked for this sweeper only."""
    rows = await session.execute(text(
        "SELECT application_id FROM screenings WHERE status = 'supplement-requested' AND supplement_deadline < :c "
        "ORDER BY supplement_deadline LIMIT :n FOR UPDATE SKIP LOCKED"), {"c": cutoff, "n": limit})
    return [r.application_id for r in rows]


# T1: a listing limited to the caller's agencies' programs (:programs), or to none (NULL: the service's own gauges)
_OF_PROGRAMS = "(CAST(:programs AS text[]) IS NULL OR program_id = ANY(:programs))"


async def waiting_by_registry(session: AsyncSession, *, programs: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """How many applications wait on each registry, and since when (operators' 'waiting' view)."""
    rows = await session.execute(text(
        "SELECT registry, count(DISTINCT application_id) AS applications, count(*) AS lookups, "
        "min(requested_at) AS oldest FROM lookups WHERE answered_at IS NULL AND NOT superseded AND application_id "
        f"IN (SELECT application_id FROM screenings WHERE {_OF_PROGRAMS}) GROUP BY registry"), {"programs": programs})
    return {r.registry: {"applications": r.applications, "lookups": r.lookups, "oldest_requested_at": r.oldest}
            for r in rows}


async def counts_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(text("SELECT status, count(*) AS n FROM screenings GROUP BY status"))
    return {r.status: r.n for r in rows}


async def open_reviews(session: AsyncSession, *, programs: list[str] | None = None) -> list[Any]:
    return list((await session.execute(text(
        "SELECT * FROM (SELECT application_id, 'screening' AS purpose, program_id, "
        "content->'company'->>'name' AS company_name, decision, updated_at AS since FROM screenings "
        "WHERE status = 'manual-review' UNION ALL SELECT r.application_id, 'recheck:' || r.request_id, r.program_id, "
        "s.content->'company'->>'name', r.decision, r.requested_at FROM rechecks r "
        f"JOIN screenings s USING (application_id) WHERE r.status = 'manual-review') AS open WHERE {_OF_PROGRAMS} "
        "ORDER BY since"), {"programs": programs})).all())


async def lookups_of(session: AsyncSession, application_id: str) -> list[Any]:
    return list((await session.execute(text(
        "SELECT lookup_id, purpose, registry, requested_at, answered_at, verdict, findings, attempts, superseded "
        "FROM lookups WHERE application_id = :a ORDER BY requested_at, registry"), {"a": application_id})).all())


async def audit_of(session: AsyncSession, application_id: str) -> list[Any]:
    return list((await session.execute(text(
        "SELECT at, actor, action, detail FROM audit WHERE application_id = :a ORDER BY id"),
        {"a": application_id})).all())


async def listing(session: AsyncSession, *, program_id: str | None, status: ScreeningStatus | None,
                  limit: int, programs: list[str] | None = None) -> list[Any]:
    return list((await session.execute(text(
        "SELECT application_id, program_id, brn, revision, status, submitted_at, updated_at, decided_at, "
        "decided_by, decision, supplement_deadline, content->'company'->>'name' AS company_name FROM screenings "
        "WHERE (CAST(:p AS text) IS NULL OR program_id = :p) AND (CAST(:s AS text) IS NULL OR status = :s) "
        f"AND {_OF_PROGRAMS} ORDER BY submitted_at NULLS LAST, application_id LIMIT :n"),
        {"p": program_id, "s": status, "n": limit, "programs": programs})).all())
