"""Events screening publishes (X1–X11, E1–E6, G1–G3, D1–D3)."""
from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field

from sme_schemas.application import ConsultingPlan, DocumentType, PreferenceCertification
from sme_schemas.base import ApplicationEvent, Contract
from sme_schemas.values import MAX_COUNT, BusinessRegistrationNumber, Krw, LongText, RuleId, ShortText, UtcInstant


# G2's grades of an expert, and who decided a rejection (X4, X6, D3 are an operator's)
ExpertGradeLabel = Literal["special", "1", "2", "3"]
DecidedBy = Literal["rules", "operator"]


class Finding(Contract):
    """One reason of a decision: the rule and the evidence, so an operator can answer 'why'."""

    rule: RuleId = Field(description="Rule id from DOMAIN.md")
    detail: LongText = Field(
        description="What was found, in words an operator can pass on",
        examples=["국세 납세증명서 발급일 2023-01-02 는 신청일 기준 365일을 초과합니다"],
    )


class ScreeningStarted(ApplicationEvent):
    """Screening took the application up; from now on the company can no longer amend it (A2)."""

    producer = "screening"
    event_name = "screening-started"

    started_at: UtcInstant


class VerifiedFacts(Contract):
    """What evaluation scores from (Q1–Q6, F3, F4, F6): claims screening verified; unproven bonus claims are 0 (E5)."""

    company_name: ShortText = Field(description="기업명 as on the application")
    business_registration_number: BusinessRegistrationNumber
    ceo_name: ShortText = Field(description="대표자 성명")
    expert_name: ShortText | None = Field(None, description="Name of the expert (consultant)")
    expert_affiliation: ShortText | None = Field(None, description="소속 of the expert")
    revenue_last_year: Krw
    regular_employees: int = Field(description="상시종업원수 (Q2)", ge=0, le=MAX_COUNT)
    gimpo_business_since: date = Field(description="Date since which the company has done business in 김포시 (Q3)")
    research_staff: int = Field(ge=0, le=MAX_COUNT, description="Proven research staff (Q4)")
    research_institute: bool = Field(description="Proven KOITA-registered research institute (Q5)")
    certifications: tuple[PreferenceCertification, ...] = Field(description="Proven preference certifications (Q6)")
    proven_answers: tuple[str, ...] = Field((), description="The program's own yes-no questions answered yes and "
                                                            "proven (Q6 items proven_by_answers)")
    consulting_cost_excluding_vat: Krw = Field(description="Planned cost; the planned subsidy follows F4")
    consulting_sessions: int | None = Field(None, ge=1, le=MAX_COUNT,
                                            description="Planned sessions (서식1); with the program's "
                                            "daily fee they bound the planned subsidy (G3)")
    consulting_field: ShortText = Field(description="컨설팅 희망분야")
    submitted_at: UtcInstant = Field(description="Application date (F3's last tie-break)")
    consulting_plan: ConsultingPlan | None = Field(None, description="The plan as applied for: what the "
                                                   "evaluators read to score it (S1)")


class ScreeningPassed(ApplicationEvent):
    """The application is eligible, complete, with a grade-3-or-better expert and no duplicate or sanction."""

    producer = "screening"
    event_name = "screening-passed"

    passed_at: UtcInstant
    revision: int = Field(ge=1, le=MAX_COUNT, description="The application revision that passed")
    expert_grade: ExpertGradeLabel | None = Field(description="G2 grade of the expert")
    facts: VerifiedFacts
    checks: tuple[Finding, ...] = Field(description="Each rule checked and what it found")


class ApplicationRejected(ApplicationEvent):
    """The application is excluded; the findings name the rules (X*, E6 incomplete, G2, D3)."""

    producer = "screening"
    event_name = "application-rejected"

    rejected_at: UtcInstant
    stage: Literal["screening", "selection-recheck"] = Field(
        "screening", description="Screening, or the X11 re-check before notification"
    )
    findings: tuple[Finding, ...] = Field(description="Rules that decided, each with its evidence", min_length=1)
    decided_by: DecidedBy = Field(
        "rules", description="Whether the rules decided or an operator (X4, X6, D3)"
    )


class DocumentProblem(StrEnum):
    MISSING = "missing"
    STALE = "stale"


class RequestedDocument(Contract):
    rule: RuleId = Field(description="Rule id from DOMAIN.md")
    any_of: tuple[DocumentType, ...] = Field(
        description="Any one of these documents satisfies the request", min_length=1
    )
    problem: DocumentProblem


class SupplementRequested(ApplicationEvent):
    """Required evidence is missing or stale (E6): the company supplements through intake by the deadline."""

    producer = "screening"
    event_name = "supplement-requested"

    requested_at: UtcInstant
    deadline: UtcInstant = Field(description="No supplement by then rejects the application as incomplete (E6)")
    documents: tuple[RequestedDocument, ...] = Field(description="The documents to supplement", min_length=1)


class ManualReviewRequested(ApplicationEvent):
    """An operator must judge (X4, X6, D3 borderline, a lookup that could not settle)."""

    producer = "screening"
    event_name = "manual-review-requested"

    requested_at: UtcInstant
    questions: tuple[Finding, ...] = Field(description="What the operator must judge, each with its rule", min_length=1)


class RecheckCompleted(ApplicationEvent):
    """Reply to evaluation's X11 re-check before the selected are notified."""

    producer = "screening"
    event_name = "recheck-completed"

    request_id: ShortText = Field(description="Correlates the X11 re-check request and its reply")
    completed_at: UtcInstant
    outcome: Literal["clear", "excluded"] = Field(description="Result")
    findings: tuple[Finding, ...] = Field((), description="Rules that decided, each with its evidence")
