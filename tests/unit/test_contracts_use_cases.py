"""Contracts' use cases on an in-memory unit of work (tests/fakes): both consumers fed the catalog's examples, in
either order, draft one agreement (C2); the signatures (C1) put it in force once; C9 hides it from everyone else; a
give-up (C6) and a termination (C7) free the amount. PostgreSQL and Kafka:
tests/integration/test_contracts_payments.py."""
from __future__ import annotations


import pytest
from hypothesis import given, strategies as st

from contracts import handlers, rules
from sme_runtime.auth import Principal, Role
from sme_runtime.problems import RuleViolation
from sme_schemas.contracts import AgreementSigned, AgreementTerminated, ParticipationGivenUp, TerminationReason
from sme_schemas.evaluation import ApplicationSelected
from sme_schemas.screening import ScreeningPassed
from tests.fakes.contracts import FakeContractsStore
from tests.fakes.unit import Clock, FakeUnit, PROGRAMS, consume, example, run, utc

APP = example(ApplicationSelected).application_id
AGREEMENT = handlers.agreement_id_of(APP)
BRN = example(ScreeningPassed).facts.business_registration_number
CENTER = Principal("kim", Role.OPERATOR, agencies=frozenset({"gimpo"})).within(PROGRAMS)
ANOTHER_AGENCY = Principal("park", Role.OPERATOR, agencies=frozenset({"seoul-sba"})).within(PROGRAMS)
COMPANY = Principal(f"company:{BRN}", Role.COMPANY, BRN)
EXPERT = Principal("expert:이성훈", Role.EXPERT, BRN, agencies=frozenset({"gimpo"})).within(PROGRAMS)
STRANGER = Principal("company:2208162517", Role.COMPANY, "2208162517")


@pytest.fixture
def world():
    contracts = handlers.Contracts(programs=dict(PROGRAMS), clock=Clock(utc("2024-05-21T00:00:00+00:00")))
    return contracts, FakeUnit(FakeContractsStore())


def drafted(contracts, uow, *, selected_first: bool = False) -> None:
    steps = [(handlers.on_screening_passed, example(ScreeningPassed)),
             (handlers.on_application_selected, example(ApplicationSelected))]
    for make, event in reversed(steps) if selected_first else steps:
        run(consume(make(contracts), uow, event))


@pytest.mark.parametrize("selected_first", [False, True])
def test_the_two_example_events_draft_one_agreement_in_either_order_c2(world, selected_first):
    contracts, uow = world
    drafted(contracts, uow, selected_first=selected_first)
    [a] = uow.store.agreements_.values()
    assert (a.agreement_id, a.status, a.agreed_amount) == (AGREEMENT, "drafted", 5_000_000)
    assert a.company_name == "(주)김포정밀"
    assert a.term_end == contracts.program("gimpo-sos-2024").program_year_end
    drafted(contracts, uow)  # both redelivered
    assert len(uow.store.agreements_) == 1


def test_one_event_alone_drafts_nothing(world):
    contracts, uow = world
    run(consume(handlers.on_application_selected(contracts), uow, example(ApplicationSelected)))
    assert uow.store.agreements_ == {}


def test_the_third_signature_puts_the_agreement_in_force_and_announces_it_once_c1(world):
    contracts, uow = world
    drafted(contracts, uow)
    for who in (COMPANY, EXPERT):
        run(handlers.sign(uow, contracts, AGREEMENT, who))
        assert uow.events(AgreementSigned) == [], f"in force before all three signed ({who.role})"
    run(handlers.sign(uow, contracts, AGREEMENT, COMPANY))  # the same party twice counts once
    assert uow.events(AgreementSigned) == []
    run(handlers.sign(uow, contracts, AGREEMENT, CENTER))
    [signed] = uow.events(AgreementSigned)
    assert (signed.agreement_id, signed.agreed_amount, signed.business_registration_number) == (AGREEMENT, 5_000_000,
                                                                                                BRN)
    assert uow.store.agreements_[AGREEMENT].status == "in-force"
    with pytest.raises(RuleViolation) as refused:
        run(handlers.sign(uow, contracts, AGREEMENT, CENTER))
    assert refused.value.problems[0].rule == "C1" and refused.value.status_code == 409
    assert len(uow.events(AgreementSigned)) == 1


def test_another_company_cannot_see_or_sign_the_agreement_c9(world):
    contracts, uow = world
    drafted(contracts, uow)
    with pytest.raises(RuleViolation) as refused:
        run(handlers.sign(uow, contracts, AGREEMENT, STRANGER))
    assert refused.value.status_code == 404 and refused.value.problems[0].rule == "C9"
    assert uow.store.signatures_ == {}


@pytest.mark.parametrize("who", [ANOTHER_AGENCY, Principal("expert:박", Role.EXPERT, BRN,
                                                            agencies=frozenset({"seoul-sba"})).within(PROGRAMS)])
def test_another_agency_s_staff_or_expert_cannot_see_or_sign_the_agreement_t1(world, who):
    contracts, uow = world
    drafted(contracts, uow)
    for act in (lambda: handlers.visible_agreement(uow, AGREEMENT, who), lambda: handlers.sign(uow, contracts,
                                                                                                AGREEMENT, who)):
        with pytest.raises(RuleViolation) as refused:
            run(act())
        assert refused.value.status_code == 404  # the same answer as for an agreement that does not exist
        assert refused.value.problems[0].message == f"no agreement {AGREEMENT} visible to you"
    assert uow.store.signatures_ == {}
    assert run(handlers.visible_agreement(uow, AGREEMENT, CENTER)).agreement_id == AGREEMENT


def test_an_amendment_before_signing_withdraws_the_signatures_given_c5(world):
    contracts, uow = world
    drafted(contracts, uow)
    run(handlers.sign(uow, contracts, AGREEMENT, COMPANY))
    run(handlers.amend(uow, contracts, AGREEMENT, CENTER, changes={"agreed_amount": 4_000_000}, reason="범위 축소",
                       agreed_by=[]))
    assert uow.store.signatures_ == {} and uow.store.agreements_[AGREEMENT].agreed_amount == 4_000_000


def test_a_give_up_approved_frees_the_amount_and_restricts_the_company_c6(world):
    contracts, uow = world
    drafted(contracts, uow)
    run(handlers.request_give_up(uow, contracts, AGREEMENT, COMPANY, reason="대표자 건강 문제"))
    run(handlers.approve_give_up(uow, contracts, AGREEMENT, CENTER, restrict=True))
    [given_up] = uow.events(ParticipationGivenUp)
    assert given_up.freed_amount == 5_000_000 and given_up.restricted_until is not None
    assert uow.store.agreements_[AGREEMENT].status == "given-up"


def test_a_give_up_nobody_filed_cannot_be_approved(world):
    contracts, uow = world
    drafted(contracts, uow)
    with pytest.raises(RuleViolation) as refused:
        run(handlers.approve_give_up(uow, contracts, AGREEMENT, CENTER, restrict=True))
    assert refused.value.problems[0].rule == "C6" and uow.published == []


def test_a_termination_for_false_evidence_claws_back_c7(world):
    contracts, uow = world
    drafted(contracts, uow)
    run(handlers.terminate(uow, contracts, AGREEMENT, CENTER, reason=TerminationReason.FALSE_EVIDENCE,
                           note="허위 견적서"))
    [ended] = uow.events(AgreementTerminated)
    assert ended.clawback and ended.freed_amount == 5_000_000


@given(st.sampled_from(list(TerminationReason)), st.text(min_size=1, max_size=40))
def test_a_terminations_reason_and_note_come_back_apart_as_they_were_kept_c7(reason, note):
    """What the agreement's view gives (api._ended): the reason as its code, the center's note as written — even
    a note with ': ' in it."""
    kept = rules.termination_record(reason, note)
    assert rules.how_it_ended(True, kept) == (reason, note)


def test_a_give_up_and_words_kept_before_the_reason_was_apart_are_the_note_as_they_are_c6():
    assert rules.how_it_ended(False, "대표자 건강 악화: 사업 수행 불가") == (None, "대표자 건강 악화: 사업 수행 불가")
    assert rules.how_it_ended(True, "감사 결과 해지") == (None, "감사 결과 해지")
    assert rules.how_it_ended(True, None) == (None, None)
