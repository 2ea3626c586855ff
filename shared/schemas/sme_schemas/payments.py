"""Events payments publishes (P1–P5). Bank accounts never leave the payments service."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from sme_schemas.base import Contract, IntegrationEvent
from sme_schemas.values import ApplicationId, Krw, ShortText, UtcInstant


class _Payment(IntegrationEvent):
    payment_id: ShortText = Field(description="Payment id assigned by payments")
    purpose: Literal["subsidy", "evaluator-allowance"] = Field(description="What the payment is for")
    application_id: ApplicationId | None = Field(None, description="Set for a subsidy")
    evaluator_id: ShortText | None = Field(None, description="Set for an evaluator allowance")

    @model_validator(mode="after")
    def _one_payee(self) -> "_Payment":
        if (self.purpose == "subsidy") != (self.application_id is not None) or (self.application_id is None) == (
            self.evaluator_id is None
        ):
            raise ValueError("a subsidy names application_id only; an allowance names evaluator_id only")
        return self

    def subject(self) -> str:
        return self.application_id or f"evaluator:{self.evaluator_id}"


class SubsidyBreakdown(Contract):
    """P2, kept with the payment so anyone can recompute it."""

    proven_cost_including_vat: Krw
    cap: Krw
    ratio_percent: int = Field(description="Support ratio of the proven cost, percent (P2)", ge=0, le=100)
    agreed_amount: Krw
    subsidy: Krw
    company_share: Krw
    company_share_percent_of_subsidy: int = Field(0, ge=0, description="P2: the company pays at least this share "
                                                  "of the subsidy itself (0: no such term)")
    advance_deducted: Krw = Field(0, description="I2: the advance (선금) already owed, deducted from this balance")


class PaymentDue(_Payment):
    """A payment is owed by the due date: receipt of the request + 30 days (P3), or after a round closes (P5)."""

    producer = "payments"
    event_name = "payment-due"

    amount: Krw
    request_received_on: date = Field(description="Date the subsidy request (서식4) was received (P3)")
    due_on: date = Field(description="Date by which the payment must be made")
    breakdown: SubsidyBreakdown | None = Field(None, description="P2 breakdown of a subsidy")
    instalment: Literal["advance", "balance"] | None = Field(None, description="I1: a subsidy's advance (선금) or "
                                                             "its balance (잔금, the whole subsidy when the program "
                                                             "pays no advance); None for an allowance")


class PaymentRecorded(_Payment):
    """The center recorded the payment; the payment is closed."""

    producer = "payments"
    event_name = "payment-recorded"

    amount: Krw
    paid_on: date = Field(description="Date the money left the center's account")
    recorded_by: ShortText = Field(description="Operator who recorded the payment")


class PaymentOverdue(_Payment):
    """The due date passed unpaid (P3); raised the same day."""

    producer = "payments"
    event_name = "payment-overdue"

    amount: Krw
    due_on: date = Field(description="Date by which the payment must be made")
    detected_at: UtcInstant


class SubsidyClawedBack(_Payment):
    """Fraud or false evidence after payment: the whole subsidy is demanded back (C7, P4)."""

    producer = "payments"
    event_name = "subsidy-clawed-back"

    amount: Krw
    reason: ShortText = Field(description="Why, in the operator's words or the C7 reason")
