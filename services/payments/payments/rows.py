"""What payments' store reads, column by column (sme_runtime.rows)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sme_runtime.rows import JsonObject


@dataclass(frozen=True, slots=True)
class AcceptedReportRow:
    """ReportAccepted as payments keeps it: what a subsidy request is judged against (P1)."""

    application_id: str
    program_id: str
    agreement_id: str
    brn: str | None
    agreed_amount: int
    accepted_at: datetime
    program_version: int | None


@dataclass(frozen=True, slots=True)
class TerminationRow:
    """AgreementTerminated: no more payment, and a clawback when it says so (C7, P4)."""

    application_id: str
    program_id: str
    agreement_id: str
    reason: str
    clawback: bool
    terminated_at: datetime


@dataclass(frozen=True, slots=True)
class PaymentRow:
    """A payment owed: a subsidy instalment or an evaluator's allowance, from request to paid (or clawed back)."""

    payment_id: str
    purpose: str
    program_id: str
    application_id: str | None
    brn: str | None
    evaluator_id: str | None
    round_id: str | None
    payee_name: str
    amount: int
    status: str
    request_received_on: date
    due_on: date
    breakdown: JsonObject | None
    documents: JsonObject | None
    bank: str | None
    account_holder: str | None
    account_ciphertext: bytes | None
    account_last4: str | None
    filed_by: str
    created_at: datetime
    overdue_at: datetime | None
    paid_on: date | None
    recorded_by: str | None
    recorded_at: datetime | None
    clawback_amount: int | None
    clawed_back_at: datetime | None
    instalment: Literal["advance", "balance"] | None  # None: an evaluator's allowance
    returned_reasons: list[str] | None
    returned_at: datetime | None
    returns: int
    grant_decided_on: date | None
    grant_decided_by: str | None
    recovery_due_on: date | None
    recovered_amount: int
    recovered_on: date | None


@dataclass(frozen=True, slots=True)
class SignedAgreementRow:
    """AgreementSigned as payments keeps it: what an advance is judged against and what the ledger commits (L2)."""

    application_id: str
    program_id: str
    agreement_id: str
    brn: str | None
    agreed_amount: int
    signed_at: datetime
    program_version: int | None
    ended: str | None


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One movement of the funding ledger by source (L1–L4)."""

    id: int
    program_id: str
    application_id: str
    source: str
    kind: str
    amount: int
    payment_id: str | None
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class AdjustmentRow:
    """An operator's change to a payment (P4), with its reason."""

    id: int
    payment_id: str
    changes: JsonObject
    reason: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class SubsidyTotals:
    """What the payments themselves say was paid, recovered and is still receivable (L4's cross-check)."""

    paid: int
    clawed_back: int
    receivable: int


@dataclass(frozen=True, slots=True)
class PaymentTotal:
    """Payments of one purpose and status (and overdue or not) counted and summed, for the dashboard."""

    purpose: str
    status: str
    overdue: bool
    n: int
    amount: int
