"""Evaluation's SQL. Every function runs inside the caller's transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, text
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.rows import (
    AllowanceRow, CandidateRow, CompletedRecheck, DeclarationRow, EvaluatorRow, ListedCandidate, RechecksWaiting,
    RoundRow, ScoreRow, SeatedEvaluatorRow,
)
from evaluation.status import COMMITTED, CandidateStatus
from sme_runtime.audit import AuditLine, AuditTrail
from sme_runtime.db import as_json as _json
from sme_runtime.rows import columns, known, returns_row, select_all, select_one


# --- candidates --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewCandidate:
    """An application that passed screening, document-scored (Q1–Q7), to be stored as a candidate."""

    application_id: str
    program_id: str
    round_id: str | None  # the call's open round, or None: it waits for one
    brn: str
    company_name: str
    facts: dict[str, Any]
    expert_grade: str | None
    passed_at: datetime
    submitted_at: datetime
    quantitative: int
    quantitative_detail: dict[str, Any]
    planned_subsidy: int
    program_version: int | None = None
    call_id: str = "main"


AUDIT = AuditTrail(("round_id", "application_id"))
CANDIDATE, ROUND = columns(CandidateRow), columns(RoundRow)


class EvaluationStore:
    """The service's queries, each inside the transaction of the session it is given (one unit of work's)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_candidates(self, candidates: list[NewCandidate], *, at: datetime) -> set[str]:
        """A batch's candidates in one statement (issue 28); returns the ids stored now. One known already (a
        redelivery), or the second of two in `candidates`, is left as it is."""
        first: dict[str, NewCandidate] = {}
        for c in candidates:
            first.setdefault(c.application_id, c)
        if not first:
            return set()
        rows = list(first.values())
        created = await self.session.execute(text("""
            INSERT INTO candidates (application_id, program_id, round_id, brn, company_name, facts, expert_grade,
                passed_at, submitted_at, quantitative, quantitative_detail, planned_subsidy, status, updated_at,
                program_version, call_id)
            SELECT id, p, r, brn, name, CAST(facts AS jsonb), grade, passed, sub, q, CAST(qd AS jsonb), planned,
                CASE WHEN r IS NULL THEN 'awaiting-round' ELSE 'in-round' END, :at, v, c
            FROM unnest(CAST(:id AS text[]), CAST(:p AS text[]), CAST(:r AS text[]), CAST(:brn AS text[]),
                CAST(:name AS text[]), CAST(:facts AS text[]), CAST(:grade AS text[]), CAST(:passed AS timestamptz[]),
                CAST(:sub AS timestamptz[]), CAST(:q AS int[]), CAST(:qd AS text[]), CAST(:planned AS bigint[]),
                CAST(:v AS int[]), CAST(:c AS text[])) AS x(id, p, r, brn, name, facts, grade, passed, sub, q, qd,
                planned, v, c)
            ON CONFLICT DO NOTHING RETURNING application_id"""),
            {"at": at, "id": [c.application_id for c in rows], "p": [c.program_id for c in rows],
             "r": [c.round_id for c in rows], "brn": [c.brn for c in rows], "name": [c.company_name for c in rows],
             "facts": [_json(c.facts) for c in rows], "grade": [c.expert_grade for c in rows],
             "passed": [c.passed_at for c in rows], "sub": [c.submitted_at for c in rows],
             "q": [c.quantitative for c in rows], "qd": [_json(c.quantitative_detail) for c in rows],
             "planned": [c.planned_subsidy for c in rows], "v": [c.program_version for c in rows],
             "c": [c.call_id for c in rows]})
        return set(created.scalars())

    async def candidate(self, application_id: str, *, lock: bool = False) -> CandidateRow | None:
        return await select_one(self.session, CandidateRow, f"SELECT {CANDIDATE} FROM candidates "
                                "WHERE application_id = :id" + (" FOR UPDATE" if lock else ""), id=application_id)

    async def known_candidate(self, application_id: str, *, lock: bool = False) -> CandidateRow:
        """A candidate this service's own rows name (a re-check's, one just found): its absence is a bug."""
        return known(await self.candidate(application_id, lock=lock),
                     f"candidate {application_id}, named by evaluation's own rows,")

    async def candidates_of_round(self, round_id: str) -> list[CandidateRow]:
        return await select_all(self.session, CandidateRow, f"SELECT {CANDIDATE} FROM candidates WHERE round_id = :r "
                                "ORDER BY rank NULLS LAST, submitted_at, application_id", r=round_id)

    async def join_round(self, program_id: str, call_id: str, round_id: str, at: datetime) -> int:
        """Candidates of the program's call that waited for a round join it (K1)."""
        joined = await self.session.execute(text(
            "UPDATE candidates SET round_id = :r, status = 'in-round', updated_at = :at "
            "WHERE program_id = :p AND call_id = :c AND status = 'awaiting-round'"),
            {"r": round_id, "p": program_id, "c": call_id, "at": at})
        return cast(CursorResult[Any], joined).rowcount

    async def record_result(self, application_id: str, *, rank: int, qualitative: Decimal | None,
                            qualitative_raw: Decimal | None, final: Decimal | None, valid_evaluators: int,
                            outcome: str, status: CandidateStatus, at: datetime) -> None:
        await self.session.execute(text(
            "UPDATE candidates SET rank = :rank, qualitative = :q, qualitative_raw = :raw, final = :f, "
            "valid_evaluators = :n, outcome = :o, status = :st, updated_at = :at WHERE application_id = :id"),
            {"id": application_id, "rank": rank, "q": qualitative, "raw": qualitative_raw, "f": final,
             "n": valid_evaluators, "o": outcome, "st": status, "at": at})

    async def set_status(self, application_id: str, status: CandidateStatus, at: datetime, *,
                         via: str | None = None, selected_at: datetime | None = None) -> None:
        await self.session.execute(text(
            "UPDATE candidates SET status = :st, updated_at = :at, selected_via = COALESCE(:via, selected_via), "
            "selected_at = COALESCE(:sel, selected_at) WHERE application_id = :id"),
            {"id": application_id, "st": status, "at": at, "via": via, "sel": selected_at})

    async def committed_budget(self, program_id: str, call_id: str | None = None) -> int:
        """What the selected (and those being re-checked) hold of the program's budget, or of one call's (K1)."""
        return int((
            await self.session.execute(
                text(
                    "SELECT CAST(COALESCE(sum(planned_subsidy), 0) AS bigint) FROM candidates "
                    "WHERE program_id = :p AND status = ANY(:st) AND (CAST(:c AS text) IS NULL OR call_id = :c)"
                ),
                {"p": program_id, "st": [s.value for s in COMMITTED], "c": call_id},
            )
        ).scalar_one())

    async def waitlist(self, program_id: str, call_id: str) -> list[CandidateRow]:
        """F5: the waitlist of a program's call (K1), earlier rounds first, then by rank."""
        return await select_all(self.session, CandidateRow, f"""
            SELECT {columns(CandidateRow, "c")} FROM candidates c JOIN rounds r USING (round_id)
            WHERE c.program_id = :p AND c.call_id = :c AND c.status = 'waitlisted'
            ORDER BY r.closed_at, c.rank FOR UPDATE OF c""", p=program_id, c=call_id)

    async def counts_by_status(self) -> dict[str, int]:
        rows = (await self.session.execute(text("SELECT status, count(*) FROM candidates GROUP BY status"))).all()
        return {str(status): int(n) for status, n in rows}

    async def listing(self, *, program_id: str | None, status: CandidateStatus | None,
                      limit: int, programs: list[str] | None = None) -> list[ListedCandidate]:
        """`programs`: only these programs' candidates (T1: the caller's agencies'); None: any."""
        return await select_all(self.session, ListedCandidate, f"""
            SELECT {columns(ListedCandidate)} FROM candidates
            WHERE (CAST(:p AS text) IS NULL OR program_id = :p) AND (CAST(:st AS text) IS NULL OR status = :st)
              AND (CAST(:programs AS text[]) IS NULL OR program_id = ANY(:programs))
            ORDER BY program_id, round_id NULLS LAST, rank NULLS LAST, passed_at LIMIT :limit""",
            p=program_id, st=status, limit=limit, programs=programs)

    # --- evaluators, rounds, seats ----------------------------------------------------------------------------

    async def upsert_evaluator(self, *, evaluator_id: str, agency: str, name: str, affiliation: str,
                               kind: str, fields: list[str], employers: list[dict[str, Any]], at: datetime,
                               by: str) -> bool:
        """Add or update an entry of `agency`'s pool (employers change over time, F6); True when it is new. Another
        agency's entry of the same person is its own (T1)."""
        created = (await self.session.execute(text("""
            INSERT INTO evaluators (evaluator_id, agency, name, affiliation, kind, fields, employers, registered_at,
                                    registered_by)
            VALUES (:id, :agency, :name, :aff, :kind, CAST(:fields AS jsonb), CAST(:emp AS jsonb), :at, :by)
            ON CONFLICT (agency, evaluator_id) DO UPDATE SET name = :name, affiliation = :aff, kind = :kind,
                fields = CAST(:fields AS jsonb), employers = CAST(:emp AS jsonb)
            RETURNING (xmax = 0) AS created"""),
            {"id": evaluator_id, "agency": agency, "name": name, "aff": affiliation, "kind": kind,
             "fields": _json(fields), "emp": _json(employers), "at": at, "by": by})).scalar_one()
        return bool(created)

    async def evaluators(self, ids: list[str] | None = None, *,
                         agencies: list[str] | None = None) -> list[EvaluatorRow]:
        """The pool, or the entries `ids`; `agencies`: only their pools' (T1)."""
        return await select_all(self.session, EvaluatorRow,
            f"SELECT {columns(EvaluatorRow)} FROM evaluators WHERE (CAST(:all AS boolean) OR evaluator_id = ANY(:ids)) "
            "AND (CAST(:agencies AS text[]) IS NULL OR agency = ANY(:agencies)) "
            "ORDER BY evaluator_id, agency", all=ids is None, ids=ids or [], agencies=agencies)

    async def round_open_in(self, program_id: str, call_id: str) -> RoundRow | None:
        """The call's round that is open now, if any (handlers.open_round opens one)."""
        return await select_one(self.session, RoundRow, f"SELECT {ROUND} FROM rounds "
                                "WHERE program_id = :p AND call_id = :c AND status = 'open'", p=program_id, c=call_id)

    async def open_rounds(self, calls: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The round open now in each of several (program, call)s, by (program, call); a call with none is absent."""
        if not calls:
            return {}
        rows = (await self.session.execute(text("""
            SELECT program_id, call_id, round_id FROM rounds
            WHERE status = 'open' AND (program_id, call_id) IN (
                SELECT p, c FROM unnest(CAST(:p AS text[]), CAST(:c AS text[])) AS x(p, c))"""),
            {"p": [p for p, _ in calls], "c": [c for _, c in calls]})).all()
        return {(str(program_id), str(call_id)): str(round_id) for program_id, call_id, round_id in rows}

    async def lock_budget(self, program_id: str) -> None:
        """Everything that moves a program's budget takes this lock first (handlers' module docstring says why)."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:p))"), {"p": f"budget:{program_id}"})

    async def round_(self, round_id: str, *, lock: bool = False) -> RoundRow | None:
        return await select_one(self.session, RoundRow, f"SELECT {ROUND} FROM rounds WHERE round_id = :r"
                                + (" FOR UPDATE" if lock else ""), r=round_id)

    async def rounds(self, *, seated: str | None = None, programs: list[str] | None = None) -> list[RoundRow]:
        """Every round, or those where the evaluator `seated` holds a seat; `programs`: only theirs (T1)."""
        return await select_all(self.session, RoundRow,
            f"SELECT {columns(RoundRow, 'r')} FROM rounds r WHERE (CAST(:e AS text) IS NULL OR EXISTS (SELECT 1 FROM "
            "seats s WHERE s.round_id = r.round_id AND s.evaluator_id = :e)) AND "
            "(CAST(:programs AS text[]) IS NULL OR r.program_id = ANY(:programs)) "
            "ORDER BY opened_at", e=seated, programs=programs)

    async def insert_round(self, *, program_id: str, agency: str, call_id: str, as_of: date,
                           at: datetime, by: str) -> str:
        number = (await self.session.execute(text("SELECT count(*) FROM rounds WHERE program_id = :p"),
                                             {"p": program_id})).scalar_one() + 1
        round_id = f"{program_id}-r{number}"
        await self.session.execute(
            text(
                "INSERT INTO rounds (round_id, program_id, agency, call_id, status, as_of, opened_at, opened_by) "
                "VALUES (:r, :p, :agency, :c, 'open', :as_of, :at, :by)"
            ),
            {"r": round_id, "p": program_id, "agency": agency, "c": call_id, "as_of": as_of, "at": at, "by": by},
        )
        return round_id

    async def close_round(self, round_id: str, *, at: datetime, by: str) -> None:
        await self.session.execute(text("UPDATE rounds SET status = 'closed', closed_at = :at, closed_by = :by "
                                        "WHERE round_id = :r"), {"r": round_id, "at": at, "by": by})

    async def seats(self, round_id: str) -> list[SeatedEvaluatorRow]:
        # T1: a seat is held by an entry of the round's agency's pool
        return await select_all(self.session, SeatedEvaluatorRow,
            f"SELECT s.role, {columns(EvaluatorRow, 'e')} FROM seats s JOIN rounds r USING (round_id) "
            "JOIN evaluators e ON e.evaluator_id = s.evaluator_id AND e.agency = r.agency "
            "WHERE s.round_id = :r ORDER BY s.role, e.evaluator_id", r=round_id)

    async def replace_seats(self, round_id: str, members: list[tuple[str, str]]) -> None:
        await self.session.execute(text("DELETE FROM seats WHERE round_id = :r"), {"r": round_id})
        for evaluator_id, role in members:
            await self.session.execute(text("INSERT INTO seats (round_id, evaluator_id, role) VALUES (:r, :e, :role)"),
                                       {"r": round_id, "e": evaluator_id, "role": role})

    # --- declarations and scores ----------------------------------------------------------------------------

    async def declarations(self, round_id: str) -> list[DeclarationRow]:
        return await select_all(self.session, DeclarationRow, f"SELECT {columns(DeclarationRow, 'd')} "
                                "FROM declarations d JOIN candidates c USING (application_id) WHERE c.round_id = :r",
                                r=round_id)

    async def declare(self, *, application_id: str, evaluator_id: str, conflicted: bool,
                      relation: str | None, detail: str | None, at: datetime) -> None:
        await self.session.execute(text("""
            INSERT INTO declarations (application_id, evaluator_id, conflicted, relation, detail, declared_at)
            VALUES (:a, :e, :c, :rel, :d, :at) ON CONFLICT (application_id, evaluator_id)
            DO UPDATE SET conflicted = :c, relation = :rel, detail = :d, declared_at = :at"""),
            {"a": application_id, "e": evaluator_id, "c": conflicted, "rel": relation, "d": detail, "at": at})

    async def scores(self, round_id: str) -> list[ScoreRow]:
        return await select_all(self.session, ScoreRow, f"SELECT {columns(ScoreRow, 's')} FROM scores s "
                                "JOIN candidates c USING (application_id) WHERE c.round_id = :r "
                                "ORDER BY s.application_id, s.evaluator_id", r=round_id)

    async def save_score(self, *, application_id: str, evaluator_id: str, levels: dict[str, Any], raw_total: int,
                         normalised: Decimal, at: datetime) -> int:
        """The evaluator's sheet for the application; a second submission before the close replaces it."""
        return int((await self.session.execute(text("""
            INSERT INTO scores (application_id, evaluator_id, levels, raw_total, normalised, submitted_at)
            VALUES (:a, :e, CAST(:l AS jsonb), :raw, :n, :at) ON CONFLICT (application_id, evaluator_id)
            DO UPDATE SET levels = CAST(:l AS jsonb), raw_total = :raw, normalised = :n, submitted_at = :at,
                          revisions = scores.revisions + 1
            RETURNING revisions"""),
            {"a": application_id, "e": evaluator_id, "l": _json(levels), "raw": raw_total, "n": normalised,
             "at": at})).scalar_one())

    async def scored_evaluators(self, round_id: str) -> set[str]:
        return {r.evaluator_id for r in await self.scores(round_id)}

    # --- re-checks, allowances, audit -------------------------------------------------------------------------

    async def add_recheck(self, *, request_id: str, application_id: str, via: str, at: datetime) -> None:
        await self.session.execute(
            text("INSERT INTO rechecks (request_id, application_id, via, requested_at) VALUES (:id, :a, :via, :at)"),
            {"id": request_id, "a": application_id, "via": via, "at": at},
        )

    async def complete_recheck(self, request_id: str, *, outcome: str, at: datetime) -> CompletedRecheck | None:
        """The first answer wins; None for an unknown or repeated one."""
        return await select_one(self.session, CompletedRecheck, "UPDATE rechecks SET completed_at = :at, outcome = :o "
                                "WHERE request_id = :id AND completed_at IS NULL "
                                f"RETURNING {columns(CompletedRecheck)}", id=request_id, o=outcome, at=at)

    async def recheck_known(self, request_id: str) -> bool:
        return await returns_row(self.session, "SELECT 1 FROM rechecks WHERE request_id = :id", id=request_id)

    async def rechecks_waiting(self) -> RechecksWaiting:
        waiting = await select_one(self.session, RechecksWaiting, "SELECT count(*) AS n, min(requested_at) AS oldest "
                                   "FROM rechecks WHERE completed_at IS NULL")
        assert waiting is not None  # an aggregate without GROUP BY always answers one row
        return waiting

    async def allowance_paid_in_program(self, program_id: str, evaluator_id: str) -> int:
        return int((await self.session.execute(text(
            "SELECT CAST(COALESCE(sum(amount), 0) AS bigint) FROM allowances "
            "WHERE program_id = :p AND evaluator_id = :e"),
            {"p": program_id, "e": evaluator_id})).scalar_one())

    async def add_allowance(self, *, round_id: str, evaluator_id: str, program_id: str,
                            applications_scored: int, amount: int) -> None:
        await self.session.execute(text(
            "INSERT INTO allowances (round_id, evaluator_id, program_id, applications_scored, amount) "
            "VALUES (:r, :e, :p, :n, :amount)"),
            {"r": round_id, "e": evaluator_id, "p": program_id, "n": applications_scored, "amount": amount})

    async def allowances(self, round_id: str) -> list[AllowanceRow]:
        return await select_all(self.session, AllowanceRow, f"SELECT {columns(AllowanceRow)} FROM allowances "
                                "WHERE round_id = :r ORDER BY evaluator_id", r=round_id)

    async def audit(self, *, at: datetime, actor: str, action: str, round_id: str | None = None,
                    application_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
        AUDIT.append(self.session, at=at, actor=actor, action=action, detail=detail, round_id=round_id,
                     application_id=application_id)

    async def audit_of(self, application_id: str) -> list[AuditLine]:
        return await AUDIT.of(self.session, "application_id", application_id)
