"""Closing a round, decided before anything is written (F1–F4, F7): the pure step of handlers.close_round.

It takes the round as the rules see it (RoundView), the applications in it, the budget of their call still free and
what each evaluator was already owed in the program; it returns the ranking, each application's outcome, the
allowances and the events to publish. The handler reads those inputs, calls `close`, then writes the result."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from evaluation.committee import SeatRole, allowance
from evaluation.ranking import Candidate, Ranked, rank, select
from evaluation.rounds import RoundView
from evaluation.scoring import QualitativeScore, publish, qualitative_score
from evaluation.status import CandidateStatus
from sme_runtime.problems import Problem, RuleViolation
from sme_schemas.evaluation import EvaluatorAllowanceDue, Outcome, RankedApplication, ScoresFinalized
from sme_programs import ProgramDefinition


@dataclass(frozen=True)
class Allowance:
    """F7: what one seated evaluator is owed for the round (0 for center staff or past the cap)."""

    evaluator_id: str
    evaluator_name: str
    applications_scored: int
    amount: int


@dataclass(frozen=True)
class RoundClosing:
    """Everything closing the round decides."""

    program_id: str
    round_id: str
    budget: int  # the call's budget (K1, F4)
    available: int  # what of it was still free
    ranking: list[Ranked]
    outcomes: dict[str, Outcome]
    qualitative: dict[str, QualitativeScore]
    allowances: list[Allowance]

    def selected(self) -> list[str]:
        return [r.application_id for r in self.ranking if self.outcomes[r.application_id] is Outcome.SELECTED]

    def status_of(self, application_id: str) -> CandidateStatus:
        """A selected application waits on its X11 re-check before it counts as selected."""
        outcome = self.outcomes[application_id]
        return CandidateStatus.RECHECKING if outcome is Outcome.SELECTED else CandidateStatus(outcome.value)

    def scores_finalized(self, at: datetime) -> ScoresFinalized:
        return ScoresFinalized(program_id=self.program_id, occurred_at=at, round_id=self.round_id, closed_at=at,
                               budget=self.budget, ranking=tuple(self._ranked(r) for r in self.ranking))

    def allowances_due(self, at: datetime) -> list[EvaluatorAllowanceDue]:
        return [EvaluatorAllowanceDue(program_id=self.program_id, occurred_at=at, round_id=self.round_id,
                                      evaluator_id=a.evaluator_id, evaluator_name=a.evaluator_name,
                                      applications_scored=a.applications_scored, amount=a.amount)
                for a in self.allowances if a.amount]

    def _ranked(self, r: Ranked) -> RankedApplication:
        q = self.qualitative[r.application_id]
        return RankedApplication(rank=r.rank, application_id=r.application_id, company_name=r.candidate.company_name,
                                 quantitative=r.quantitative, qualitative=r.qualitative, final=r.final,
                                 planned_subsidy=r.candidate.planned_subsidy,
                                 outcome=self.outcomes[r.application_id], qualitative_raw=publish(q.raw_mean),
                                 valid_evaluators=q.evaluators)


def close(program: ProgramDefinition, view: RoundView, in_round: Mapping[str, Any], *, round_id: str, budget: int,
          committed: int, paid_in_program: Mapping[str, int]) -> RoundClosing:
    """`in_round`: the round's applications (application id → candidate row with company_name, quantitative,
    planned_subsidy, submitted_at); `committed`: what selections already hold of the call's `budget`;
    `paid_in_program`: each evaluator's allowances in the program's earlier rounds. Refused (S3) while an
    application lacks valid scores."""
    if problems := view.close_problems():
        raise RuleViolation(*problems, status_code=409)
    conflicts = view.conflicts()
    qualitative = {a: q for a in in_round
                   if (q := qualitative_score(view.valid_scores(a, conflicts), program.committee_min)) is not None}
    if short := sorted(in_round.keys() - qualitative.keys()):  # S3: close_problems() names these first
        raise RuleViolation(*(Problem("applications", "S3", f"{a} has fewer than {program.committee_min} valid scores")
                              for a in short), status_code=409)
    ranking = rank([Candidate(application_id=a, company_name=c.company_name, quantitative=c.quantitative,
                              qualitative=qualitative[a], planned_subsidy=c.planned_subsidy,
                              submitted_at=c.submitted_at) for a, c in in_round.items()],
                   quantitative_weight_percent=program.quantitative_weight_percent, pass_mark=program.pass_mark)
    available = budget - committed
    return RoundClosing(program_id=program.program_id, round_id=round_id, budget=budget, available=available,
                        ranking=ranking, outcomes=select(ranking, available), qualitative=qualitative,
                        allowances=allowances(program, view, paid_in_program))


def allowances(program: ProgramDefinition, view: RoundView, paid_in_program: Mapping[str, int]) -> list[Allowance]:
    """F7: per seated evaluator (not the secretary), the applications whose score counted; capped per program
    across its rounds."""
    conflicts, owed = view.conflicts(), []
    for seat in view.seats:
        if seat.role is SeatRole.SECRETARY:
            continue
        e = seat.evaluator
        scored = sum((e.evaluator_id, a.application_id) in view.scores
                     and (e.evaluator_id, a.application_id) not in conflicts for a in view.applicants)
        amount = allowance(scored, kind=e.kind, per_application=program.evaluator_allowance_per_application,
                           cap=program.evaluator_allowance_cap,
                           already_in_program=paid_in_program.get(e.evaluator_id, 0))
        owed.append(Allowance(e.evaluator_id, e.name, scored, amount))
    return owed
