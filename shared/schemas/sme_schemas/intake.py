"""Events intake publishes, and the filing other municipal systems publish to intake."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from sme_schemas.application import ApplicationContent, EvidenceRequirement
from sme_schemas.base import ApplicationEvent, Contract, IntegrationEvent
from sme_schemas.values import MAX_COUNT, ApplicationId, ProgramId, ShortText, UtcInstant


# How an application arrived: the web form, or filed by another municipal system
Channel = Literal["web", "municipal-system"]
FilingDisposition = Literal["created", "amended", "unchanged"]


class ApplicationSubmitted(ApplicationEvent):
    """A company's application was accepted by intake (A1–A3 passed); screening starts from here."""

    producer = "intake"
    event_name = "application-submitted"

    submitted_at: UtcInstant = Field(description="Application date: E6 and the F3 tie-break count from here")
    revision: int = Field(1, ge=1, le=MAX_COUNT, description="1 on submission; amendments increase it")
    channel: Channel = Field(description="How the application arrived")
    content: ApplicationContent
    required_evidence: tuple[EvidenceRequirement, ...] = Field(description="The evidence list for this company (E1–E5)")


class ApplicationAmended(ApplicationEvent):
    """The company changed its application before screening started (A2), or supplemented evidence (E6)."""

    producer = "intake"
    event_name = "application-amended"

    submitted_at: UtcInstant = Field(description="Original application date (unchanged by amendments)")
    amended_at: UtcInstant
    revision: int = Field(ge=2, le=MAX_COUNT, description="Revision number after this amendment")
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

    @classmethod
    def topic_of(cls, system: str) -> str:
        """On an authenticated bus each filing system writes its own topic (only it may: ACL), so intake knows who
        sent a filing from where it was read, and refuses one that claims another sender."""
        return _municipal_topic(cls, system)


def _municipal_topic(event: type[IntegrationEvent], system: str | None = None) -> str:
    """The topics outside systems share with intake: `municipal.[<system>.]<event>.v<major>`."""
    return ".".join(("municipal", *((system,) if system else ()), event.event_name, f"v{event.major}"))


class FilingProblem(Contract):
    """One reason a filing was refused: the field of the filing it concerns, the rule it breaks (DOMAIN.md, or
    `contract` for a body that does not match the event's JSON Schema) and a message for people."""

    field: str = Field(max_length=200, description="Dotted path in the filing's body ('' for the whole filing)",
                       examples=["content.company.business_registration_number"])
    rule: str = Field(max_length=40, description="DOMAIN.md rule id, or 'contract' / 'envelope'", examples=["A2"])
    message: str = Field(max_length=2000, description="What is wrong and what to do, for the people at the sender")


class ApplicationFilingResult(IntegrationEvent):
    """Intake's answer to a system that filed an application (`municipal.application-filed.v1`): accepted, with
    the application it became, or refused, with every problem; keyed and carried by the sender's own reference,
    so the sender matches it without knowing our ids. One answer per filing event (`filing_event_id`)."""

    producer = "intake"
    event_name = "application-filing-result"

    program_id: ProgramId | None = Field(None, description="The program the filing named (None: it named none "  # type: ignore[assignment]
                                         "that could be read)")

    source_system: ShortText = Field(description="The filing system, as it named itself", examples=["gimpo-minwon"])
    external_reference: ShortText = Field(description="The application's id in that system",
                                          examples=["MW-2024-000123"])
    filing_event_id: str = Field(max_length=200, description="ce_id of the filing this answers")
    outcome: Literal["accepted", "refused"] = Field(description="accepted: an application exists for the filing; "
                                                    "refused: nothing was filed, `problems` say why")
    application_id: ApplicationId | None = Field(None, description="Accepted: the application the filing created "
                                                 "or amended (its id for GET /applications/{id})")
    disposition: FilingDisposition | None = Field(
        None, description="Accepted: a new application, an amendment of the one this reference filed before (A2), "
                          "or the same content again")
    problems: tuple[FilingProblem, ...] = Field((), description="Refused: why, each naming its field and rule")

    @classmethod
    def topic(cls) -> str:
        # Beside the filing topic (an outside system writes the one and reads the other)
        return _municipal_topic(cls)

    @classmethod
    def topic_of(cls, system: str) -> str:
        """The answers to the filings a system sent on its own topic: only it may read them (ACL)."""
        return _municipal_topic(cls, system)

    def subject(self) -> str:
        return f"{self.source_system}:{self.external_reference}"
