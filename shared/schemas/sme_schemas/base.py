"""The one base of every integration event and its CloudEvents identity."""
from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from sme_schemas.values import MAX_COUNT, ApplicationId, ProgramId, UtcInstant

CE_TYPE_PREFIX = "kr.gimpo.sme"


class Contract(BaseModel):
    """Frozen part of a contract; unknown fields are refused so typos never pass silently."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class IntegrationEvent(Contract):
    """A past-tense fact one service publishes for others."""

    # Set on each concrete event: producing service, kebab-case name, major version.
    producer: ClassVar[str]
    event_name: ClassVar[str]
    major: ClassVar[int] = 1

    program_id: ProgramId
    occurred_at: UtcInstant = Field(description="When the fact happened (UTC)")

    @classmethod
    def topic(cls) -> str:
        """Kafka topic: <service>.<event>.v<major>."""
        return f"{cls.producer}.{cls.event_name}.v{cls.major}"

    @classmethod
    def ce_type(cls) -> str:
        """CloudEvents `type` attribute."""
        return f"{CE_TYPE_PREFIX}.{cls.producer}.{cls.event_name}.v{cls.major}"

    def subject(self) -> str:
        """CloudEvents `subject` and Kafka key: what the event is about, so its events stay in order."""
        raise NotImplementedError


class ApplicationEvent(IntegrationEvent):
    """An event about one application; keyed by the application id."""

    application_id: ApplicationId
    program_version: int | None = Field(None, ge=1, le=MAX_COUNT,
                                        description="V1: the version of the program definition the "
                                        "application applied under, by which every service judges it; None (an "
                                        "older producer): the version in force")

    def subject(self) -> str:
        return self.application_id
