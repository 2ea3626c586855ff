"""별표2 and 별표3: the document score sheet (Q1–Q7) and the committee's rubric (S1–S3)."""
from __future__ import annotations

from typing import Iterable

from pydantic import Field, model_validator

from sme_schemas.application import PreferenceCertification as Cert
from sme_schemas.base import Contract
from sme_schemas.values import ShortText

from sme_programs.checks import each_once


class Band(Contract):
    """One step of a 별표2 scale: from `at_least` upwards (up to the next band) it gives `points`."""

    at_least: int = Field(ge=0)
    points: int = Field(ge=0, le=100)


class BonusItem(Contract):
    """One 가점 item of the document score sheet (Q6): `points` once when any of the 서식1 checkboxes that prove it
    is proven, however many of them are (INNO-BIZ and MAIN-BIZ are one item of 별표2)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$", description="Item key in a score breakdown")
    title: ShortText = Field(description="The item as the score sheet names it, e.g. INNO(main)-BIZ기업")
    points: int = Field(ge=0, le=100, description="Points when proven")
    proven_by: tuple[Cert, ...] = Field((), description="서식1 checkboxes any one of which proves it")
    proven_by_answers: tuple[str, ...] = Field((), description="Or the program's own yes-no questions "
                                               "(application_fields), for a certification 서식1 has no checkbox "
                                               "for, e.g. 하이서울기업; proven with the certificate (E5)")

    @model_validator(mode="after")
    def _proven_somehow(self) -> "BonusItem":
        if not self.proven_by and not self.proven_by_answers:
            raise ValueError(f"{self.code}: proven_by or proven_by_answers names what proves the item")
        return self


def _descending_to_zero(bands: tuple[Band, ...], name: str) -> None:
    thresholds = [b.at_least for b in bands]
    if not bands or thresholds != sorted(set(thresholds), reverse=True) or thresholds[-1] != 0:
        raise ValueError(f"{name}: bands must run from the highest threshold down to at_least 0, each once")


class DocumentScoreSheet(Contract):
    """별표2, the quantitative document score (Q1–Q7), as the program file gives it."""

    revenue_last_year: tuple[Band, ...] = Field(description="Q1: revenue of last year in KRW")
    regular_employees: tuple[Band, ...] = Field(description="Q2: regular employees")
    years_in_city: tuple[Band, ...] = Field(
        description="Q3: full years of business in the city, counted to the announcement date")
    research_staff: tuple[Band, ...] = Field(
        description="Q4: research staff (master's or doctorate) among regular employees")
    research_institute: int = Field(ge=0, le=100, description="Q5: a registered corporate research institute")
    bonus_items: tuple[BonusItem, ...] = Field(
        description="Q6: the sheet's 가점 items, each with the checkboxes that prove it")
    bonus_cap: int = Field(ge=0, le=100, description="Q6: bonus at most")
    total_cap: int = Field(ge=1, le=100, description="Q7: the total is capped here")

    @model_validator(mode="before")
    @classmethod
    def _no_points_per_checkbox(cls, data: object) -> object:
        if isinstance(data, dict) and "bonus_per_certification" in data:
            raise ValueError("bonus_per_certification: Q6 scores the sheet's items, not checkboxes; give bonus_items "
                             "(each with its points and the checkboxes that prove it) instead")
        return data

    @model_validator(mode="after")
    def _bands_ordered(self) -> "DocumentScoreSheet":
        for name in ("revenue_last_year", "regular_employees", "years_in_city", "research_staff"):
            _descending_to_zero(getattr(self, name), name)
        return self

    @model_validator(mode="after")
    def _each_checkbox_proves_one_item(self) -> "DocumentScoreSheet":
        each_once([item.code for item in self.bonus_items], "bonus_items: item codes must be unique")
        proofs = [c for item in self.bonus_items for c in item.proven_by]
        if twice := sorted({c.value for c in proofs if proofs.count(c) > 1}):
            raise ValueError(f"bonus_items: a checkbox proves one item only (Q6); {', '.join(twice)} proves several")
        if Cert.RESEARCH_INSTITUTE in proofs:
            raise ValueError("bonus_items: research-institute is scored by Q5 (research_institute), not as a bonus")
        return self

    def proven_bonus_items(self, certifications: "Iterable[Cert]",
                           answers: "Iterable[str]" = ()) -> tuple[BonusItem, ...]:
        """Q6: the items any proven certification (or a proven yes to the program's own question) proves, each
        once, in the sheet's order."""
        proven, yes = set(certifications), set(answers)
        return tuple(item for item in self.bonus_items
                     if proven.intersection(item.proven_by) or yes.intersection(item.proven_by_answers))


class RubricItem(Contract):
    """One 별표3 item: the evaluator picks one of its levels (S1)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$", description="Item key in a score form")
    section: ShortText = Field(description="평가항목, e.g. 사업의 필요성")
    title: ShortText = Field(description="세부 평가지표")
    levels: tuple[int, ...] = Field(min_length=2, description="Allowed points, best first (매우우수 … 매우미흡)")

    @model_validator(mode="after")
    def _levels_descending(self) -> "RubricItem":
        if list(self.levels) != sorted(set(self.levels), reverse=True) or self.levels[-1] < 0:
            raise ValueError(f"{self.code}: levels must be distinct, best first, not negative")
        return self


class CommitteeScoreSheet(Contract):
    """별표3, the qualitative committee score (S1–S3), as the program file gives it."""

    items: tuple[RubricItem, ...] = Field(min_length=1)
    normalised_to: int = Field(ge=1, description="S2: each evaluator's raw total is scaled to this")

    @model_validator(mode="after")
    def _codes_unique(self) -> "CommitteeScoreSheet":
        each_once([i.code for i in self.items], "committee score sheet: item codes must be unique")
        return self

    @property
    def raw_max(self) -> int:
        return sum(item.levels[0] for item in self.items)
