"""What evaluation's store reads, column by column (sme_runtime.rows)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from sme_runtime.rows import JsonObject


# F5: how a candidate came to be selected — at its round's close, or promoted from the waitlist
Via = Literal["round-close", "waitlist-promotion"]


@dataclass(frozen=True, slots=True)
class CandidateRow:
    """An application that passed screening, document-scored (Q1–Q7), through its round to its outcome (F1–F5)."""

    application_id: str
    program_id: str
    round_id: str | None
    brn: str
    company_name: str
    facts: JsonObject
    expert_grade: str | None
    passed_at: datetime
    submitted_at: datetime
    quantitative: int
    quantitative_detail: JsonObject
    planned_subsidy: int
    status: str
    rank: int | None
    qualitative: Decimal | None
    qualitative_raw: Decimal | None
    final: Decimal | None
    valid_evaluators: int | None
    outcome: str | None
    selected_via: str | None
    selected_at: datetime | None
    updated_at: datetime
    program_version: int | None
    call_id: str


@dataclass(frozen=True, slots=True)
class ListedCandidate:
    """A candidate as the operators' list shows it."""

    application_id: str
    program_id: str
    round_id: str | None
    company_name: str
    status: str
    quantitative: int
    qualitative: Decimal | None
    final: Decimal | None
    rank: int | None
    outcome: str | None
    planned_subsidy: int
    selected_via: str | None
    selected_at: datetime | None
    passed_at: datetime
    call_id: str


@dataclass(frozen=True, slots=True)
class EvaluatorRow:
    """An entry of an agency's evaluator pool, with the employers F6 judges conflicts by."""

    evaluator_id: str
    name: str
    affiliation: str
    kind: str
    fields: list[str]
    employers: list[dict[str, Any]]
    registered_at: datetime
    registered_by: str
    agency: str


@dataclass(frozen=True, slots=True)
class SeatedEvaluatorRow(EvaluatorRow):
    """An evaluator holding a seat of a round's committee, and the seat's role (S3)."""

    role: str


@dataclass(frozen=True, slots=True)
class RoundRow:
    """An evaluation round of a program's call: open, then closed with its results (F1–F5)."""

    round_id: str
    program_id: str
    status: str
    as_of: date
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    closed_by: str | None
    call_id: str
    agency: str


@dataclass(frozen=True, slots=True)
class DeclarationRow:
    """An evaluator's declaration of (no) conflict with an application (F6)."""

    application_id: str
    evaluator_id: str
    conflicted: bool
    relation: str | None
    detail: str | None
    declared_at: datetime


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """An evaluator's committee sheet for one application (S1, S2)."""

    application_id: str
    evaluator_id: str
    levels: dict[str, int]
    raw_total: int
    normalised: Decimal
    submitted_at: datetime
    revisions: int


@dataclass(frozen=True, slots=True)
class CompletedRecheck:
    """The re-check (X11) that an answer completed: whose, and how its candidate was to be selected."""

    application_id: str
    via: Via


@dataclass(frozen=True, slots=True)
class RechecksWaiting:
    n: int
    oldest: datetime | None


@dataclass(frozen=True, slots=True)
class AllowanceRow:
    """What an evaluator is owed for a round (F7)."""

    round_id: str
    evaluator_id: str
    program_id: str
    applications_scored: int
    amount: int
