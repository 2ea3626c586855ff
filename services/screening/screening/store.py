"""Screening's SQL. Every function runs inside the caller's transaction."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from screening.rows import (
    AnsweredLookup, ListedScreening, LookupAnswer, LookupRow, OpenReview, RecheckRow, RegistryWaiting, RestrictionLine,
    RulingLine, ScreeningRow, ScreeningState,
)
from screening.status import RecheckStatus, ScreeningStatus
from sme_runtime.audit import AuditLine, AuditTrail
from sme_runtime.db import as_json as _json
from sme_runtime.rows import columns, every, first


@dataclass(frozen=True)
class Dossier:
    """Everything `reconsider` reads about one application, its row locked (see `dossiers`)."""

    row: ScreeningRow
    rulings: list[RulingLine]  # in the order given
    restrictions: list[RestrictionLine]
    lookups: list[LookupAnswer]


def _dossier(row: dict[str, Any]) -> Dossier:
    """One row of `dossiers`: the screening's columns and its rulings, restrictions and lookups as JSON arrays."""
    rulings, restrictions, lookups = (_json_list(row.pop(k)) for k in ("rulings_json", "restrictions_json",
                                                                       "lookups_json"))
    return Dossier(
        row=ScreeningRow(**row),
        rulings=[RulingLine(**{**r, "at": datetime.fromisoformat(r["at"])}) for r in rulings],
        restrictions=[RestrictionLine(approved_on=date.fromisoformat(r["approved_on"]),
                                      restricted_until=date.fromisoformat(r["restricted_until"])
                                      if r["restricted_until"] else None) for r in restrictions],
        lookups=[LookupAnswer(**{**lk, "answered_at": _instant(lk["answered_at"])}) for lk in lookups])


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _json_list(value: Any) -> list[dict[str, Any]]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


@dataclass(frozen=True)
class StateChange:
    """What `set_states` writes of one application; None keeps the stored value (the deadline, who decided)."""

    application_id: str
    status: ScreeningStatus
    at: datetime
    decision: dict[str, Any] | None
    decided_by: str | None = None
    final: bool = False  # decided: `at` becomes its decided_at
    supplement_deadline: datetime | None = None


@dataclass(frozen=True)
class NewScreening:
    """An application taken up for screening (`insert_many`)."""

    application_id: str
    program_id: str
    program_version: int | None
    brn: str | None
    revision: int
    submitted_at: datetime | None
    content: dict[str, Any]
    required_evidence: list[Any]


@dataclass(frozen=True)
class NewLookup:
    """A question to ask a registry about an application."""

    lookup_id: str
    application_id: str
    purpose: str
    registry: str


AUDIT = AuditTrail(("application_id",))
SCREENING, LOOKUP = columns(ScreeningRow), columns(LookupRow)


# T1: a listing limited to the caller's agencies' programs (:programs), or to none (NULL: the service's own gauges)
_OF_PROGRAMS = "(CAST(:programs AS text[]) IS NULL OR program_id = ANY(:programs))"


class ScreeningStore:
    """The service's queries, each inside the transaction of the session it is given (one unit of work's)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, application_id: str, *, lock: bool = False) -> ScreeningRow | None:
        sql = f"SELECT {SCREENING} FROM screenings WHERE application_id = :id" + (" FOR UPDATE" if lock else "")
        return first(ScreeningRow, await self.session.execute(text(sql), {"id": application_id}))

    async def insert(self, *, application_id: str, program_id: str, brn: str | None, revision: int,
                     status: ScreeningStatus, submitted_at: datetime | None, at: datetime,
                     content: dict[str, Any] | None, required_evidence: list[Any] | None,
                     program_version: int | None = None) -> bool:
        """A new screening row; False when the application is already known (a redelivery or a race)."""
        row = (await self.session.execute(text(
            "INSERT INTO screenings (application_id, program_id, brn, revision, status, submitted_at, started_at, "
            "updated_at, content, required_evidence, program_version) "
            "VALUES (:id, :p, :brn, :rev, :st, :sub, :at, :at, CAST(:content AS jsonb), CAST(:req AS jsonb), :v) "
            "ON CONFLICT DO NOTHING RETURNING 1"),
            {"id": application_id, "p": program_id, "brn": brn, "rev": revision, "st": status, "sub": submitted_at,
             "at": at, "content": _json(content), "req": _json(required_evidence), "v": program_version})).first()
        return row is not None

    async def insert_many(self, screenings: list[NewScreening], *, at: datetime) -> set[str]:
        """A batch's applications taken up in one statement (issue 30: one INSERT per submission was a tenth of
        screening's CPU); returns those new here, not known already (a redelivery, a race, a withdrawal first)."""
        if not screenings:
            return set()
        rows = list({s.application_id: s for s in reversed(screenings)}.values())  # the first of twins
        return set((await self.session.execute(text(
            "INSERT INTO screenings (application_id, program_id, brn, revision, status, submitted_at, started_at, "
            "updated_at, content, required_evidence, program_version) "
            "SELECT x.id, x.p, x.brn, x.rev, :st, x.sub, :at, :at, CAST(x.content AS jsonb), CAST(x.req AS jsonb), x.v "
            "FROM unnest(CAST(:ids AS text[]), CAST(:p AS text[]), CAST(:brn AS text[]), CAST(:rev AS int[]), "
            "CAST(:sub AS timestamptz[]), CAST(:content AS text[]), CAST(:req AS text[]), CAST(:v AS int[])) "
            "AS x(id, p, brn, rev, sub, content, req, v) ORDER BY x.id "
            "ON CONFLICT DO NOTHING RETURNING application_id"),
            {"ids": [r.application_id for r in rows], "p": [r.program_id for r in rows], "brn": [r.brn for r in rows],
             "rev": [r.revision for r in rows], "st": str(ScreeningStatus.SCREENING), "at": at,
             "sub": [r.submitted_at for r in rows], "content": [_json(r.content) for r in rows],
             "req": [_json(r.required_evidence) for r in rows], "v": [r.program_version for r in rows]})).scalars())

    async def dossiers(self, application_ids: list[str], purpose: str) -> dict[str, Dossier]:
        """Several applications' dossiers (a batch of registry answers reconsiders them together, issue 28), rows
        locked in application id order so that two replicas never wait on each other in a circle.

        Two statements, on purpose: the lock first, then the read. A statement that waits for a row lock still reads
        the other tables as they were when it began, so a dossier read under the lock it waited for would miss the
        answers the lock holder just committed — two batches each answering one registry of the same application
        would both decide "still waiting" and leave it in screening for good. Under READ COMMITTED the second
        statement sees everything committed before it starts."""
        if not application_ids:
            return {}
        ids = sorted(set(application_ids))
        await self.session.execute(text(
            "SELECT application_id FROM screenings WHERE application_id = ANY(CAST(:ids AS text[])) "
            "ORDER BY application_id FOR UPDATE"), {"ids": ids})
        rows = (
            await self.session.execute(
                text(
                    f"SELECT {columns(ScreeningRow, 's')}, "
                    "(SELECT coalesce(json_agg(json_build_object('rule', r.rule, 'exclude', r.exclude, "
                    "'operator', r.operator, "
                    " 'reason', r.reason, 'at', r.at) ORDER BY r.id), '[]') FROM rulings r "
                    " WHERE r.application_id = s.application_id AND r.purpose = :p) AS rulings_json, "
                    "(SELECT coalesce(json_agg(json_build_object('approved_on', x.approved_on, 'restricted_until', "
                    " x.restricted_until)), '[]') FROM restrictions x WHERE x.brn = s.brn) AS restrictions_json, "
                    "(SELECT coalesce(json_agg(json_build_object('lookup_id', l.lookup_id, 'registry', l.registry, "
                    " 'answered_at', l.answered_at, 'verdict', l.verdict, 'findings', l.findings, "
                    " 'superseded', l.superseded)), '[]') FROM lookups l "
                    " WHERE l.application_id = s.application_id AND l.purpose = :p) AS lookups_json "
                    "FROM screenings s WHERE s.application_id = ANY(CAST(:ids AS text[]))"
                ),
                {"ids": ids, "p": purpose},
            )
        ).all()
        return {row.application_id: _dossier(dict(row._mapping)) for row in rows}

    async def replace_content(self, application_id: str, *, revision: int, content: dict[str, Any],
                              required_evidence: list[Any], at: datetime) -> None:
        await self.session.execute(text(
            "UPDATE screenings SET revision = :rev, content = CAST(:content AS jsonb), "
            "required_evidence = CAST(:req AS jsonb), updated_at = :at WHERE application_id = :id"),
            {"id": application_id, "rev": revision, "content": _json(content), "req": _json(required_evidence),
             "at": at})

    async def set_state(self, application_id: str, *, status: ScreeningStatus, at: datetime,
                        decision: dict[str, Any] | None, decided_by: str | None = None, final: bool = False,
                        supplement_deadline: datetime | None = None) -> None:
        await self.set_states([StateChange(application_id, status, at, decision, decided_by, final,
                                           supplement_deadline)])

    async def set_states(self, changes: list[StateChange]) -> None:
        """Several applications' new states in one statement (issue 28); one change per application."""
        if not changes:
            return
        await self.session.execute(text(
            "UPDATE screenings s SET status = x.st, updated_at = x.at, decision = CAST(x.d AS jsonb), "
            "decided_by = COALESCE(x.by, s.decided_by), "
            "decided_at = CASE WHEN x.final THEN x.at ELSE s.decided_at END, "
            "supplement_deadline = COALESCE(x.deadline, s.supplement_deadline) "
            "FROM unnest(CAST(:ids AS text[]), CAST(:st AS text[]), CAST(:at AS timestamptz[]), CAST(:d AS text[]), "
            "CAST(:by AS text[]), CAST(:final AS boolean[]), CAST(:deadline AS timestamptz[])) "
            "AS x(id, st, at, d, by, final, deadline) WHERE s.application_id = x.id"),
            {"ids": [c.application_id for c in changes], "st": [str(c.status) for c in changes],
             "at": [c.at for c in changes], "d": [_json(c.decision) for c in changes],
             "by": [c.decided_by for c in changes], "final": [c.final for c in changes],
             "deadline": [c.supplement_deadline for c in changes]})

    async def lookups_for(self, application_id: str, purpose: str) -> list[LookupRow]:
        """Every question of one purpose asked about the application (one round trip for all four registries)."""
        return every(LookupRow, await self.session.execute(text(
            f"SELECT {LOOKUP} FROM lookups WHERE application_id = :a AND purpose = :p"),
            {"a": application_id, "p": purpose}))

    async def supersede_lookups(self, *, application_id: str, purpose: str, registries: list[str],
                                keeping: list[str]) -> None:
        """The application's questions of `purpose` to `registries` other than `keeping` are no longer asked."""
        await self.session.execute(text(
            "UPDATE lookups SET superseded = true WHERE application_id = :a AND purpose = :p "
            "AND registry = ANY(CAST(:r AS text[])) AND NOT (lookup_id = ANY(CAST(:ids AS text[])))"),
            {"a": application_id, "p": purpose, "r": registries, "ids": keeping})

    async def insert_lookups(self, lookups: list[NewLookup], *, at: datetime) -> None:
        """New questions, of any applications, in one statement (issue 28); one asked before is left as it is."""
        if not lookups:
            return
        await self.session.execute(text(
            "INSERT INTO lookups (lookup_id, application_id, purpose, registry, requested_at) "
            "SELECT i, a, p, r, :at FROM unnest(CAST(:ids AS text[]), CAST(:apps AS text[]), CAST(:ps AS text[]), "
            "CAST(:rs AS text[])) AS x(i, a, p, r) ON CONFLICT DO NOTHING"),
            {"at": at, "ids": [lk.lookup_id for lk in lookups], "apps": [lk.application_id for lk in lookups],
             "ps": [lk.purpose for lk in lookups], "rs": [lk.registry for lk in lookups]})

    async def record_answers(self, answers: list[dict[str, Any]]) -> list[AnsweredLookup]:
        """A batch's registry answers in one statement (issue 28). The first answer of a lookup wins — an earlier one
        recorded before, or the earlier of two in `answers` (a worker that restarted mid-batch answers again); returns
        the rows answered now (lookup_id, application_id, purpose, superseded). An unknown lookup is not returned."""
        first: dict[str, dict[str, Any]] = {}
        for answer in answers:
            first.setdefault(answer["lookup_id"], answer)
        if not first:
            return []
        rows = list(first.values())
        return every(AnsweredLookup, await self.session.execute(text(
            "UPDATE lookups l SET answered_at = x.at, verdict = x.v, findings = CAST(x.f AS jsonb), attempts = x.n "
            "FROM unnest(CAST(:ids AS text[]), CAST(:at AS timestamptz[]), CAST(:v AS text[]), CAST(:f AS text[]), "
            "CAST(:n AS int[])) AS x(id, at, v, f, n) WHERE l.lookup_id = x.id AND l.answered_at IS NULL "
            f"RETURNING {columns(AnsweredLookup, 'l')}"),
            {"ids": [r["lookup_id"] for r in rows], "at": [r["at"] for r in rows], "v": [r["verdict"] for r in rows],
             "f": [_json(r["findings"]) for r in rows], "n": [r["attempts"] for r in rows]}))

    async def unknown_lookups(self, lookup_ids: list[str]) -> set[str]:
        """Those of `lookup_ids` screening never asked for."""
        if not lookup_ids:
            return set()
        known = (await self.session.execute(text("SELECT lookup_id FROM lookups WHERE lookup_id = ANY(:ids)"),
                                            {"ids": list(lookup_ids)})).scalars()
        return set(lookup_ids) - set(known)

    async def abandon_lookups(self, application_id: str, purpose: str | None = None) -> None:
        """The application was decided: its unanswered lookups no longer make anyone wait."""
        await self.session.execute(text(
            "UPDATE lookups SET superseded = true WHERE application_id = :a AND answered_at IS NULL "
            "AND (CAST(:p AS text) IS NULL OR purpose = :p)"), {"a": application_id, "p": purpose})

    async def rulings(self, application_id: str, purpose: str) -> list[RulingLine]:
        return every(RulingLine, await self.session.execute(text(
            f"SELECT {columns(RulingLine)} FROM rulings WHERE application_id = :a AND purpose = :p ORDER BY id"),
            {"a": application_id, "p": purpose}))

    async def add_ruling(self, *, application_id: str, purpose: str, rule: str, exclude: bool,
                         operator: str, reason: str, at: datetime) -> None:
        await self.session.execute(text(
            "INSERT INTO rulings (application_id, purpose, rule, exclude, operator, reason, at) "
            "VALUES (:a, :p, :r, :x, :o, :reason, :at)"),
            {"a": application_id, "p": purpose, "r": rule, "x": exclude, "o": operator, "reason": reason, "at": at})

    async def add_restriction(self, *, brn: str, application_id: str, approved_on: date,
                              until: date | None) -> None:
        await self.session.execute(text(
            "INSERT INTO restrictions (brn, application_id, approved_on, restricted_until) VALUES (:b, :a, :on, :u) "
            "ON CONFLICT (brn, application_id) DO UPDATE SET approved_on = :on, restricted_until = :u"),
            {"b": brn, "a": application_id, "on": approved_on, "u": until})

    async def recheck(self, request_id: str, *, lock: bool = False) -> RecheckRow | None:
        sql = f"SELECT {columns(RecheckRow)} FROM rechecks WHERE request_id = :id" + (" FOR UPDATE" if lock else "")
        return first(RecheckRow, await self.session.execute(text(sql), {"id": request_id}))

    async def add_recheck(self, *, request_id: str, application_id: str, program_id: str,
                          at: datetime) -> bool:
        return (await self.session.execute(text(
            "INSERT INTO rechecks (request_id, application_id, program_id, requested_at, status) "
            "VALUES (:id, :a, :p, :at, 'waiting') ON CONFLICT DO NOTHING RETURNING 1"),
            {"id": request_id, "a": application_id, "p": program_id, "at": at})).first() is not None

    async def set_recheck(self, request_id: str, *, status: RecheckStatus, at: datetime,
                          decision: dict[str, Any], final: bool) -> None:
        await self.session.execute(text(
            "UPDATE rechecks SET status = :st, decision = CAST(:d AS jsonb), "
            "completed_at = CASE WHEN :final THEN :at ELSE completed_at END WHERE request_id = :id"),
            {"id": request_id, "st": status, "d": _json(decision), "at": at, "final": final})

    async def audit(self, application_id: str, *, at: datetime, actor: str, action: str,
                    detail: dict[str, Any] | None = None) -> None:
        AUDIT.append(self.session, at=at, actor=actor, action=action, detail=detail, application_id=application_id)

    async def overdue_supplements(self, cutoff: datetime, limit: int = 100) -> list[str]:
        """E6: applications whose supplement deadline passed before `cutoff`, locked for this sweeper only."""
        rows = await self.session.execute(text(
            "SELECT application_id FROM screenings WHERE status = 'supplement-requested' AND supplement_deadline < :c "
            "ORDER BY supplement_deadline LIMIT :n FOR UPDATE SKIP LOCKED"), {"c": cutoff, "n": limit})
        return [r.application_id for r in rows]

    async def waiting_by_registry(self, *, programs: list[str] | None = None) -> dict[str, RegistryWaiting]:
        """How many applications wait on each registry, and since when (operators' 'waiting' view)."""
        rows = every(RegistryWaiting, await self.session.execute(text(
            "SELECT registry, count(DISTINCT application_id) AS applications, count(*) AS lookups, "
            "min(requested_at) AS oldest_requested_at FROM lookups "
            "WHERE answered_at IS NULL AND NOT superseded AND application_id "
            f"IN (SELECT application_id FROM screenings WHERE {_OF_PROGRAMS}) GROUP BY registry"),
            {"programs": programs}))
        return {r.registry: r for r in rows}

    async def counts_by_status(self) -> dict[str, int]:
        rows = await self.session.execute(text("SELECT status, count(*) AS n FROM screenings GROUP BY status"))
        return {r.status: r.n for r in rows}

    async def open_reviews(self, *, programs: list[str] | None = None) -> list[OpenReview]:
        return every(OpenReview, await self.session.execute(text(
            f"SELECT {columns(OpenReview)} FROM (SELECT application_id, 'screening' AS purpose, program_id, "
            "content->'company'->>'name' AS company_name, decision, updated_at AS since FROM screenings "
            "WHERE status = 'manual-review' "
            "UNION ALL SELECT r.application_id, 'recheck:' || r.request_id, r.program_id, "
            "s.content->'company'->>'name', r.decision, r.requested_at FROM rechecks r "
            f"JOIN screenings s USING (application_id) WHERE r.status = 'manual-review') AS open WHERE {_OF_PROGRAMS} "
            "ORDER BY since"), {"programs": programs}))

    async def lookups_of(self, application_id: str) -> list[LookupRow]:
        return every(LookupRow, await self.session.execute(text(
            f"SELECT {LOOKUP} FROM lookups WHERE application_id = :a ORDER BY requested_at, registry"),
            {"a": application_id}))

    async def audit_of(self, application_id: str) -> list[AuditLine]:
        return await AUDIT.of(self.session, "application_id", application_id)

    async def listing(self, *, program_id: str | None, status: ScreeningStatus | None,
                      limit: int, programs: list[str] | None = None) -> list[ListedScreening]:
        return every(ListedScreening, await self.session.execute(text(
            f"SELECT {columns(ScreeningState)}, content->'company'->>'name' AS company_name FROM screenings "
            "WHERE (CAST(:p AS text) IS NULL OR program_id = :p) AND (CAST(:s AS text) IS NULL OR status = :s) "
            f"AND {_OF_PROGRAMS} ORDER BY submitted_at NULLS LAST, application_id LIMIT :n"),
            {"p": program_id, "s": status, "n": limit, "programs": programs}))
