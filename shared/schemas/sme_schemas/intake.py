"""Events intake publishes, and the filing other municipal systems publish to intake."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from sme_schemas.application import ApplicationContent, EvidenceRequirement
from sme_schemas.base import ApplicationEvent, IntegrationEvent
from sme_schemas.values import ShortText, UtcInstant


# How an application arrived: the web form, or filed by another municipal system
Channel = Literal["web", "municipal-system"]


class ApplicationSubmitted(ApplicationEvent):
    """A company's application was accepted by intake (A1–A3 passed); screening starts from here."""

    producer = "intake"
    event_name = "application-submitted"

    submitted_at: UtcInstant = Field(description="Application date: E6 and the F3 tie-break count from here")
    revision: int = Field(1, ge=1, description="1 on submission; amendments increase it")
    channel: Channel = Field(description="How the application arrived")
    content: ApplicationContent
    required_evidence: tuple[EvidenceRequirement, ...] = Field(description="The evidence list for this company (E1–E5)")


class ApplicationAmended(ApplicationEvent):
    """The company changed its application before screening started (A2), or supplemented evidence (E6)."""

    producer = "intake"
    event_name = "application-amended"

    submitted_at: UtcInstant = Field(description="Original application date (unchanged by amendments)")
    amended_at: UtcInstant
    revision: int = Field(ge=2, description="Revision number after this amendment")
    content: ApplicationContent = Field(description="The whole application as it now stands")
    required_evidence: tuple[EvidenceRequirement, ...] = Field(description="The evidence list for this company (E1–E5)")


class ApplicationWithdrawn(ApplicationEvent):
    """The company withdrew its application; it is no longer live (A2)."""

    producer = "intake"
    event_name = "application-withdrawn"

    withdrawn_at: UtcInstant
    reason: ShortText | None = Field(None, description="The company's reason, if given")


class ApplicationFiledByMunicipalSystem(IntegrationEvent):
    """Another municipal system forwards an application it received; intake validates it exactly like the web form."""

    producer = "municipal"
    event_name = "application-filed"

    source_system: ShortText = Field(description="The forwarding system", examples=["gimpo-minwon"])
    external_reference: ShortText = Field(
        description="The application's id in that system", examples=["MW-2024-000123"]
    )
    content: ApplicationContent

    def subject(self) -> str:
        return f"{self.source_system}:{self.external_reference}"
