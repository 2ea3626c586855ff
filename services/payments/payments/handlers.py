"""Payments' effects: subsidy requests after an accepted report (P1, P2, P3), evaluator allowances (P5),
recording payments, adjustments (P4), the overdue sweep (P3) and clawback after a fraud or false-evidence
termination (C7, P4). Each function runs in the caller's transaction and writes its events to the outbox there."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable


from payments import ledger, metrics, rules, store
from payments.accounts import AccountVault, last4
from payments.rows import PaymentRow
from payments.status import CLOSED, OWED, SETTLED, PaymentStatus
from sme_runtime.auth import Principal, Role
from sme_runtime.consumer import program_of_event
from sme_runtime.problems import Problem, RuleViolation
from sme_runtime.unit import EventHandler, Unit, units
from sme_schemas import Envelope
from sme_schemas.contracts import (
    AgreementSigned, AgreementTerminated, ParticipationGivenUp, ReportAccepted, TerminationReason,
)
from sme_schemas.evaluation import EvaluatorAllowanceDue
from sme_schemas.payments import (
    ClawbackRecovered, GrantDecided, PaymentDue, PaymentOverdue, PaymentRecorded, SubsidyBreakdown, SubsidyClawedBack,
    SubsidyRequestReturned,
)
from sme_schemas.periods import local_date
from sme_programs import ProgramDefinition

SOURCE = "/sme/payments"  # CloudEvents source: /sme/<service>, as every service


# One transaction's store and outbox, as the consumers and the routes give it to the use cases (tests: a fake)
unit = units(store.PaymentsStore, source=SOURCE)
PaymentsUnit = Unit[store.PaymentsStore]
Handler = EventHandler[store.PaymentsStore]


@dataclass
class Payments:
    programs: dict[str, ProgramDefinition]
    clock: Callable[[], datetime]
    vault: AccountVault

    def program(self, program_id: str, version: int | None = None) -> ProgramDefinition:
        """The funding (L1) is the call's, so the newest version's; the support terms and the payment schedule
        are the version the application applied under (V1)."""
        return program_of_event(self.programs, program_id, version)

    def today(self) -> date:
        return local_date(self.clock())


def _due_on(program: ProgramDefinition, received: date) -> date:
    """P3 in the program's working calendar (its local closures beside Korea's public holidays)."""
    return rules.due_on(received, program.payment_due_days, program.working_calendar())


def subsidy_payment_id(application_id: str) -> str:
    return f"PAY-SUB-{application_id}"


def advance_payment_id(application_id: str) -> str:
    return f"PAY-ADV-{application_id}"


def allowance_payment_id(round_id: str, evaluator_id: str) -> str:
    """One allowance per evaluator and round; derived, so a replayed event finds the payment it made."""
    return f"PAY-ALW-{round_id}-{evaluator_id}"


def _payee(p: PaymentRow) -> dict[str, Any]:
    if p.purpose == "subsidy":
        return {"purpose": "subsidy", "application_id": p.application_id, "instalment": p.instalment}
    return {"purpose": "evaluator-allowance", "evaluator_id": p.evaluator_id}


def payment_due(p: PaymentRow, at: datetime) -> PaymentDue:
    return PaymentDue(program_id=p.program_id, occurred_at=at, payment_id=p.payment_id, **_payee(p), amount=p.amount,
                      request_received_on=p.request_received_on, due_on=p.due_on,
                      breakdown=SubsidyBreakdown(**p.breakdown) if p.breakdown else None)


# --- the funding ledger (L1–L4) -------------------------------------------------------------------------------

async def _post(uow: PaymentsUnit, entries: ledger.Entries, *, program_id: str, application_id: str,
                reason: str, at: datetime, payment_id: str | None = None) -> None:
    await uow.store.add_ledger_entries(entries, program_id=program_id, application_id=application_id,
                                       reason=reason, at=at, payment_id=payment_id)


async def _position(uow: PaymentsUnit, application_id: str) -> ledger.Position:
    return ledger.Position(await uow.store.ledger_sums(application_id=application_id))


async def settle_commitment(uow: PaymentsUnit, payments: Payments, application_id: str, *, at: datetime,
                            reason: str) -> None:
    """L3: the application's outstanding commitment brought to what may still be paid: the agreed amount less
    what was paid while it runs; only what is due once the balance was requested or the agreement ended."""
    agreement = await uow.store.signed_agreement(application_id)
    if agreement is None:
        return
    instalments = await uow.store.payments_of_application(application_id)
    if agreement.ended or any(p.instalment == "balance" for p in instalments):
        target = sum(p.amount for p in instalments if p.status in OWED)
    else:
        paid = sum(p.amount for p in instalments if p.status in SETTLED)
        target = max(agreement.agreed_amount - paid, 0)
    program = payments.program(agreement.program_id)
    entries = ledger.toward(program, await _position(uow, application_id), target)
    await _post(uow, entries, program_id=agreement.program_id, application_id=application_id, reason=reason,
                at=at)


async def _ledger_payment(uow: PaymentsUnit, payments: Payments, p: PaymentRow, at: datetime) -> None:
    program = payments.program(p.program_id)
    application_id = _application_of(p)
    entries = ledger.paying(program, await _position(uow, application_id), p.amount)
    await _post(uow, entries, program_id=p.program_id, application_id=application_id, reason="paid", at=at,
                payment_id=p.payment_id)


async def _demand_recovery(uow: PaymentsUnit, payments: Payments, p: PaymentRow, amount: int, reason: str,
                           at: datetime) -> None:
    """환수 통지: a paid instalment is demanded back by `amount` (C7/P4 clawback, I2's excess advance, I3's advance
    on a give-up). A receivable with a due date — `clawback_due_days` counted as the law counts them — recovered
    when the money comes back (record_recovery), which is when the ledger's clawback is posted, not now."""
    program = payments.program(p.program_id)
    due = program.working_calendar().due_date(local_date(at), days=program.clawback_due_days)
    await uow.store.update_payment(p.payment_id, recovery_due_on=due)
    await uow.publish(SubsidyClawedBack(program_id=p.program_id, occurred_at=at, payment_id=p.payment_id,
                                        purpose="subsidy", application_id=p.application_id, amount=amount,
                                        reason=reason, due_on=due))
    metrics.CLAWED_BACK.inc(amount)


async def record_recovery(uow: PaymentsUnit, payments: Payments, payment_id: str, principal: Principal, *, amount: int,
                          received_on: date | None) -> PaymentRow:
    """Clawback money came back (part or whole): now the ledger's clawback is posted, by source in proportion to
    what each paid (L2), and ClawbackRecovered says what is still owed."""
    p = await uow.store.payment(payment_id, lock=True)
    if p is None:
        raise RuleViolation(Problem("payment_id", "P4", f"no payment {payment_id}"), status_code=404)
    owed = (p.clawback_amount or 0) - p.recovered_amount
    today = payments.today()
    received = received_on or today
    problems = []
    if owed <= 0:
        problems.append(Problem("payment_id", "P4", f"nothing is owed back on {payment_id}"))
    elif amount > owed:
        problems.append(Problem("amount", "P4", f"{amount:,} KRW is more than the {owed:,} KRW still owed"))
    if p.clawed_back_at is not None and not local_date(p.clawed_back_at) <= received <= today:
        problems.append(Problem("received_on", "P4", f"{received} is before the clawback was decided "
                                f"({local_date(p.clawed_back_at)}) or in the future"))
    if problems:
        raise RuleViolation(*problems, status_code=409 if owed <= 0 else 422)
    now = payments.clock()
    application_id = _application_of(p)
    entries = ledger.clawing_back(await _position(uow, application_id), amount)
    await _post(uow, entries, program_id=p.program_id, application_id=application_id, reason="recovered", at=now,
                payment_id=payment_id)
    await uow.store.update_payment(payment_id, recovered_amount=p.recovered_amount + amount, recovered_on=received)
    await uow.store.audit(at=now, actor=principal.subject, action="recovered", payment_id=payment_id,
                          application_id=p.application_id, detail={"amount": amount, "received_on": received,
                                                                   "outstanding": owed - amount})
    await uow.publish(ClawbackRecovered(program_id=p.program_id, occurred_at=now, payment_id=payment_id,
                                        purpose="subsidy", application_id=p.application_id, amount=amount,
                                        received_on=received, outstanding=owed - amount))
    return await uow.store.written_payment(payment_id)


# --- events in ------------------------------------------------------------------------------------------------

def on_agreement_signed(payments: Payments) -> Handler:
    async def handle(uow: PaymentsUnit, envelope: Envelope, event: AgreementSigned) -> None:
        """L3: the agreed amount is committed over the funding sources; the company may now request an advance
        where the program pays one (I1)."""
        program = payments.program(event.program_id, event.program_version)
        if await uow.store.insert_signed_agreement(
                application_id=event.application_id, program_id=event.program_id, agreement_id=event.agreement_id,
                brn=event.business_registration_number, agreed_amount=event.agreed_amount, signed_at=event.signed_at,
                program_version=program.version):
            await settle_commitment(uow, payments, event.application_id, at=event.signed_at,
                                    reason=f"agreement {event.agreement_id} signed")

    return handle


def on_report_accepted(payments: Payments) -> Handler:
    async def handle(uow: PaymentsUnit, envelope: Envelope, event: ReportAccepted) -> None:
        program = payments.program(event.program_id, event.program_version)
        await uow.store.insert_accepted_report(
            application_id=event.application_id, program_id=event.program_id, agreement_id=event.agreement_id,
            brn=event.business_registration_number, agreed_amount=event.agreed_amount, accepted_at=event.accepted_at,
            program_version=program.version)
        agreement = await uow.store.signed_agreement(event.application_id, lock=True)
        if agreement is not None and agreement.agreed_amount != event.agreed_amount:
            # C5 amendments change the agreed amount; the report states the final one (L3)
            await uow.store.update_signed_agreement(event.application_id, agreed_amount=event.agreed_amount)
            await settle_commitment(uow, payments, event.application_id, at=event.accepted_at,
                                    reason=f"agreed amount {agreement.agreed_amount:,} → {event.agreed_amount:,}")

    return handle


def on_participation_given_up(payments: Payments) -> Handler:
    async def handle(uow: PaymentsUnit, envelope: Envelope, event: ParticipationGivenUp) -> None:
        """C6: a signed agreement given up owes nothing more: an unpaid advance is cancelled, a paid one is to be
        returned (I3: it paid for work that will not be done) and the commitment released (L3)."""
        payments.program(event.program_id)
        if await uow.store.signed_agreement(event.application_id, lock=True) is None:
            return
        await uow.store.update_signed_agreement(event.application_id, ended="given-up")
        for p in await uow.store.payments_of_application(event.application_id, lock=True):
            if p.status in OWED:
                await uow.store.update_payment(p.payment_id, status=PaymentStatus.CANCELLED)
                await uow.store.audit(at=event.approved_at, actor="contracts", action="cancelled",
                                      payment_id=p.payment_id, application_id=event.application_id,
                                      detail={"reason": "give-up"})
            elif p.status == PaymentStatus.PAID and p.instalment == "advance" and p.amount > (p.clawback_amount or 0):
                amount = p.amount - (p.clawback_amount or 0)
                await uow.store.update_payment(p.payment_id, status=PaymentStatus.CLAWED_BACK, clawback_amount=p.amount,
                                               clawed_back_at=event.approved_at)
                await uow.store.audit(at=event.approved_at, actor="contracts", action="clawed-back",
                                      payment_id=p.payment_id, application_id=event.application_id,
                                      detail={"reason": "give-up", "amount": amount})
                await _demand_recovery(uow, payments, p, amount, "I3: the advance is returned on a give-up (C6)",
                                       event.approved_at)
        await settle_commitment(uow, payments, event.application_id, at=event.approved_at, reason="given up")

    return handle


def on_agreement_terminated(payments: Payments) -> Handler:
    async def handle(uow: PaymentsUnit, envelope: Envelope, event: AgreementTerminated) -> None:
        """C7/P4: fraud or false evidence claws back a paid subsidy and stops an unpaid one."""
        payments.program(event.program_id)
        await uow.store.insert_termination(application_id=event.application_id, program_id=event.program_id,
                                           agreement_id=event.agreement_id, reason=event.reason.value,
                                           clawback=event.clawback, terminated_at=event.terminated_at)
        if await uow.store.signed_agreement(event.application_id, lock=True) is not None:
            await uow.store.update_signed_agreement(event.application_id, ended="terminated")
        if event.clawback:
            await claw_back(uow, payments, event.application_id, event.reason, at=event.terminated_at)
        await settle_commitment(uow, payments, event.application_id, at=event.terminated_at,
                                reason=f"terminated ({event.reason.value})")

    return handle


async def claw_back(uow: PaymentsUnit, payments: Payments, application_id: str, reason: TerminationReason, *,
                    at: datetime) -> None:
    """C7/P4 with 협약 ⑧-2 over every instalment: a due one is cancelled, a paid one demanded back whole (less what
    I2 demanded already)."""
    for p in await uow.store.payments_of_application(application_id, lock=True):
        if p.status in CLOSED:
            continue
        if p.status in OWED:
            await uow.store.update_payment(p.payment_id, status=PaymentStatus.CANCELLED)
            await uow.store.audit(at=at, actor="contracts", action="cancelled", payment_id=p.payment_id,
                                  application_id=application_id, detail={"reason": reason.value})
            continue
        already = p.clawback_amount or 0
        amount = rules.clawback(reason, p.amount - already)
        await uow.store.update_payment(p.payment_id, status=PaymentStatus.CLAWED_BACK, clawback_amount=already + amount,
                                       clawed_back_at=at)
        await uow.store.audit(at=at, actor="contracts", action="clawed-back", payment_id=p.payment_id,
                              application_id=application_id, detail={"reason": reason.value, "amount": amount})
        if amount:
            await _demand_recovery(uow, payments, p, amount, reason.value, at)


def on_allowance_due(payments: Payments) -> Handler:
    async def handle(uow: PaymentsUnit, envelope: Envelope, event: EvaluatorAllowanceDue) -> None:
        """F7/P5: the allowance is owed from the round's close, due like any payment (P3's days)."""
        program = payments.program(event.program_id)
        received = local_date(event.occurred_at)
        payment_id = allowance_payment_id(event.round_id, event.evaluator_id)
        created = await uow.store.insert_payment(
            payment_id=payment_id, purpose="evaluator-allowance", program_id=event.program_id,
            evaluator_id=event.evaluator_id, round_id=event.round_id, payee_name=event.evaluator_name,
            amount=event.amount, status=PaymentStatus.DUE, request_received_on=received,
            due_on=_due_on(program, received), filed_by="evaluation",
            created_at=event.occurred_at)
        if created:
            await uow.publish(payment_due(await uow.store.written_payment(payment_id), event.occurred_at))
            metrics.DUE.labels("evaluator-allowance").inc()

    return handle


# --- P1–P3 the subsidy request --------------------------------------------------------------------------------

async def file_subsidy_request(uow: PaymentsUnit, payments: Payments, principal: Principal, *,
                               application_id: str, proven_cost_including_vat: int, documents: dict[str, str],
                               bank: str, account_number: str, account_holder: str,
                               received_on: date | None) -> PaymentRow:
    """서식4: accepted only after the result report was accepted (P1), once per application — again only after the
    center returned it as deficient; the subsidy follows P2 and is due `payment_due_days` after the complete
    request's receipt (P3: a returned request's days no longer count). A company files today; an operator
    entering a request received on paper gives the day it was received."""
    report = await uow.store.accepted_report(application_id)
    is_operator = principal.role is Role.OPERATOR
    if report is None or not principal.sees(report.program_id) or not (
            is_operator or principal.business_registration_number == report.brn):  # C9, T1: as if there were none
        # 404 as for a report that is not there: the caller learns nothing of another's application (C9, T1)
        raise RuleViolation(Problem("application_id", "P1", f"no accepted result report for {application_id}: the "
                                    "subsidy is requested after the center accepts the report"), status_code=404)
    ended = await uow.store.termination(application_id)
    if ended is not None:
        raise RuleViolation(Problem("application_id", "C7", f"the agreement was terminated ({ended.reason}) on "
                                    f"{local_date(ended.terminated_at)}"), status_code=409)
    today = payments.today()
    received = received_on if (is_operator and received_on) else today
    if received > today:
        raise RuleViolation(Problem("received_on", "P3", f"{received} is in the future"))
    program, now = payments.program(report.program_id, report.program_version), payments.clock()
    earlier = await uow.store.payment_of_application(application_id, "balance", lock=True)
    if earlier is not None and earlier.status != PaymentStatus.RETURNED:
        raise RuleViolation(Problem("application_id", "P1", f"a subsidy request for {application_id} was filed "
                                    "already; the center adjusts it (P4)"), status_code=409)
    advance = await uow.store.payment_of_application(application_id, "advance", lock=True)
    outstanding = advance is not None and advance.status in (PaymentStatus.DUE, PaymentStatus.PAID)
    advanced = advance.amount - (advance.clawback_amount or 0) if advance is not None and outstanding else 0
    breakdown = rules.subsidy(proven_cost_including_vat, program.support, report.agreed_amount, advance=advanced)
    if advance is not None and (excess := rules.excess_advance(breakdown, advanced)):
        await _advance_beyond_subsidy(uow, payments, advance, breakdown.subsidy, excess, principal, now)
    balance = rules.balance(breakdown)
    payment_id = subsidy_payment_id(application_id)
    terms = dict(
        payee_name=account_holder, amount=balance,
        # I2: a balance of nothing (the advance covered the subsidy) is closed at once; nothing is owed
        status=PaymentStatus.DUE if balance else PaymentStatus.PAID, paid_on=None if balance else received,
        request_received_on=received, due_on=_due_on(program, received),
        breakdown=breakdown.model_dump(mode="json"), documents=documents, bank=bank, account_holder=account_holder,
        account_ciphertext=payments.vault.seal(account_number), account_last4=last4(account_number),
        filed_by=principal.subject)
    if earlier is None:
        await uow.store.insert_payment(payment_id=payment_id, purpose="subsidy", instalment="balance",
                                       program_id=report.program_id, application_id=application_id, brn=report.brn,
                                       created_at=now, **terms)
    else:  # P3: the complete request after a return; the clock starts again from its receipt
        await uow.store.update_payment(payment_id, **terms, overdue_at=None)
    p = await uow.store.written_payment(payment_id)
    await uow.store.audit(at=now, actor=principal.subject, action="requested" if earlier is None else "refiled",
                          payment_id=payment_id, application_id=application_id,
                          detail={"breakdown": p.breakdown, "received_on": received})
    if balance:
        await uow.publish(payment_due(p, now))
        metrics.DUE.labels("subsidy").inc()
    await settle_commitment(uow, payments, application_id, at=now, reason="balance requested")
    return p


async def return_request(uow: PaymentsUnit, payments: Payments, payment_id: str, principal: Principal, *,
                         reasons: list[str]) -> PaymentRow:
    """P3 with 서식4: a deficient subsidy request goes back to the company with the reasons, before the grant is
    decided; its days stop counting, and the request filed again complete is received anew."""
    p = await _due_payment(uow, payment_id, "P3")
    problems = []
    if p.purpose != "subsidy" or p.instalment != "balance":
        problems.append(Problem("payment_id", "P1", "only a subsidy request (서식4) is returned to be completed"))
    if p.grant_decided_on is not None:
        problems.append(Problem("status", "P3", f"the grant was decided on {p.grant_decided_on}: adjust the payment "
                                "with a reason instead (P4)"))
    if problems:
        raise RuleViolation(*problems, status_code=409)
    now = payments.clock()
    await uow.store.update_payment(payment_id, status=PaymentStatus.RETURNED, returned_reasons=reasons,
                                   returned_at=now, returns=p.returns + 1)
    await uow.store.audit(at=now, actor=principal.subject, action="returned", payment_id=payment_id,
                          application_id=p.application_id,
                          detail={"reasons": reasons, "request_received_on": p.request_received_on})
    await uow.publish(SubsidyRequestReturned(program_id=p.program_id, occurred_at=now, payment_id=payment_id,
                                             **_payee(p), reasons=tuple(reasons),
                                             request_received_on=p.request_received_on, returned_at=now))
    return await uow.store.written_payment(payment_id)


async def decide_grant(uow: PaymentsUnit, payments: Payments, payment_id: str, principal: Principal) -> PaymentRow:
    """교부결정 통지: the center checked the complete request and decides the grant — what is paid and by when —
    as its own step, notified to the company, before the subsidy is paid."""
    p = await _due_payment(uow, payment_id, "P3")
    if p.purpose != "subsidy":
        raise RuleViolation(Problem("payment_id", "P5", "an evaluator allowance is paid without a grant decision"),
                            status_code=409)
    if p.grant_decided_on is not None:
        raise RuleViolation(Problem("status", "P3", f"the grant was decided on {p.grant_decided_on}"),
                            status_code=409)
    now, today = payments.clock(), payments.today()
    await uow.store.update_payment(payment_id, grant_decided_on=today, grant_decided_by=principal.subject)
    await uow.store.audit(at=now, actor=principal.subject, action="grant-decided", payment_id=payment_id,
                          application_id=p.application_id, detail={"amount": p.amount, "due_on": p.due_on})
    await uow.publish(GrantDecided(program_id=p.program_id, occurred_at=now, payment_id=payment_id, **_payee(p),
                                   amount=p.amount, decided_on=today, due_on=p.due_on, decided_by=principal.subject))
    return await uow.store.written_payment(payment_id)


async def _advance_beyond_subsidy(uow: PaymentsUnit, payments: Payments, advance: PaymentRow, subsidy: int, excess: int,
                                  principal: Principal, now: datetime) -> None:
    """I2: the proven cost gives less than the advance: an unpaid advance is lowered to the subsidy (P4, with
    the reason), a paid one is recovered by the difference (`excess`)."""
    reason = (f"I2: the subsidy the proven cost gives ({subsidy:,} KRW) is less than the advance "
              f"({advance.amount:,} KRW)")
    if advance.status == PaymentStatus.DUE:
        await uow.store.update_payment(advance.payment_id, amount=subsidy)
        await uow.store.add_adjustment(payment_id=advance.payment_id, changes={"amount": [advance.amount, subsidy]},
                                       reason=reason, by="rules", at=now)
        await uow.publish(payment_due(await uow.store.written_payment(advance.payment_id), now))
        return
    await uow.store.update_payment(advance.payment_id, clawback_amount=(advance.clawback_amount or 0) + excess,
                                   clawed_back_at=now)
    await uow.store.audit(at=now, actor=principal.subject, action="excess-advance-recovered",
                          payment_id=advance.payment_id, application_id=advance.application_id,
                          detail={"amount": excess, "subsidy": subsidy})
    await _demand_recovery(uow, payments, advance, excess, reason, now)


async def file_advance_request(uow: PaymentsUnit, payments: Payments, principal: Principal, *,
                               application_id: str, bank: str, account_number: str, account_holder: str) -> PaymentRow:
    """I1: where the program pays an advance, the company (or an operator for it) requests it once the
    agreement is signed and before the balance; it is due like any payment (P3)."""
    agreement = await uow.store.signed_agreement(application_id)
    is_operator = principal.role is Role.OPERATOR
    if agreement is None or not principal.sees(agreement.program_id) or not (
            is_operator or principal.business_registration_number == agreement.brn):  # C9, T1
        raise RuleViolation(Problem("application_id", "I1", f"no signed agreement for {application_id}: an advance "
                                    "is requested once every party has signed (C1)"), status_code=404)
    program, now = payments.program(agreement.program_id, agreement.program_version), payments.clock()
    amount = program.payment_schedule.advance(agreement.agreed_amount)
    problems = []
    if not amount:
        problems.append(Problem("application_id", "I1", f"{program.name} pays no advance "
                                "(payment_schedule.advance_percent is 0): the subsidy is paid after the report"))
    if agreement.ended:
        problems.append(Problem("application_id", "C7", f"the agreement ended ({agreement.ended})"))
    if await uow.store.payment_of_application(application_id, "balance") is not None:
        problems.append(Problem("application_id", "I1", "the balance was requested already; no advance after it"))
    if problems:
        raise RuleViolation(*problems, status_code=409)
    received = payments.today()
    payment_id = advance_payment_id(application_id)
    created = await uow.store.insert_payment(
        payment_id=payment_id, purpose="subsidy", instalment="advance", program_id=agreement.program_id,
        application_id=application_id, brn=agreement.brn, payee_name=account_holder, amount=amount,
        status=PaymentStatus.DUE, request_received_on=received, due_on=_due_on(program, received),
        bank=bank, account_holder=account_holder, account_ciphertext=payments.vault.seal(account_number),
        account_last4=last4(account_number), filed_by=principal.subject, created_at=now)
    if not created:
        raise RuleViolation(Problem("application_id", "I1", f"the advance for {application_id} was requested "
                                    "already"), status_code=409)
    p = await uow.store.written_payment(payment_id)
    await uow.store.audit(at=now, actor=principal.subject, action="advance-requested", payment_id=payment_id,
                          application_id=application_id, detail={"amount": amount, "percent":
                                                             program.payment_schedule.advance_percent})
    await uow.publish(payment_due(p, now))
    metrics.DUE.labels("subsidy").inc()
    return p


# --- recording, adjusting -------------------------------------------------------------------------------------

def _application_of(p: PaymentRow) -> str:
    """The application a subsidy is paid for; an evaluator's allowance has none (and no ledger, no clawback)."""
    if p.application_id is None:
        raise RuleViolation(Problem("payment_id", "P4", f"{p.payment_id} is an evaluator's allowance, not a "
                                    "subsidy"), status_code=409)
    return p.application_id


async def _due_payment(uow: PaymentsUnit, payment_id: str, rule: str) -> PaymentRow:
    p = await uow.store.payment(payment_id, lock=True)
    if p is None:
        raise RuleViolation(Problem("payment_id", rule, f"no payment {payment_id}"), status_code=404)
    if p.status != PaymentStatus.DUE:
        raise RuleViolation(Problem("status", rule, f"payment {payment_id} is {p.status}, not due"), status_code=409)
    return p


async def record_payment(uow: PaymentsUnit, payments: Payments, payment_id: str, principal: Principal, *,
                         paid_on: date | None, amount: int) -> PaymentRow:
    """The center paid: the amount must be what is owed; the payment is closed (PaymentRecorded)."""
    p = await _due_payment(uow, payment_id, "P3")
    today = payments.today()
    paid_on = paid_on or today
    problems = []
    if p.purpose == "subsidy" and p.grant_decided_on is None:
        raise RuleViolation(Problem("grant_decided_on", "P3", "the grant is decided and notified (교부결정 통지) "
                                    "before the subsidy is paid"), status_code=409)
    if amount != p.amount:
        problems.append(Problem("amount", "P2", f"{amount:,} KRW differs from the {p.amount:,} KRW owed; adjust "
                                "the payment with a reason first (P4)"))
    if not p.request_received_on <= paid_on <= today:
        problems.append(Problem("paid_on", "P3", f"{paid_on} is before the request ({p.request_received_on}) or "
                                "in the future"))
    if problems:
        raise RuleViolation(*problems)
    now = payments.clock()
    await uow.store.update_payment(payment_id, status=PaymentStatus.PAID, paid_on=paid_on,
                                   recorded_by=principal.subject, recorded_at=now)
    await uow.store.audit(at=now, actor=principal.subject, action="paid", payment_id=payment_id,
                          application_id=p.application_id,
                          detail={"amount": amount, "paid_on": paid_on, "late": rules.is_overdue(p.due_on, paid_on)})
    await uow.publish(PaymentRecorded(program_id=p.program_id, occurred_at=now, payment_id=payment_id,
                                      **_payee(p), amount=amount, paid_on=paid_on,
                                      recorded_by=principal.subject))
    metrics.PAID.labels(p.purpose).inc(amount)
    if p.purpose == "subsidy":
        await _ledger_payment(uow, payments, p, now)
        await settle_commitment(uow, payments, _application_of(p), at=now, reason=f"{p.instalment} paid")
    return await uow.store.written_payment(payment_id)


async def adjust(uow: PaymentsUnit, payments: Payments, payment_id: str, principal: Principal, *,
                 amount: int | None, due_on: date | None, reason: str) -> PaymentRow:
    """P4: the center changes the timing or lowers the amount when the company's obligations are late or
    incomplete, with its reason; a new PaymentDue tells the bus the terms now owed."""
    p = await _due_payment(uow, payment_id, "P4")
    changes: dict[str, list[Any]] = {}
    problems = []
    if amount is not None and amount != p.amount:
        most = p.breakdown["subsidy"] - p.breakdown.get("advance_deducted", 0) if p.breakdown else p.amount
        if not 0 <= amount <= most:
            problems.append(Problem("amount", "P4", f"{amount:,} KRW: an adjustment stays within 0 and the "
                                    f"{most:,} KRW the rules give (P2)"))
        changes["amount"] = [p.amount, amount]
    if due_on is not None and due_on != p.due_on:
        if due_on < p.request_received_on:
            problems.append(Problem("due_on", "P4", f"{due_on} is before the request ({p.request_received_on})"))
        changes["due_on"] = [p.due_on, due_on]
    if not changes and not problems:
        problems.append(Problem("changes", "P4", "neither the amount nor the due date differs"))
    if problems:
        raise RuleViolation(*problems)
    now = payments.clock()
    values = {k: v[1] for k, v in changes.items()}
    if "due_on" in values and not rules.is_overdue(values["due_on"], payments.today()):
        values["overdue_at"] = None  # a new, later due date: overdue again only if it passes too
    await uow.store.update_payment(payment_id, **values)
    await uow.store.add_adjustment(payment_id=payment_id, changes=changes, reason=reason, by=principal.subject,
                                   at=now)
    await uow.store.audit(at=now, actor=principal.subject, action="adjusted", payment_id=payment_id,
                          application_id=p.application_id, detail={"changes": changes, "reason": reason})
    p = await uow.store.written_payment(payment_id)
    await uow.publish(payment_due(p, now))
    if p.purpose == "subsidy":
        await settle_commitment(uow, payments, _application_of(p), at=now, reason=f"adjusted: {reason}")
    return p


# --- P3 the overdue sweep -------------------------------------------------------------------------------------

async def raise_overdue(uow: PaymentsUnit, payments: Payments) -> list[str]:
    """Due dates live in rows, not timers, so a restart loses none: every sweep raises PaymentOverdue once for
    each unpaid payment whose due date has passed (the day after the due date, KST)."""
    now = payments.clock()
    raised = []
    for p in await uow.store.mark_overdue(payments.today(), now):
        await uow.publish(PaymentOverdue(program_id=p.program_id, occurred_at=now, payment_id=p.payment_id,
                                         **_payee(p), amount=p.amount, due_on=p.due_on, detected_at=now))
        await uow.store.audit(at=now, actor="rules", action="overdue", payment_id=p.payment_id,
                              application_id=p.application_id, detail={"due_on": p.due_on, "amount": p.amount})
        metrics.OVERDUE_RAISED.labels(p.purpose).inc()
        raised.append(p.payment_id)
    return raised
