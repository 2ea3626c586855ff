"""Evaluation's store in memory (services/evaluation/evaluation/store.py)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from evaluation.rows import (
    CandidateRow, CompletedRecheck, DeclarationRow, EvaluatorRow, RoundRow, ScoreRow, SeatedEvaluatorRow,
)
from evaluation.status import COMMITTED
from evaluation.store import EvaluationStore, NewCandidate
from tests.fakes.unit import SERIAL, jsonb, no_database, read, read_all, row, update


class FakeEvaluationStore(EvaluationStore):
    def __init__(self) -> None:
        self.session = no_database()
        self.candidates: dict[str, Any] = {}
        self.evaluators_: dict[tuple[str, str], Any] = {}  # (agency, evaluator_id): each agency's pool (T1)
        self.rounds_: dict[str, Any] = {}
        self.seats_: dict[str, list[tuple[str, str]]] = {}
        self.declarations_: dict[tuple[str, str], Any] = {}
        self.scores_: dict[tuple[str, str], Any] = {}
        self.rechecks: dict[str, Any] = {}
        self.allowances_: dict[tuple[str, str], Any] = {}
        self.audits: list[Any] = []
        self.budget_locks: list[str] = []

    # --- candidates
    async def insert_candidates(self, candidates: list[NewCandidate], *, at: datetime) -> set[str]:
        created: set[str] = set()
        for c in candidates:
            if c.application_id in self.candidates:
                continue
            created.add(c.application_id)
            self.candidates[c.application_id] = row(
                application_id=c.application_id, program_id=c.program_id, round_id=c.round_id, brn=c.brn,
                company_name=c.company_name, facts=jsonb(c.facts), expert_grade=c.expert_grade,
                passed_at=c.passed_at, submitted_at=c.submitted_at, quantitative=c.quantitative,
                quantitative_detail=jsonb(c.quantitative_detail), planned_subsidy=c.planned_subsidy,
                status="awaiting-round" if c.round_id is None else "in-round", rank=None, qualitative=None,
                qualitative_raw=None, final=None, valid_evaluators=None, outcome=None, selected_via=None,
                selected_at=None, updated_at=at, program_version=c.program_version, call_id=c.call_id)
        return created

    async def candidate(self, application_id: str, *, lock: bool = False) -> CandidateRow | None:
        return read(CandidateRow, self.candidates.get(application_id))

    async def candidates_of_round(self, round_id: str) -> list[CandidateRow]:
        inside = [c for c in self.candidates.values() if c.round_id == round_id]
        return read_all(CandidateRow, sorted(inside, key=lambda c: (c.rank is None, c.rank or 0, c.submitted_at,
                                                                    c.application_id)))

    async def join_round(self, program_id: str, call_id: str, round_id: str, at: datetime) -> int:
        waiting = [c for c in self.candidates.values()
                   if (c.program_id, c.call_id, c.status) == (program_id, call_id, "awaiting-round")]
        for c in waiting:
            c.round_id, c.status, c.updated_at = round_id, "in-round", at
        return len(waiting)

    async def record_result(self, application_id: str, *, rank: int, qualitative, qualitative_raw, final,
                            valid_evaluators: int, outcome: str, status: str, at: datetime) -> None:
        update(self.candidates[application_id], rank=rank, qualitative=qualitative, qualitative_raw=qualitative_raw,
               final=final, valid_evaluators=valid_evaluators, outcome=outcome, status=status, updated_at=at)

    async def set_status(self, application_id: str, status: str, at: datetime, *, via: str | None = None,
                         selected_at: datetime | None = None) -> None:
        c = self.candidates[application_id]
        update(c, status=status, updated_at=at, selected_via=via or c.selected_via,
               selected_at=selected_at or c.selected_at)

    async def committed_budget(self, program_id: str, call_id: str | None = None) -> int:
        return sum(c.planned_subsidy for c in self.candidates.values()
                   if c.program_id == program_id and c.status in COMMITTED and call_id in (None, c.call_id))

    async def waitlist(self, program_id: str, call_id: str) -> list[CandidateRow]:
        waiting = [c for c in self.candidates.values()
                   if (c.program_id, c.call_id, c.status) == (program_id, call_id, "waitlisted")]
        return read_all(CandidateRow, sorted(waiting, key=lambda c: (self.rounds_[c.round_id].closed_at, c.rank)))

    # --- evaluators, rounds, seats
    async def upsert_evaluator(self, *, evaluator_id: str, agency: str, name: str, affiliation: str, kind: str,
                               fields: list[str], employers: list[dict], at: datetime, by: str) -> bool:
        created = (agency, evaluator_id) not in self.evaluators_
        before = self.evaluators_.get((agency, evaluator_id))
        self.evaluators_[(agency, evaluator_id)] = row(
            evaluator_id=evaluator_id, agency=agency, name=name, affiliation=affiliation, kind=kind,
            fields=jsonb(fields), employers=jsonb(employers), registered_at=before.registered_at if before else at,
            registered_by=before.registered_by if before else by)
        return created

    async def evaluators(self, ids: list[str] | None = None, *,
                         agencies: list[str] | None = None) -> list[EvaluatorRow]:
        pool = sorted(self.evaluators_.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        return read_all(EvaluatorRow, (e for _, e in pool if (ids is None or e.evaluator_id in ids)
                                       and (agencies is None or e.agency in agencies)))

    async def round_open_in(self, program_id: str, call_id: str) -> RoundRow | None:
        return read(RoundRow, next((r for r in self.rounds_.values()
                              if (r.program_id, r.call_id, r.status) == (program_id, call_id, "open")), None))

    async def open_rounds(self, calls: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        return {(r.program_id, r.call_id): r.round_id for r in self.rounds_.values()
                if r.status == "open" and (r.program_id, r.call_id) in calls}

    async def lock_budget(self, program_id: str) -> None:
        self.budget_locks.append(program_id)

    async def round_(self, round_id: str, *, lock: bool = False) -> RoundRow | None:
        return read(RoundRow, self.rounds_.get(round_id))

    async def insert_round(self, *, program_id: str, agency: str, call_id: str, as_of: date, at: datetime,
                           by: str) -> str:
        round_id = f"{program_id}-r{sum(r.program_id == program_id for r in self.rounds_.values()) + 1}"
        self.rounds_[round_id] = row(round_id=round_id, program_id=program_id, agency=agency, call_id=call_id,
                                    status="open",
                                    as_of=as_of, opened_at=at, opened_by=by, closed_at=None, closed_by=None)
        return round_id

    async def close_round(self, round_id: str, *, at: datetime, by: str) -> None:
        r = self.rounds_[round_id]
        r.status, r.closed_at, r.closed_by = "closed", at, by

    async def seats(self, round_id: str) -> list[SeatedEvaluatorRow]:
        agency = self.rounds_[round_id].agency
        seated = [row(role=role, **vars(self.evaluators_[(agency, e)])) for e, role in self.seats_.get(round_id, [])
                  if (agency, e) in self.evaluators_]
        return read_all(SeatedEvaluatorRow, sorted(seated, key=lambda s: (s.role, s.evaluator_id)))

    async def replace_seats(self, round_id: str, members: list[tuple[str, str]]) -> None:
        self.seats_[round_id] = list(members)

    # --- declarations and scores
    def _in_round(self, application_id: str, round_id: str) -> bool:
        return self.candidates[application_id].round_id == round_id

    async def declarations(self, round_id: str) -> list[DeclarationRow]:
        return read_all(DeclarationRow, (d for (a, _), d in self.declarations_.items() if self._in_round(a, round_id)))

    async def declare(self, *, application_id: str, evaluator_id: str, conflicted: bool, relation: str | None,
                      detail: str | None, at: datetime) -> None:
        self.declarations_[(application_id, evaluator_id)] = row(
            application_id=application_id, evaluator_id=evaluator_id, conflicted=conflicted, relation=relation,
            detail=detail, declared_at=at)

    async def scores(self, round_id: str) -> list[ScoreRow]:
        return read_all(ScoreRow, (s for (a, e), s in sorted(self.scores_.items()) if self._in_round(a, round_id)))

    async def save_score(self, *, application_id: str, evaluator_id: str, levels: dict, raw_total: int, normalised,
                         at: datetime) -> int:
        before = self.scores_.get((application_id, evaluator_id))
        self.scores_[(application_id, evaluator_id)] = row(
            application_id=application_id, evaluator_id=evaluator_id, levels=jsonb(levels), raw_total=raw_total,
            normalised=normalised, submitted_at=at, revisions=before.revisions + 1 if before else 1)
        return self.scores_[(application_id, evaluator_id)].revisions

    async def scored_evaluators(self, round_id: str) -> set[str]:
        return {s.evaluator_id for s in await self.scores(round_id)}

    # --- re-checks, allowances, audit
    async def add_recheck(self, *, request_id: str, application_id: str, via: str, at: datetime) -> None:
        self.rechecks[request_id] = row(request_id=request_id, application_id=application_id, via=via,
                                        requested_at=at, completed_at=None, outcome=None)

    async def complete_recheck(self, request_id: str, *, outcome: str, at: datetime) -> CompletedRecheck | None:
        r = self.rechecks.get(request_id)
        if r is None or r.completed_at is not None:
            return None
        r.completed_at, r.outcome = at, outcome
        return CompletedRecheck(application_id=r.application_id, via=r.via)

    async def recheck_known(self, request_id: str) -> bool:
        return request_id in self.rechecks

    async def allowance_paid_in_program(self, program_id: str, evaluator_id: str) -> int:
        return sum(a.amount for a in self.allowances_.values()
                   if (a.program_id, a.evaluator_id) == (program_id, evaluator_id))

    async def add_allowance(self, *, round_id: str, evaluator_id: str, program_id: str, applications_scored: int,
                            amount: int) -> None:
        key = (round_id, evaluator_id)
        if key in self.allowances_:
            raise AssertionError(f"allowances: duplicate key {key}")  # the primary key refuses it
        self.allowances_[key] = row(round_id=round_id, evaluator_id=evaluator_id, program_id=program_id,
                                   applications_scored=applications_scored, amount=amount)

    async def audit(self, *, at: datetime, actor: str, action: str, round_id: str | None = None,
                    application_id: str | None = None, detail: dict | None = None) -> None:
        self.audits.append(row(id=next(SERIAL), round_id=round_id, application_id=application_id, at=at, actor=actor,
                               action=action, detail=jsonb(detail)))
