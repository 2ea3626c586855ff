"""Events evaluation publishes (Q1–Q7, S1–S3, F1–F7)."""
from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from sme_schemas.base import ApplicationEvent, Contract, IntegrationEvent
from sme_schemas.values import MAX_COUNT, ApplicationId, Krw, ShortText, UtcInstant

# Scores keep their exact decimal value: F3 breaks ties on them, so no float rounding may decide a rank.
Score = Annotated[Decimal, Field(ge=0, le=100, max_digits=8, decimal_places=4, examples=["73.5000"])]


class Outcome(StrEnum):
    SELECTED = "selected"
    WAITLISTED = "waitlisted"
    BELOW_PASS_MARK = "below-pass-mark"


class RankedApplication(Contract):
    rank: int = Field(description="Position in the F3 order (1 = best)", ge=1, le=MAX_COUNT)
    application_id: ApplicationId
    company_name: ShortText = Field(description="기업명 as on the application")
    quantitative: Score = Field(description="Document score (Q1–Q7), capped at 100")
    qualitative: Score = Field(description="Mean of valid evaluators' normalised totals (S2, S3)")
    final: Score = Field(description="F1: 0.3 x quantitative + 0.7 x qualitative")
    planned_subsidy: Krw = Field(description="F4: min(cap, ratio x (cost + VAT))")
    outcome: Outcome = Field(description="Result at the close; the selected are notified by ApplicationSelected "
                             "after the X11 re-check")
    qualitative_raw: Decimal | None = Field(None, ge=0, max_digits=8, decimal_places=4,
                                            description="S2: mean raw committee total before normalisation")
    valid_evaluators: int | None = Field(None, ge=0, le=MAX_COUNT,
                                         description="S3: evaluator scores counted (none conflicted)")


class ScoresFinalized(IntegrationEvent):
    """An operator closed the evaluation round: the ranked list with each outcome (F1–F5)."""

    producer = "evaluation"
    event_name = "scores-finalized"

    round_id: ShortText = Field(description="Evaluation round id")
    closed_at: UtcInstant
    budget: Krw
    ranking: tuple[RankedApplication, ...] = Field(description="Every scored application of the round in F3 order")

    def subject(self) -> str:
        return self.round_id


class ApplicationSelected(ApplicationEvent):
    """The application was selected (at round close, or from the waitlist when budget was freed, F5)."""

    producer = "evaluation"
    event_name = "application-selected"

    round_id: ShortText = Field(description="Evaluation round id")
    selected_at: UtcInstant
    rank: int = Field(description="Position in the F3 order (1 = best)", ge=1, le=MAX_COUNT)
    planned_subsidy: Krw
    via: Literal["round-close", "waitlist-promotion"] = Field(
        description="Selected at round close or promoted from the waitlist (F5)"
    )


class RecheckRequested(ApplicationEvent):
    """Evaluation asks screening to repeat the X11 lookups before notifying a selected company."""

    producer = "evaluation"
    event_name = "recheck-requested"

    request_id: ShortText = Field(description="Correlates the X11 re-check request and its reply")
    requested_at: UtcInstant


class EvaluatorAllowanceDue(IntegrationEvent):
    """F7: allowance of one evaluator for a closed round; payments pays it (P5)."""

    producer = "evaluation"
    event_name = "evaluator-allowance-due"

    round_id: ShortText = Field(description="Evaluation round id")
    evaluator_id: ShortText = Field(description="Evaluator id in the evaluator pool")
    evaluator_name: ShortText = Field(description="Evaluator's name")
    applications_scored: int = Field(description="Applications the evaluator scored in the round (F7)", ge=0,
                                     le=MAX_COUNT)
    amount: Krw = Field(description="20,000 per application scored, capped at 300,000 per evaluator (F7)")

    def subject(self) -> str:
        return f"evaluator:{self.evaluator_id}"
