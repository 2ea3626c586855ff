"""The four external checks (X2, X3, X5, X8, X9; D2) as screening sees them: what is asked, what came back.

A lookup is asked by the screening service and answered by the lookup worker of its registry, each a process of
its own with its own consumer group and its own topic, so one registry being down or slow holds up only the
lookups that need it. The request and answer travel as screening-internal events (same CloudEvents envelope,
not part of the public catalog: no other service reads them)."""
from __future__ import annotations

import hashlib
from datetime import date
from enum import StrEnum
from pydantic import Field

from sme_schemas.base import Contract, IntegrationEvent
from sme_schemas.screening import Finding
from sme_schemas.values import ApplicationId, BusinessRegistrationNumber, LongText, ShortText, UtcInstant


class Registry(StrEnum):
    BUSINESS_STATUS = "business-status"  # X3 (and the X4 flag when the registry contradicts the form)
    CREDIT = "credit"  # X2, X8 credit delinquency
    SANCTIONS = "sanctions"  # X8 public sanctions and unfulfilled obligations, X9 administrative sanctions
    DUPLICATE_PROJECTS = "duplicate-projects"  # X5, D1–D3 against NTIS, SMTECH, GSTEP PMS


class Verdict(StrEnum):
    CLEAR = "clear"  # nothing found that excludes
    EXCLUDED = "excluded"  # a record excludes the application; findings name the rule and the record
    REFER = "refer"  # the registry answered but could not settle it: an operator judges (manual review)


class DuplicateVerdict(StrEnum):
    """D1–D3: a plan judged against prior projects, the applicant's own and the national corpus alike. The
    duplicate-projects lookup answers it as a Verdict: duplicate → EXCLUDED (X5), borderline → REFER (D3, the
    committee decides), different → CLEAR."""

    DUPLICATE = "duplicate"
    BORDERLINE = "borderline"
    DIFFERENT = "different"


class LookupSubject(Contract):
    """Who (and for duplicates, what plan) the registry is asked about."""

    business_registration_number: BusinessRegistrationNumber
    company_name: ShortText
    ceo_name: ShortText
    project_manager_name: ShortText
    founded_on: date
    announcement_date: date = Field(description="X9 is judged as of this date")
    as_of: date = Field(description="X2, X3, X5, X8 are judged as of this date (screening or X11 re-check day)")
    region_city: ShortText | None = Field(None, description="X1: the program's city, whose registered places the "
                                          "business-places registry is asked about (business status only)")
    declared_in_city_since: date | None = Field(None, description="X1/Q3: since when the application says the "
                                                "company does business in the city")
    goal: LongText | None = Field(None, description="D1 development goal (duplicate projects only)")
    method: LongText | None = Field(None, description="D1 development method")
    content: LongText | None = Field(None, description="D1 development content")
    duplicate_threshold: float | None = None
    borderline_threshold: float | None = None
    national_outlier_z: float | None = None
    national_semantic_threshold: float | None = None
    national_semantic_z: float | None = None

    def fingerprint(self) -> str:
        """Identifies the question: an amendment that changes nothing asked reuses the answer already given."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


class LookupRequested(IntegrationEvent):
    """Screening asks one registry about one application (internal)."""

    producer = "screening"
    event_name = "lookup-requested"

    lookup_id: ShortText
    application_id: ApplicationId
    registry: Registry
    about: LookupSubject

    def subject(self) -> str:
        return self.application_id

    @staticmethod
    def topic_for(registry: Registry) -> str:
        # One topic per registry, so each worker's consumer group reads only its own backlog.
        return f"screening.lookup-requested.{registry.value}.v1"


class LookupAnswered(IntegrationEvent):
    """A lookup worker's answer (internal). Redelivery may answer twice; screening keeps the first answer."""

    producer = "screening"
    event_name = "lookup-answered"

    lookup_id: ShortText
    application_id: ApplicationId
    registry: Registry
    answered_at: UtcInstant
    verdict: Verdict
    findings: tuple[Finding, ...] = ()
    attempts: int = Field(1, ge=1, description="Registry calls it took, retries included")

    def subject(self) -> str:
        return self.application_id


class LookupResult(Contract):
    """What a registry's answer means for the application (pure interpretation of the registry response)."""

    verdict: Verdict
    findings: tuple[Finding, ...] = ()

    @classmethod
    def clear(cls, rule: str, detail: str) -> "LookupResult":
        return cls(verdict=Verdict.CLEAR, findings=(Finding(rule=rule, detail=detail),))


def lookup_id(application_id: str, purpose: str, registry: Registry, subject: LookupSubject) -> str:
    return f"{application_id}:{purpose}:{registry.value}:{subject.fingerprint()}"


REGISTRY_RULES: dict[Registry, tuple[str, ...]] = {
    Registry.BUSINESS_STATUS: ("X3", "X4"),
    Registry.CREDIT: ("X2", "X8"),
    Registry.SANCTIONS: ("X8", "X9"),
    Registry.DUPLICATE_PROJECTS: ("X5", "D3"),
}
