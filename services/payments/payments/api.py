"""Payments' HTTP routes. A company files its subsidy request (서식4) after its result report was accepted (P1);
operators record payments, adjust them with reasons (P4) and read an account number only to make a transfer.
A company sees only its own payments; account numbers are shown masked everywhere else."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import Field, StringConstraints

from payments import handlers, ledger, store
from payments.accounts import ACCOUNT_NUMBER, masked
from payments.rows import PaymentRow
from payments.status import PaymentStatus
from payments.views import (
    AccountView, Adjustment, LedgerEntry, PaymentView, PaymentWithAdjustments, Settlement,
)
from sme_runtime.auth import Principal, Role, requires
from sme_runtime.problems import Problem, RuleViolation
from sme_runtime.routes import reader, started, writer
from sme_runtime.views import AuditEntry, Form
from sme_schemas.values import ApplicationId

router = APIRouter(tags=["payments"])

Operator = Annotated[Principal, Depends(requires(Role.OPERATOR))]
CompanyOrOperator = Annotated[Principal, Depends(requires(Role.OPERATOR, Role.COMPANY))]
PayeeOrOperator = Annotated[Principal, Depends(requires(Role.OPERATOR, Role.COMPANY, Role.EVALUATOR))]
Ref = Annotated[str, Field(min_length=1, max_length=300, description="Reference of a stored file")]
PaymentId = Annotated[str, Path(pattern=r"^PAY-[A-Za-z0-9-]{2,120}$")]
Reader = Annotated[store.PaymentsStore, Depends(reader(store.PaymentsStore))]
Writer = Annotated[handlers.PaymentsUnit, Depends(writer(handlers.unit))]
Config = Annotated[handlers.Payments, Depends(started("payments", handlers.Payments))]


class Documents(Form):
    """P1: itemised statement (quote, transaction statement), expenditure proof (tax invoice, deposit receipt)
    and the bankbook copy."""

    quote_ref: Ref
    transaction_statement_ref: Ref
    tax_invoice_ref: Ref
    deposit_receipt_ref: Ref
    bankbook_copy_ref: Ref


class Account(Form):
    bank: str = Field(min_length=1, max_length=50, examples=["농협은행"])
    number: str = Field(pattern=ACCOUNT_NUMBER.pattern, description="Digits and hyphens; stored encrypted",
                        examples=["301-1234-5678-91"])
    holder: str = Field(min_length=1, max_length=100, description="예금주: the company", examples=["(주)김포정밀"])


class SubsidyRequestForm(Form):
    application_id: ApplicationId
    proven_cost_including_vat: int = Field(gt=0, le=2**63 - 1, description="What the company paid the expert, VAT "
                                           "included (C4), as the tax invoice and deposit receipt prove")
    documents: Documents
    account: Account
    received_on: date | None = Field(None, description="Operators entering a paper request: the day it was "
                                                       "received (P3). Companies file today.")


class AdvanceRequestForm(Form):
    application_id: ApplicationId
    account: Account


class PaymentForm(Form):
    amount: int = Field(ge=0, le=2**63 - 1, description="Must equal the amount owed")
    paid_on: date | None = Field(None, description="Day the money left the center's account; default today (KST)")


class RecoveryForm(Form):
    amount: int = Field(gt=0, le=2**63 - 1, description="What came back, at most what is still owed")
    received_on: date | None = Field(None, description="Day the money reached the center's account; default today")


class ReturnForm(Form):
    reasons: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=20, description="What is missing or wrong in the request (서식4), for the company")


class AdjustmentForm(Form):
    reason: str = Field(min_length=1, max_length=2000, description="P4: which obligation was late or incomplete")
    amount: int | None = Field(None, ge=0, le=2**63 - 1)
    due_on: date | None = None


def _payment(p: PaymentRow) -> dict[str, Any]:
    return {"payment_id": p.payment_id, "purpose": p.purpose, "instalment": p.instalment, "program_id": p.program_id,
            "application_id": p.application_id, "evaluator_id": p.evaluator_id, "round_id": p.round_id,
            "payee_name": p.payee_name, "amount": p.amount, "status": p.status,
            "request_received_on": p.request_received_on, "due_on": p.due_on, "breakdown": p.breakdown,
            "documents": p.documents, "bank": p.bank, "account": masked(p.account_last4),
            "overdue": p.overdue_at is not None and p.status == PaymentStatus.DUE, "overdue_at": p.overdue_at,
            "paid_on": p.paid_on, "recorded_by": p.recorded_by, "clawback_amount": p.clawback_amount,
            "clawed_back_at": p.clawed_back_at, "returned_reasons": p.returned_reasons, "returned_at": p.returned_at,
            "grant_decided_on": p.grant_decided_on, "recovery_due_on": p.recovery_due_on,
            "recovered_amount": p.recovered_amount, "recovered_on": p.recovered_on}


def payment_view(p: PaymentRow) -> PaymentView:
    """What a payment shows outside the vault: the account masked."""
    return PaymentView.model_validate(_payment(p))


def _own(p: PaymentRow | None, principal: Principal) -> PaymentRow:
    """C9: a company's own payment; T1: one of the caller's agencies' programs. Another's does not exist."""
    if p is None or not principal.sees(p.program_id) or (
            principal.role is Role.COMPANY and p.brn != principal.business_registration_number):
        raise RuleViolation(Problem("payment_id", "C9", "no such payment visible to you"), status_code=404)
    return p


async def _seen_by(uow: handlers.PaymentsUnit, payment_id: str, operator: Principal) -> None:
    """T1, before an operator acts on a payment: another agency's payment is as unknown as a missing one."""
    _own(await uow.store.payment(payment_id), operator)


@router.post("/subsidy-requests", status_code=201,
             summary="File the subsidy request (서식4): P1 after the accepted report; P2 amount; due in 30 days (P3)")
async def file_request(principal: CompanyOrOperator, uow: Writer, payments: Config,
                       form: SubsidyRequestForm) -> PaymentView:
    p = await handlers.file_subsidy_request(
        uow, payments, principal, application_id=form.application_id,
        proven_cost_including_vat=form.proven_cost_including_vat, documents=form.documents.model_dump(),
        bank=form.account.bank, account_number=form.account.number, account_holder=form.account.holder,
        received_on=form.received_on)
    return payment_view(p)


@router.post("/advance-requests", status_code=201,
             summary="Request the advance (선금) once the agreement is signed, where the program pays one (I1)")
async def file_advance(principal: CompanyOrOperator, uow: Writer, payments: Config,
                       form: AdvanceRequestForm) -> PaymentView:
    p = await handlers.file_advance_request(
        uow, payments, principal, application_id=form.application_id,
        bank=form.account.bank, account_number=form.account.number, account_holder=form.account.holder)
    return payment_view(p)


@router.get("/programs/{program_id}/settlement",
            summary="The settlement (정산) by funding source: budget, committed, released, paid, clawed back, "
                    "outstanding and unspent, with the checks that it balances (L1–L4)")
async def settlement(operator: Operator, db: Reader, payments: Config, program_id: str) -> Settlement:
    if program_id not in payments.programs or not operator.sees(program_id):
        raise RuleViolation(Problem("program_id", "L4", f"no program {program_id!r} here"), status_code=404)
    program = payments.program(program_id)
    sums = await db.ledger_sums(program_id=program_id)
    recorded = await db.recorded_subsidy_totals(program_id)
    return Settlement(**ledger.settlement(program, ledger.Position(sums), paid_recorded=recorded.paid,
                                          clawed_back_recorded=recorded.clawed_back),
                      receivable=recorded.receivable)


@router.get("/ledger/{application_id}", summary="An application's ledger entries by funding source (L2, L3)")
async def application_ledger(operator: Operator, db: Reader, application_id: ApplicationId) -> list[LedgerEntry]:
    rows = await db.ledger_of(application_id)
    # T1: another agency's application has, for this caller, no entries (as one with no ledger yet)
    return [LedgerEntry(source=r.source, kind=r.kind, amount=r.amount, payment_id=r.payment_id, reason=r.reason,
                        at=r.at) for r in rows if operator.sees(r.program_id)]


@router.get("/payments", summary="Payments: operators their agencies' (T1); a company its own; an evaluator its "
                                   "allowances (P5)")
async def list_payments(principal: PayeeOrOperator, db: Reader, program_id: str | None = None,
                        status: PaymentStatus | None = None, purpose: str | None = None) -> list[PaymentView]:
    brn = principal.business_registration_number if principal.role is Role.COMPANY else None
    evaluator_id = principal.subject if principal.role is Role.EVALUATOR else None
    rows = await db.payments(program_id=program_id, brn=brn, status=status, purpose=purpose,
                             programs=principal.visible_programs(), evaluator_id=evaluator_id)
    return [payment_view(p) for p in rows]


@router.get("/payments/{payment_id}", summary="One payment with its breakdown and adjustments")
async def get_payment(principal: CompanyOrOperator, db: Reader, payment_id: PaymentId) -> PaymentWithAdjustments:
    p = _own(await db.payment(payment_id), principal)
    adjustments = await db.adjustments_of(payment_id)
    return PaymentWithAdjustments.model_validate({**_payment(p), "adjustments": [
        Adjustment(changes=a.changes, reason=a.reason, recorded_by=a.recorded_by, recorded_at=a.recorded_at)
        for a in adjustments]})


@router.get("/payments/{payment_id}/account", summary="The full account number, to make the transfer (audited)")
async def account(operator: Operator, uow: Writer, payments: Config, payment_id: PaymentId) -> AccountView:
    p = _own(await uow.store.payment(payment_id), operator)
    if p.account_ciphertext is None:
        raise RuleViolation(Problem("account", "P1", "no account on file for this payment"), status_code=404)
    await uow.store.audit(at=payments.clock(), actor=operator.subject, action="account-read", payment_id=payment_id,
                          application_id=p.application_id)
    return AccountView(payment_id=payment_id, bank=p.bank, holder=p.account_holder,
                       number=payments.vault.open(p.account_ciphertext))


@router.post("/payments/{payment_id}/record", summary="Record the payment made; it closes (PaymentRecorded)")
async def record(operator: Operator, uow: Writer, payments: Config, payment_id: PaymentId,
                 form: PaymentForm) -> PaymentView:
    await _seen_by(uow, payment_id, operator)
    return payment_view(await handlers.record_payment(uow, payments, payment_id, operator, paid_on=form.paid_on,
                                                      amount=form.amount))


@router.post("/payments/{payment_id}/recoveries", status_code=201,
             summary="Record clawback money that came back (C7, P4): the ledger's clawback is posted now")
async def record_recovery(operator: Operator, uow: Writer, payments: Config, payment_id: PaymentId,
                          form: RecoveryForm) -> PaymentView:
    await _seen_by(uow, payment_id, operator)
    return payment_view(await handlers.record_recovery(uow, payments, payment_id, operator, amount=form.amount,
                                                       received_on=form.received_on))


@router.post("/payments/{payment_id}/return",
             summary="Return a deficient subsidy request with reasons; P3's days restart at the complete one")
async def return_request(operator: Operator, uow: Writer, payments: Config, payment_id: PaymentId,
                         form: ReturnForm) -> PaymentView:
    await _seen_by(uow, payment_id, operator)
    return payment_view(await handlers.return_request(uow, payments, payment_id, operator, reasons=form.reasons))


@router.post("/payments/{payment_id}/grant-decision",
             summary="Decide and notify the grant (교부결정 통지) of a complete subsidy request, before paying it")
async def decide_grant(operator: Operator, uow: Writer, payments: Config,
                       payment_id: PaymentId) -> PaymentView:
    await _seen_by(uow, payment_id, operator)
    return payment_view(await handlers.decide_grant(uow, payments, payment_id, operator))


@router.post("/payments/{payment_id}/adjustments", status_code=201,
             summary="Adjust the amount or the due date, with the reason (P4)")
async def adjust(operator: Operator, uow: Writer, payments: Config, payment_id: PaymentId,
                 form: AdjustmentForm) -> PaymentView:
    await _seen_by(uow, payment_id, operator)
    return payment_view(await handlers.adjust(uow, payments, payment_id, operator, amount=form.amount,
                                              due_on=form.due_on, reason=form.reason))


@router.get("/payments/{payment_id}/audit", summary="Who did what to the payment, when and why")
async def audit(operator: Operator, db: Reader, payment_id: PaymentId) -> list[AuditEntry]:
    _own(await db.payment(payment_id), operator)
    return [AuditEntry(at=r.at, actor=r.actor, action=r.action, detail=r.detail) for r in await db.audit_of(payment_id)]
