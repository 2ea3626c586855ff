"""What evaluation's routes answer (response models; sme_runtime.views). Scores and totals are published with four
decimals, as text (S2)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from evaluation.committee import Kind, SeatRole
from evaluation.status import CandidateStatus, RoundStatus
from sme_runtime.views import AuditEntry, ProblemView, View

Score = str  # a published decimal, four places: "80.0000"


class EmploymentView(View):
    brn: str
    name: str
    since: date | None = None
    until: date | None = None


class EvaluatorView(View):
    evaluator_id: str
    agency: str = Field(description="T1: whose pool this entry is in")
    name: str
    affiliation: str
    kind: Kind
    fields: list[str]
    employers: list[EmploymentView]


class RoundSummary(View):
    round_id: str
    program_id: str
    status: RoundStatus
    opened_at: datetime
    closed_at: datetime | None


class SeatView(View):
    evaluator_id: str
    name: str
    role: SeatRole
    kind: Kind
    fields: list[str]


class ConflictView(View):
    evaluator_id: str
    reason: str = Field(description="F6: employer | former-employer | expert | competitor | declared")
    detail: str


class Result(View):
    """An application's scores and, once its round closed, its rank and outcome (F1–F4)."""

    quantitative: int
    qualitative: Score | None
    qualitative_raw: Score | None
    final: Score | None
    rank: int | None
    outcome: str | None
    planned_subsidy: int


class RoundApplication(Result):
    application_id: str
    company_name: str
    status: CandidateStatus
    assigned_evaluators: list[str]
    valid_scores: int
    conflicts: list[ConflictView]


class ExcludedEvaluator(View):
    evaluator_id: str
    reason: str = Field(description="F6: the conflict's kind")


class ScoreShortfallView(View):
    """S3: an application the round cannot close without."""

    application_id: str
    company_name: str
    valid_scores: int
    needed: int = Field(description="S3: the minimum of valid scores")
    not_scored_by: list[str] = Field(description="Seated evaluators without a conflict who have not scored it")
    excluded: list[ExcludedEvaluator] = Field(description="F6: excluded for a conflict")
    too_few_evaluators: bool = Field(description="Fewer evaluators without a conflict than the minimum: seat more")


class AllowanceView(View):
    evaluator_id: str
    applications_scored: int
    amount: int


class RoundDetail(View):
    """A round: its committee, each application's evaluators, scores and conflicts, what blocks closing it (S3)
    and, once closed, the allowances owed (F7)."""

    round_id: str
    program_id: str
    call_id: str
    status: RoundStatus
    opened_at: datetime
    closed_at: datetime | None
    committee: list[SeatView]
    short_of_evaluators: list[str]
    close_blocked_by: list[ProblemView]
    score_shortfalls: list[ScoreShortfallView] = Field(description="S3: the applications close_blocked_by names, "
                                                                   "the facts apart")
    applications: list[RoundApplication]
    allowances: list[AllowanceView]


class ApplicationInRound(View):
    """An application of a round as an operator sees it in the list."""

    application_id: str
    company_name: str
    consulting_field: str | None
    quantitative: int
    quantitative_breakdown: dict[str, Any]


class ApplicationForEvaluator(ApplicationInRound):
    """The same, as the evaluator asking sees it: with their own declaration and score."""

    declared: bool | None = Field(description="The evaluator's declaration (F6): conflicted or not, or none yet")
    my_raw_total: int | None


class ScoringMaterial(View):
    facts: dict[str, Any] = Field(description="The verified facts screening passed (VerifiedFacts)")
    committee_sheet: dict[str, Any] = Field(description="The program's 별표3 sheet: items, levels, raw_max (S1)")


class ApplicationToScore(ApplicationForEvaluator, ScoringMaterial):
    """One application as the evaluator scores it: the verified facts, the plan, the committee sheet."""


class ApplicationToReview(ApplicationInRound, ScoringMaterial):
    """The same, as an operator reads it."""
    facts: dict[str, Any] = Field(description="The verified facts screening passed (VerifiedFacts)")
    committee_sheet: dict[str, Any] = Field(description="The program's 별표3 sheet: items, levels, raw_max (S1)")


class Declared(View):
    application_id: str
    evaluator_id: str
    conflicted: bool
    relation: str | None
    detail: str | None


class Scored(View):
    application_id: str
    evaluator_id: str
    levels: dict[str, int]
    raw_total: int
    normalised: Score


class Listed(View):
    application_id: str
    program_id: str
    round_id: str | None
    company_name: str
    status: CandidateStatus
    quantitative: int
    qualitative: Score | None
    final: Score | None
    rank: int | None
    outcome: str | None
    planned_subsidy: int
    selected_via: str | None
    selected_at: datetime | None
    passed_at: datetime
    call_id: str


class Sheet(View):
    evaluator_id: str
    levels: dict[str, int]
    raw_total: int
    normalised: Score | None
    submitted_at: datetime
    revisions: int


class ApplicationDetail(Result):
    application_id: str
    program_id: str
    round_id: str | None
    company_name: str
    status: CandidateStatus
    expert_grade: str | None
    quantitative_breakdown: dict[str, Any] = Field(description="Q1–Q7 with the Q7 resolution")
    selected_via: str | None
    selected_at: datetime | None
    scores: list[Sheet]
    audit: list[AuditEntry]


class Waiting(View):
    application_id: str
    company_name: str
    rank: int | None
    planned_subsidy: int
    call_id: str


class CallBudget(View):
    call_id: str
    title: str
    window: dict[str, Any]
    budget: int
    committed: int
    available: int


class Budget(View):
    """F4, F5: the program's budget, what the selected hold of it, what is free, and who waits."""

    program_id: str
    budget: int
    committed: int
    available: int
    selected: list[Waiting]
    rechecking: list[Waiting]
    waitlist: list[Waiting]
    calls: list[CallBudget]
