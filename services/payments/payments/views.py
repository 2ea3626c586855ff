"""What payments' routes answer (response models; sme_runtime.views). No bank account number leaves except through
the audited account route."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from payments.status import PaymentStatus
from sme_runtime.views import View


class PaymentView(View):
    payment_id: str
    purpose: str = Field(description="subsidy | evaluator-allowance")
    instalment: str | None = Field(description="advance | balance for a subsidy (I1); none for an allowance")
    program_id: str
    application_id: str | None
    evaluator_id: str | None
    round_id: str | None
    payee_name: str
    amount: int
    status: PaymentStatus
    request_received_on: date
    due_on: date = Field(description="P3: received + the program's payment days")
    breakdown: dict[str, Any] | None = Field(description="P2, as computed at the request (SubsidyBreakdown)")
    documents: dict[str, str] | None
    bank: str | None
    account: str | None = Field(description="The account, masked: ****1234")
    overdue: bool
    overdue_at: datetime | None
    paid_on: date | None
    recorded_by: str | None
    clawback_amount: int | None
    clawed_back_at: datetime | None
    recovery_due_on: date | None = Field(None, description="C7/P4: the day the demanded clawback is to be repaid by")
    recovered_amount: int = Field(0, description="Of the clawback, what came back so far (the ledger's clawback)")
    recovered_on: date | None = None
    returned_reasons: list[str] | None = Field(None, description="P3: why the request was last returned (서식4)")
    returned_at: datetime | None = None
    grant_decided_on: date | None = Field(None, description="교부결정일: the grant decided and notified (P3)")


class Adjustment(View):
    changes: dict[str, list[Any]] = Field(description="{field: [before, after]} (P4)")
    reason: str
    recorded_by: str
    recorded_at: datetime


class PaymentWithAdjustments(PaymentView):
    adjustments: list[Adjustment]


class AccountView(View):
    payment_id: str
    bank: str | None
    holder: str | None
    number: str


class LedgerEntry(View):
    source: str = Field(description="The funding source (L1)")
    kind: str = Field(description="commitment | release | payment | clawback")
    amount: int
    payment_id: str | None
    reason: str
    at: datetime


class Totals(View):
    budget: int
    committed: int
    released: int
    paid: int
    clawed_back: int
    net_spent: int
    outstanding: int
    unspent: int


class SourceLine(Totals):
    """One funding source's line (L1): its budget and what happened to it."""

    source: str
    title: str


class Settlement(View):
    """L4: the settlement (정산) by funding source, with the checks that make it balance."""

    program_id: str
    name: str
    sources: list[SourceLine]
    total: Totals
    paid_recorded: int
    clawed_back_recorded: int = Field(description="Recovered: the clawbacks' money that came back (C7, P4)")
    receivable: int = Field(0, description="Clawbacks demanded and not yet recovered (환수 미수금)")
    balanced: bool
    problems: list[str]


