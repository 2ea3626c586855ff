"""Events contracts publishes (C1–C9)."""
from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from sme_schemas.base import ApplicationEvent
from sme_schemas.values import MAX_COUNT, BusinessRegistrationNumber, Krw, LongText, ShortText, UtcInstant


class AgreementSigned(ApplicationEvent):
    """All three parties (center, company, expert) signed: the agreement is in force (C1, C2)."""

    producer = "contracts"
    event_name = "agreement-signed"

    agreement_id: ShortText = Field(description="Agreement id assigned by contracts")
    signed_at: UtcInstant = Field(description="When the last of the three signatures was given")
    term_start: date = Field(description="First day of the agreement term")
    term_end: date = Field(description="Within the program year (C2)")
    agreed_amount: Krw = Field(description="협약금액: the most the subsidy can be (P2)")
    minimum_sessions: int = Field(description="Minimum on-site sessions (C2, C3); 0 where the program sets none "
                                  "(a smart-factory build)", ge=0, le=MAX_COUNT)
    follow_up_sessions: int = Field(description="Follow-up sessions required after the consulting (C3)", ge=0,
                                    le=MAX_COUNT)
    company_name: ShortText = Field(description="기업명 as on the application")
    expert_name: ShortText | None = Field(description="Name of the expert (consultant); None in a two-party "
                                                       "agreement whose company named none (support.expert_party)")
    business_registration_number: BusinessRegistrationNumber | None = Field(
        None, description="The company, which may request an advance where the program pays one (I1)")


class TerminationReason(StrEnum):
    """C7."""

    DISASTER_BANKRUPTCY_CLOSURE = "disaster-bankruptcy-closure"
    RELOCATION = "relocation"
    FRAUD = "fraud"
    FALSE_EVIDENCE = "false-evidence"
    REFUSED_CORRECTION = "refused-correction"
    GIVE_UP = "give-up"
    BREACH_OF_LAW = "breach-of-law"  # 협약 ⑧-2: the guideline or the laws of ⑧-1 broken (중소기업기술혁신 촉진법,
    # 공공재정 부정청구 금지 및 부정이익 환수 등에 관한 법률, …)


# C7/P4 with 협약 ⑧-2: these reasons make the whole subsidy recoverable once paid (AgreementTerminated.clawback)
CLAWBACK_REASONS = frozenset({TerminationReason.FRAUD, TerminationReason.FALSE_EVIDENCE,
                              TerminationReason.BREACH_OF_LAW})


class AgreementTerminated(ApplicationEvent):
    """The center terminated the agreement (C7); evaluation promotes the waitlist, payments may claw back."""

    producer = "contracts"
    event_name = "agreement-terminated"

    agreement_id: ShortText = Field(description="Agreement id assigned by contracts")
    terminated_at: UtcInstant
    reason: TerminationReason = Field(description="Why, in the operator's words or the C7 reason")
    clawback: bool = Field(description="Fraud or false evidence: the whole subsidy is recoverable (C7, P4)")
    freed_amount: Krw = Field(description="Budget freed for the waitlist (F5)")


class ParticipationGivenUp(ApplicationEvent):
    """The center approved the company's give-up (C6); screening honours the restriction (X10)."""

    producer = "contracts"
    event_name = "participation-given-up"

    agreement_id: ShortText | None = Field(None, description="None when given up before an agreement was signed")
    business_registration_number: BusinessRegistrationNumber
    approved_at: UtcInstant
    restricted_until: date | None = Field(description="End of the participation restriction, if the center imposed one")
    freed_amount: Krw


class ReportReturned(ApplicationEvent):
    """The center returned the result report for corrections, with its reasons (C8); the company submits a new
    revision."""

    producer = "contracts"
    event_name = "report-returned"

    agreement_id: ShortText = Field(description="Agreement id assigned by contracts")
    returned_at: UtcInstant
    revision: int = Field(ge=1, le=MAX_COUNT, description="The report revision returned")
    reasons: tuple[LongText, ...] = Field(min_length=1, description="What to correct, in the operator's words")


class ReportAccepted(ApplicationEvent):
    """The center accepted the result report (C8); the company may now request the subsidy (P1)."""

    producer = "contracts"
    event_name = "report-accepted"

    agreement_id: ShortText = Field(description="Agreement id assigned by contracts")
    accepted_at: UtcInstant
    agreed_amount: Krw
    sessions_held: int = Field(description="Days of on-site consulting held (C3: sessions on one day count once)", ge=0,
                               le=MAX_COUNT)
    follow_up_sessions_held: int = Field(description="Days of follow-up consulting held (C3)", ge=0, le=MAX_COUNT)
    business_registration_number: BusinessRegistrationNumber | None = Field(
        None, description="The company that may now file the subsidy request (P1)")


FollowUpKind = Annotated[str, Field(pattern=r"^(survey|outcome-([1-9]|1[0-2])m)$",
                                    description="survey, or outcome-<n>m: the outcome report n months on")]


class FollowUpReminder(ApplicationEvent):
    """M2: a follow-up obligation (the satisfaction survey, an outcome report) is due soon or has passed its due
    date unanswered; for the systems that notify the company (문자·알림톡) and the center's dashboards."""

    producer = "contracts"
    event_name = "follow-up-reminder"

    agreement_id: ShortText = Field(description="Agreement id assigned by contracts")
    business_registration_number: BusinessRegistrationNumber = Field(description="The company that owes it")
    kind: FollowUpKind
    due_on: date = Field(description="Last day to answer (KST)")
    reminder: Literal["due-soon", "overdue"] = Field(description="due-soon: remind_days_before the due date; "
                                                                 "overdue: the day after it passed")


class FollowUpSubmitted(ApplicationEvent):
    """M1: the company answered its satisfaction survey or an outcome report (answers by the program's question
    codes: 1–5 for a survey item; yes/no, a count, KRW or text for an outcome question)."""

    producer = "contracts"
    event_name = "follow-up-submitted"

    agreement_id: ShortText = Field(description="Agreement id assigned by contracts")
    kind: FollowUpKind
    due_on: date = Field(description="Last day it was owed (KST); a later answer is still taken")
    submitted_at: UtcInstant = Field(description="When the company answered")
    answers: dict[str, bool | int | str] = Field(description="By the program's question codes (follow_up)")
