"""E1–E5: a program's evidence list, each line asked when its condition holds."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sme_schemas.application import DocumentType as D
from sme_schemas.base import Contract
from sme_schemas.values import ShortText


EvidenceCondition = Literal[
    "always", "has-factory", "no-regular-employees", "has-regular-employees", "names-expert", "claims-past-projects",
    "claims-research-staff", "claims-research-institute", "claims-certification", "answered-yes"]


class EvidenceLine(Contract):
    """E1–E5 as program data: one line of the evidence list — any one of `any_of` satisfies it — asked when the
    application meets `when`; a bonus proof (E5) is not mandatory (an unproven claim scores 0)."""

    rule: str = Field(pattern=r"^E[1-5]$")
    purpose: ShortText
    any_of: tuple[D, ...] = Field(min_length=1)
    when: EvidenceCondition = "always"
    answers: tuple[str, ...] = Field((), description="when answered-yes: the program's yes-no questions any yes "
                                                     "to which asks this line")
    mandatory: bool = True

    @model_validator(mode="after")
    def _answers_for_answered_yes(self) -> "EvidenceLine":
        if (self.when == "answered-yes") != bool(self.answers):
            raise ValueError(f"{self.purpose}: answers are named for when answered-yes, and only then")
        return self
