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
    # On every payment event, not only PaymentDue: a company told "지급 완료" of its advance had not been paid its
    # subsidy, the work was still to do (the portal's status read the recorded advance as the whole payment)
    instalment: Literal["advance", "balance"] | None = Field(None, description="I1: the subsidy's instalment the "
                                                             "event is about — its advance (선금) or its balance "
                                                             "(잔금, the whole subsidy when the program pays no "
                                                             "advance); None for an allowance, and from a producer "
                                                             "that predates the field on every payment event")

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
    company_share_percent_of_subsidy: int = Field(0, ge=0, le=100,
                                                  description="P2: the company pays at least this share "
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


class SubsidyRequestReturned(_Payment):
    """The center returned a deficient subsidy request (서식4) with its reasons; the 30 days of P3 stop and start
    again from the day the complete request is received (a new PaymentDue then)."""

    producer = "payments"
    event_name = "subsidy-request-returned"

    reasons: tuple[ShortText, ...] = Field(min_length=1, description="What is missing or wrong, for the company")
    request_received_on: date = Field(description="The returned request's receipt (its clock no longer runs)")
    returned_at: UtcInstant


class GrantDecided(_Payment):
    """교부결정 통지: the center checked the complete request and decided the grant — the amount and the day it is
    paid by — before paying (P1–P3)."""

    producer = "payments"
    event_name = "grant-decided"

    amount: Krw
    decided_on: date = Field(description="교부결정일 (KST)")
    due_on: date = Field(description="The day the subsidy is paid by (P3)")
    decided_by: ShortText = Field(description="Operator who decided")


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
    """환수 통지: money paid is demanded back — the whole subsidy after fraud, false evidence or another breach of the
    guideline or the laws of 협약 ⑧-2 (C7, P4), an advance beyond the subsidy (I2) or given up (I3). A receivable:
    the money is recovered when it comes back (ClawbackRecovered), by `due_on`."""

    producer = "payments"
    event_name = "subsidy-clawed-back"

    amount: Krw
    reason: ShortText = Field(description="Why, in the operator's words or the C7 reason")
    due_on: date | None = Field(None, description="The day the amount is to be repaid by (환수 납부기한)")


class ClawbackRecovered(_Payment):
    """Clawback money came back to the center, part or whole; the rest stays owed."""

    producer = "payments"
    event_name = "clawback-recovered"

    amount: Krw = Field(description="What came back this time")
    received_on: date = Field(description="Day the money reached the center's account (KST)")
    outstanding: Krw = Field(description="What is still owed after it")
