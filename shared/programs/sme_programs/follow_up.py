"""M1–M3: the survey and outcome reports a company owes after its result report (사후관리)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sme_schemas.base import Contract
from sme_schemas.values import ShortText

from sme_programs.checks import each_once


class SurveyItem(Contract):
    """M1: one question of the satisfaction survey (만족도 조사), answered 1 (매우 불만족) to 5 (매우 만족)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$")
    title: ShortText


class OutcomeQuestion(Contract):
    """M1: one question of an outcome report (성과 조사), e.g. SOS: did the company apply to the government call
    it was consulted for, and win it."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$")
    title: ShortText
    kind: Literal["yes-no", "count", "amount-krw", "text"]
    requires: str | None = Field(None, description="A yes-no question that must be answered yes for this one to "
                                                   "be yes or above zero (won requires applied)")


class FollowUp(Contract):
    """M1–M3, 사후관리: after the result report is accepted the company owes the satisfaction survey (협약 ⑨-1)
    and outcome reports up to a year after the end (협약 ④-2); the center is reminded by events and reports per
    program. SOS 2024's reading is in its program file (its assumptions say which values are assumed)."""

    survey_within_days: int = Field(ge=1, le=365, description="M1: the survey is due this many days after "
                                                                  "the report was accepted")
    survey_items: tuple[SurveyItem, ...] = Field(min_length=1)
    outcome_reports_after_months: tuple[int, ...] = Field(
        description="M1: outcome reports due this many months after the report was accepted; a year at "
                             "most (사업종료 이후 최대 1년)")
    outcome_questions: tuple[OutcomeQuestion, ...] = Field(min_length=1)
    remind_days_before: int = Field(ge=0, le=90, description="M2: a reminder this many days before the due "
                                                                "date, and another the day after it passes")

    @model_validator(mode="after")
    def _consistent(self) -> "FollowUp":
        months = list(self.outcome_reports_after_months)
        if months != sorted(set(months)) or any(not 1 <= m <= 12 for m in months):
            raise ValueError(f"outcome_reports_after_months: increasing, each 1 to 12 (a year at most), got {months}")
        each_once([i.code for i in self.survey_items], "survey_items: codes must be unique")
        each_once([q.code for q in self.outcome_questions], "outcome_questions: codes must be unique")
        kinds = {q.code: q.kind for q in self.outcome_questions}
        for q in self.outcome_questions:
            if q.requires is not None and kinds.get(q.requires) != "yes-no":
                raise ValueError(f"outcome_questions: {q.code} requires {q.requires!r}, which is no yes-no question")
        return self
