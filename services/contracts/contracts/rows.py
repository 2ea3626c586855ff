"""What contracts' store reads, column by column (sme_runtime.rows)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sme_runtime.rows import JsonObject


@dataclass(frozen=True, slots=True)
class PartiesRow:
    """Who signs, from the application's latest passed revision (C1)."""

    application_id: str
    program_id: str
    revision: int
    brn: str
    company_name: str
    ceo_name: str
    expert_name: str | None
    expert_affiliation: str | None
    consulting_cost: int


@dataclass(frozen=True, slots=True)
class SelectionRow:
    """ApplicationSelected as contracts keeps it: the planned subsidy the agreement may not exceed (C2)."""

    application_id: str
    program_id: str
    round_id: str
    planned_subsidy: int
    selected_at: datetime
    via: str
    program_version: int | None


@dataclass(frozen=True, slots=True)
class AgreementRow:
    """The agreement of the center, the company and its expert, from draft to its end (C1–C8)."""

    agreement_id: str
    application_id: str
    program_id: str
    brn: str
    company_name: str
    ceo_name: str
    expert_name: str | None
    expert_affiliation: str | None
    term_start: date
    term_end: date
    agreed_amount: int
    minimum_sessions: int
    follow_up_sessions: int
    status: str
    drafted_at: datetime
    sign_by: datetime
    signed_at: datetime | None
    give_up_requested_at: datetime | None
    give_up_reason: str | None
    ended_at: datetime | None
    ended_reason: str | None
    restricted_until: date | None
    accepted_at: datetime | None
    program_version: int | None


@dataclass(frozen=True, slots=True)
class SignatureRow:
    agreement_id: str
    party: str
    signed_by: str
    signed_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One consulting session as logged (C3)."""

    id: int
    agreement_id: str
    held_on: date
    hours: int
    kind: str
    place: str
    notes: str
    photo_refs: list[str]
    logged_by: str
    logged_at: datetime


@dataclass(frozen=True, slots=True)
class AmendmentRow:
    """A change to the agreement the parties agreed to (C5)."""

    id: int
    agreement_id: str
    changes: JsonObject
    reason: str
    agreed_by: list[str]
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One revision of the result report and its review (C8)."""

    agreement_id: str
    revision: int
    status: str
    report_ref: str
    log_refs: list[str]
    fee_evidence_refs: list[str]
    submitted_by: str
    submitted_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    return_reasons: list[str] | None


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    """One follow-up obligation (M1–M3): the survey or an outcome report, when it is due and its answers."""

    agreement_id: str
    kind: str
    application_id: str
    program_id: str
    program_version: int | None
    brn: str
    due_on: date
    reminded_due_soon_at: datetime | None
    reminded_overdue_at: datetime | None
    answers: JsonObject | None
    submitted_by: str | None
    submitted_at: datetime | None
