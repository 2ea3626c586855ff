"""Payments' use cases on an in-memory unit of work (tests/fakes): each consumer fed the catalog's example of its
event, and the subsidy request (P1–P3) whose result is the catalog's own PaymentDue example. PostgreSQL and Kafka:
tests/integration/test_contracts_payments.py."""
from __future__ import annotations

from datetime import date

import pytest
from cryptography.fernet import Fernet

from payments import handlers
from payments.accounts import AccountVault
from sme_runtime.auth import Principal, Role
from sme_runtime.problems import RuleViolation
from sme_schemas.contracts import AgreementSigned, AgreementTerminated, ParticipationGivenUp, ReportAccepted
from sme_schemas.evaluation import EvaluatorAllowanceDue
from sme_schemas.payments import ClawbackRecovered, GrantDecided, PaymentDue, SubsidyClawedBack, SubsidyRequestReturned
from tests.fakes.payments import FakePaymentsStore
from tests.fakes.unit import Clock, FakeUnit, PROGRAMS, consume, example, run, utc

APP = example(AgreementSigned).application_id
BRN = "1248100998"
COMPANY = Principal(f"company:{BRN}", Role.COMPANY, BRN)
CENTER = Principal("kim", Role.OPERATOR, agencies=frozenset({"gimpo"})).within(PROGRAMS)
ANOTHER_AGENCY = Principal("park", Role.OPERATOR, agencies=frozenset({"seoul-sba"})).within(PROGRAMS)
DOCUMENTS = {"quote_ref": "docs://q.pdf", "transaction_statement_ref": "docs://t.pdf", "tax_invoice_ref": "docs://i.pdf",
             "deposit_receipt_ref": "docs://d.pdf", "bankbook_copy_ref": "docs://b.pdf"}


@pytest.fixture
def world():
    # 2024-11-25 KST: the day the canonical PaymentDue example's request was received.
    payments = handlers.Payments(programs=dict(PROGRAMS), clock=Clock(utc("2024-11-25T01:00:00+00:00")),
                                 vault=AccountVault(Fernet.generate_key().decode()))
    return payments, FakeUnit(FakePaymentsStore())


def request(payments, uow, principal=COMPANY, **changes):
    values = dict(application_id=APP, proven_cost_including_vat=5_500_000, documents=DOCUMENTS, bank="농협",
                  account_number="301-1234-5678-91", account_holder="(주)김포정밀", received_on=None)
    return run(handlers.file_subsidy_request(uow, payments, principal, **{**values, **changes}))


def signed_and_reported(payments, uow) -> None:
    run(consume(handlers.on_agreement_signed(payments), uow,
                example(AgreementSigned, business_registration_number=BRN)))
    run(consume(handlers.on_report_accepted(payments), uow, example(ReportAccepted, business_registration_number=BRN)))


def committed(uow) -> int:
    sums = run(uow.store.ledger_sums(application_id=APP))
    return sum(v if kind == "commitment" else -v for (_, kind), v in sums.items() if kind != "clawback")


def test_the_example_signature_commits_the_agreed_amount_once_l3(world):
    payments, uow = world
    for _ in range(2):  # and its redelivery
        run(consume(handlers.on_agreement_signed(payments), uow, example(AgreementSigned)))
    assert committed(uow) == 5_000_000


def test_the_subsidy_request_owes_what_the_catalogs_payment_due_example_says_p1_p3(world):
    payments, uow = world
    signed_and_reported(payments, uow)
    p = request(payments, uow)
    [due] = uow.events(PaymentDue)
    expected = example(PaymentDue)
    assert (due.amount, due.due_on, due.request_received_on, due.breakdown) == (
        expected.amount, expected.due_on, expected.request_received_on, expected.breakdown)
    assert p.account_last4 == "7891" and b"301" not in bytes(p.account_ciphertext)
    with pytest.raises(RuleViolation) as again:
        request(payments, uow)
    assert again.value.problems[0].rule == "P1" and again.value.status_code == 409
    assert len(uow.events(PaymentDue)) == 1


def test_no_request_before_the_report_is_accepted_p1(world):
    payments, uow = world
    run(consume(handlers.on_agreement_signed(payments), uow, example(AgreementSigned)))
    with pytest.raises(RuleViolation) as refused:
        request(payments, uow)
    assert refused.value.problems[0].rule == "P1" and uow.store.payments_ == {}


def test_another_company_cannot_request_the_subsidy(world):
    payments, uow = world
    signed_and_reported(payments, uow)
    stranger = Principal("company:2208162517", Role.COMPANY, "2208162517")
    with pytest.raises(RuleViolation):
        request(payments, uow, stranger)
    assert uow.store.payments_ == {}


def test_another_agency_s_operator_cannot_enter_the_request_t1(world):
    payments, uow = world
    signed_and_reported(payments, uow)
    with pytest.raises(RuleViolation) as refused:
        request(payments, uow, ANOTHER_AGENCY)
    assert (refused.value.problems[0].field, refused.value.problems[0].rule) == ("application_id", "P1")
    assert uow.store.payments_ == {}
    assert request(payments, uow, CENTER).application_id == APP


def test_an_operator_enters_a_paper_request_on_the_day_it_was_received_but_not_in_the_future_p3(world):
    payments, uow = world
    signed_and_reported(payments, uow)
    with pytest.raises(RuleViolation) as refused:
        request(payments, uow, CENTER, received_on=date(2024, 11, 26))
    assert (refused.value.problems[0].field, refused.value.problems[0].rule) == ("received_on", "P3")
    p = request(payments, uow, CENTER, received_on=date(2024, 11, 20))
    assert (p.request_received_on, p.due_on) == (date(2024, 11, 20), date(2024, 12, 20))


def test_the_example_termination_for_fraud_claws_back_a_paid_subsidy_c7(world):
    payments, uow = world
    signed_and_reported(payments, uow)
    p = request(payments, uow)
    payments.clock.advance(days=15)
    run(handlers.decide_grant(uow, payments, p.payment_id, CENTER))
    run(handlers.record_payment(uow, payments, p.payment_id, CENTER, paid_on=None, amount=p.amount))
    uow.take()
    run(consume(handlers.on_agreement_terminated(payments), uow,
                example(AgreementTerminated, reason="fraud", clawback=True, freed_amount=0)))
    [back] = uow.events(SubsidyClawedBack)
    assert back.amount == 5_000_000 and uow.store.payments_[p.payment_id].status == "clawed-back"


@pytest.mark.parametrize("reason, demanded", [("fraud", 5_000_000), ("false-evidence", 5_000_000),
                                              ("breach-of-law", 5_000_000), ("relocation", 0),
                                              ("refused-correction", 0)])
def test_every_legal_breach_of_clause_8_2_claws_back_in_full_as_a_receivable(world, reason, demanded):
    """협약 ⑧-2: a breach of the guideline or the laws it names recovers the whole subsidy. The clawback is
    demanded with a notice and a due date; the ledger counts it back only as the money returns, part by part."""
    payments, uow = world
    signed_and_reported(payments, uow)
    p = request(payments, uow)
    run(handlers.decide_grant(uow, payments, p.payment_id, CENTER))
    run(handlers.record_payment(uow, payments, p.payment_id, CENTER, paid_on=None, amount=p.amount))
    uow.take()
    before = run(uow.store.ledger_sums(application_id=APP))
    run(consume(handlers.on_agreement_terminated(payments), uow,
                example(AgreementTerminated, reason=reason, clawback=demanded > 0, freed_amount=0,
                        terminated_at=payments.clock())))
    notices = uow.events(SubsidyClawedBack)
    assert [n.amount for n in notices] == ([demanded] if demanded else [])
    if not demanded:
        return
    # decided on 2024-11-25 (Mon): 30 days end on Christmas, so the 26th (민법 제161조)
    assert notices[0].due_on == date(2024, 12, 26)
    assert run(uow.store.ledger_sums(application_id=APP)) == before  # nothing came back yet
    payments.clock.advance(days=10)
    part = run(handlers.record_recovery(uow, payments, p.payment_id, CENTER, amount=2_000_000, received_on=None))
    assert (part.recovered_amount, part.recovered_on) == (2_000_000, date(2024, 12, 5))
    with pytest.raises(RuleViolation) as too_much:
        run(handlers.record_recovery(uow, payments, p.payment_id, CENTER, amount=3_000_001, received_on=None))
    assert (too_much.value.problems[0].field, too_much.value.problems[0].rule) == ("amount", "P4")
    run(handlers.record_recovery(uow, payments, p.payment_id, CENTER, amount=3_000_000, received_on=None))
    sums = run(uow.store.ledger_sums(application_id=APP))
    assert sum(v for (_, kind), v in sums.items() if kind == "clawback") == 5_000_000
    assert [r.outstanding for r in uow.events(ClawbackRecovered)] == [3_000_000, 0]
    with pytest.raises(RuleViolation):  # nothing more owed
        run(handlers.record_recovery(uow, payments, p.payment_id, CENTER, amount=1, received_on=None))


def test_a_request_after_a_termination_is_refused_c7(world):
    payments, uow = world
    signed_and_reported(payments, uow)
    run(consume(handlers.on_agreement_terminated(payments), uow, example(AgreementTerminated)))
    with pytest.raises(RuleViolation) as refused:
        request(payments, uow)
    assert refused.value.problems[0].rule == "C7"


def test_the_example_give_up_releases_the_commitment_c6(world):
    payments, uow = world
    run(consume(handlers.on_agreement_signed(payments), uow, example(AgreementSigned)))
    run(consume(handlers.on_participation_given_up(payments), uow, example(ParticipationGivenUp)))
    assert committed(uow) == 0 and uow.store.signed_agreements[APP].ended == "given-up"


def test_the_example_allowance_is_owed_once_and_due_in_the_programs_days_f7_p5(world):
    payments, uow = world
    for _ in range(2):
        run(consume(handlers.on_allowance_due(payments), uow, example(EvaluatorAllowanceDue)))
    [due] = uow.events(PaymentDue)
    assert (due.purpose, due.evaluator_id, due.amount) == ("evaluator-allowance", "EV-007", 300_000)
    assert (due.due_on - due.request_received_on).days == payments.program("gimpo-sos-2024").payment_due_days


def test_a_deficient_request_returned_stops_the_clock_and_the_complete_one_starts_it_again_p3(world):
    payments, uow = world
    signed_and_reported(payments, uow)
    first = request(payments, uow)  # received 2024-11-25, due 2024-12-26
    returned = run(handlers.return_request(uow, payments, first.payment_id, CENTER, reasons=["세금계산서 누락"]))
    assert (returned.status, returned.returned_reasons, returned.returns) == ("returned", ["세금계산서 누락"], 1)
    [notice] = uow.events(SubsidyRequestReturned)
    assert notice.reasons == ("세금계산서 누락",) and notice.request_received_on == date(2024, 11, 25)
    assert run(uow.store.mark_overdue(date(2025, 2, 1), payments.clock())) == []  # a returned one is not owed
    with pytest.raises(RuleViolation) as unpaid:  # nor paid
        run(handlers.record_payment(uow, payments, first.payment_id, CENTER, paid_on=None, amount=first.amount))
    assert unpaid.value.problems[0].field == "status"
    assert committed(uow) == 5_000_000  # the commitment stands while the company completes it
    payments.clock.advance(days=4)  # filed again complete on Fri 2024-11-29: 30 days end Sun 12-29 → Mon 12-30
    again = request(payments, uow)
    assert (again.status, again.request_received_on, again.due_on) == ("due", date(2024, 11, 29), date(2024, 12, 30))
    assert [d.due_on for d in uow.events(PaymentDue)] == [date(2024, 12, 26), date(2024, 12, 30)]
    with pytest.raises(RuleViolation):  # a request that is due is not filed a third time
        request(payments, uow)


def test_the_grant_is_decided_and_notified_before_the_subsidy_is_paid(world):
    payments, uow = world
    signed_and_reported(payments, uow)
    p = request(payments, uow)
    with pytest.raises(RuleViolation) as early:
        run(handlers.record_payment(uow, payments, p.payment_id, CENTER, paid_on=None, amount=p.amount))
    assert (early.value.problems[0].field, early.value.problems[0].rule) == ("grant_decided_on", "P3")
    payments.clock.advance(days=7)
    decided = run(handlers.decide_grant(uow, payments, p.payment_id, CENTER))
    [notice] = uow.events(GrantDecided)
    assert (notice.amount, notice.decided_on, notice.due_on) == (5_000_000, date(2024, 12, 2), date(2024, 12, 26))
    assert decided.grant_decided_on == date(2024, 12, 2)
    with pytest.raises(RuleViolation):  # decided once
        run(handlers.decide_grant(uow, payments, p.payment_id, CENTER))
    with pytest.raises(RuleViolation) as late:  # and no longer returned: the center adjusts it (P4)
        run(handlers.return_request(uow, payments, p.payment_id, CENTER, reasons=["늦은 반려"]))
    assert late.value.problems[0].rule == "P3"
    paid = run(handlers.record_payment(uow, payments, p.payment_id, CENTER, paid_on=None, amount=p.amount))
    assert paid.status == "paid"
