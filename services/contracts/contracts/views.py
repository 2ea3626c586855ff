"""What contracts' routes answer (response models; sme_runtime.views)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import ConfigDict, Field

from contracts.rules import SessionKind
from contracts.status import AgreementStatus, ReportStatus
from sme_schemas.contracts import TerminationReason
from sme_runtime.views import ProblemView, View


class AgreementSummary(View):
    agreement_id: str
    application_id: str
    program_id: str
    business_registration_number: str
    company_name: str
    expert_name: str | None
    parties: list[str] = Field(description="Who signs (C1): center, company and, where the program has one, expert")
    status: AgreementStatus
    agreed_amount: int
    term_start: date
    term_end: date
    sign_by: datetime
    signed_at: datetime | None
    signature_overdue: bool = Field(description="Drafted and unsigned past its signing deadline (C1)")


class Signature(View):
    party: str
    signed_by: str
    signed_at: datetime


class SessionsHeld(View):
    """C3: consulting is counted in days (sessions of one kind on one day are one day), hours as logged."""

    on_site: int = Field(alias="on-site", description="Days of on-site consulting")
    follow_up: int = Field(alias="follow-up", description="Days of follow-up consulting")
    hours: int
    logs: int = Field(0, description="Session logs written (several may make one day)")


class Amendment(View):
    changes: dict[str, list[Any]] = Field(description="{field: [before, after]}")
    reason: str
    agreed_by: list[str]
    recorded_by: str
    recorded_at: datetime


class Report(View):
    revision: int
    status: ReportStatus
    report_ref: str
    submitted_at: datetime
    reviewed_at: datetime | None
    return_reasons: list[str] | None


class GiveUp(View):
    requested_at: datetime | None
    reason: str | None


class Ended(View):
    at: datetime | None
    reason: str | None = Field(description="As kept: a termination's '<reason>: <note>', a give-up's words")
    termination_reason: TerminationReason | None = Field(None, description="C7: why the center terminated it")
    note: str | None = Field(None, description="The center's note on a termination; the company's reason for a "
                                               "give-up (C6)")
    restricted_until: date | None = Field(description="C6: the participation restriction's last day (X10)")


class AgreementView(AgreementSummary):
    """One agreement with everything under it."""

    ceo_name: str
    expert_affiliation: str | None
    minimum_sessions: int
    follow_up_sessions: int
    signatures: list[Signature]
    missing_signatures: list[str]
    sessions_held: SessionsHeld
    report_problems: list[ProblemView] = Field(description="Why a result report would be refused now (C8, C3)")
    amendments: list[Amendment]
    reports: list[Report]
    give_up: GiveUp
    ended: Ended
    accepted_at: datetime | None


class ConsultingLog(View):
    """A consulting session as logged (C3)."""

    session_id: int
    held_on: date
    hours: int
    kind: SessionKind
    place: str
    notes: str
    photo_refs: list[str]


class LoggedSession(ConsultingLog):
    agreement_id: str


class SessionEntry(ConsultingLog):
    logged_by: str
    logged_at: datetime


class ReportSubmitted(View):
    agreement_id: str
    revision: int
    status: ReportStatus


class Reminded(View):
    due_soon: datetime | None
    overdue: datetime | None


class FollowUpView(View):
    kind: str = Field(description="survey | outcome-<months>m (M1)")
    due_on: date
    answered_at: datetime | None
    answers: dict[str, bool | int | str] | None
    reminded: Reminded


class FollowUps(View):
    agreement_id: str
    owed: list[FollowUpView]
    survey_items: list[dict[str, Any]]
    outcome_questions: list[dict[str, Any]]


class FollowUpLine(View):
    """M3, one kind of obligation: how many are owed, answered and overdue."""

    owed: int
    answered: int
    overdue: int


class SurveyLine(FollowUpLine):
    mean: dict[str, str | None] = Field(description="Per survey item, the mean of the answers (two decimals)")


class OutcomeLine(FollowUpLine):
    answers: dict[str, int] = Field(description="Per question: how many answered yes, or the total of a count or "
                                                "an amount")


class ProgramFollowUp(View):
    """M3: the program's follow-up, one line per obligation kind (`survey`, `outcome-6m`, …) beside these."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, SurveyLine | OutcomeLine] = Field(init=False)

    program_id: str
    as_of: date
    companies: int
