"""The portal's consumer on an in-memory unit of work (tests/fakes): every event it subscribes to, the catalog's
example of it, becomes the timeline lines and notices `notices.read` gives for it, once however often it is
delivered. PostgreSQL, Kafka and the mail: tests/e2e/test_portal_browser.py."""
from __future__ import annotations

import uuid

import pytest

from portal import notices, notifier
from sme_schemas import wrap
from sme_schemas.catalog import CONSUMES
from sme_schemas.intake import ApplicationSubmitted
from sme_schemas.screening import ApplicationRejected
from sme_runtime.settings import REPO_PROGRAMS
from sme_programs import load_programs
from tests.fakes.portal import FakePortalStore, example_owners
from tests.fakes.unit import FakeUnit, example, run

PROGRAMS = load_programs(str(REPO_PROGRAMS))
TERMS = notifier.program_terms(PROGRAMS)


def deliver(uow, event, times: int = 1) -> None:
    envelope = wrap(event, source="/sme/test", event_id=str(uuid.uuid4()))
    on_event = notifier.on_event_of(TERMS)
    for _ in range(times):
        run(on_event(uow, envelope, event))


@pytest.mark.parametrize("kind", CONSUMES["portal"], ids=lambda k: k.__name__)
def test_each_example_event_tells_the_people_it_concerns_once(kind):
    uow = FakeUnit(FakePortalStore())
    submitted = example(ApplicationSubmitted)
    if kind is not ApplicationSubmitted:
        deliver(uow, submitted)  # the company the examples are about applied through the portal
    known_entries, known_notices = len(uow.store.timeline_), len(uow.store.notifications)
    event = example(kind)
    expected = notices.read(event, example_owners(), TERMS)
    assert expected.entries or expected.notices, f"the portal subscribes to {kind.__name__} but tells nobody"
    deliver(uow, event, times=2)  # and its redelivery
    entries = list(uow.store.timeline_.values())[known_entries:]
    sent = list(uow.store.notifications.values())[known_notices:]
    assert [(e.application_id, e.title) for e in entries] == [(e.application_id, e.title) for e in expected.entries]
    assert sorted((n.recipient, n.subject) for n in sent) == sorted((n.recipient, n.subject)
                                                                    for n in expected.notices)


def test_a_company_the_portal_never_saw_apply_gets_its_timeline_line_but_no_notice():
    uow = FakeUnit(FakePortalStore())
    deliver(uow, example(ApplicationRejected))
    assert len(uow.store.timeline_) == 1 and uow.store.notifications == {}


@pytest.mark.parametrize("program_id", sorted(PROGRAMS))
@pytest.mark.parametrize("kind", CONSUMES["portal"], ids=lambda k: k.__name__)
def test_every_notice_carries_its_own_programs_name_and_no_others(kind, program_id):
    """Issue 32: a smart-factory company is not told of "[SOS 컨설팅]"."""
    uow = FakeUnit(FakePortalStore())
    deliver(uow, example(ApplicationSubmitted).model_copy(update={"program_id": program_id}))
    deliver(uow, example(kind).model_copy(update={"program_id": program_id}))
    subjects = [n.subject for n in uow.store.notifications.values()]
    others = [p.notice_tag for p in PROGRAMS.values() if p.program_id != program_id]
    mine = PROGRAMS[program_id].notice_tag
    assert subjects and all(s.startswith(f"[{mine}] ") or s.startswith("[") and f"] {mine} — " in s
                            for s in subjects), subjects
    assert not [s for s in subjects for other in others if other in s]


def test_a_program_the_portal_has_no_file_of_is_told_in_the_portals_own_name():
    uow = FakeUnit(FakePortalStore())
    deliver(uow, example(ApplicationSubmitted).model_copy(update={"program_id": "another-city-2027"}))
    [notice] = uow.store.notifications.values()
    assert notice.subject.startswith(f"[{notices.PORTAL_TAG}] ")


# Issue 32: where each notice that asks for something must land — the part of the page holding its form (the
# browser flow opens each link and finds the form there)
ACTION_PARTS = {"supplement-requested": "supplement", "manual-review": "review-", "selected": "sign",
                "report-returned": "result-report", "report-accepted": "subsidy-request",
                "subsidy-request-returned": "subsidy-request", "follow-up-due-soon": "follow-up",
                "follow-up-overdue": "follow-up"}


@pytest.mark.parametrize("kind", CONSUMES["portal"], ids=lambda k: k.__name__)
def test_every_notice_links_to_the_page_where_it_is_acted_on(kind):
    owners = example_owners()
    for notice in notices.read(example(kind), owners, TERMS).notices:
        assert notice.link and notice.link.startswith("/"), (notice.kind, notice.link)
        operator_payment = notice.kind.startswith("payment-") and notice.recipient == notices.OPERATORS
        part = "payment-" if operator_payment else ACTION_PARTS.get(notice.kind)
        if part:
            assert notice.link.partition("#")[2].startswith(part), (notice.kind, notice.link)


@pytest.mark.parametrize("program_id", sorted(PROGRAMS))
def test_a_signed_agreement_sends_the_company_to_its_advance_request_where_the_program_pays_one_i1(program_id):
    """I1: in a program that pays an advance the company's next step once signed is to ask for it (the agreement
    page's #advance form); elsewhere its consulting begins, logged at #sessions."""
    from sme_schemas.contracts import AgreementSigned

    owners = example_owners()
    signed = example(AgreementSigned).model_copy(update={"program_id": program_id})
    [notice] = notices.read(signed, owners, TERMS).notices
    percent = PROGRAMS[program_id].payment_schedule.advance_percent
    part = notice.link.partition("#")[2]
    if percent:
        assert part == "advance" and f"협약금액의 {percent}%를 선금으로" in notice.body, notice
    else:
        assert part == "sessions" and "선금" not in notice.body, notice
    assert notice.link.startswith(f"/agreements/{signed.agreement_id}#")


@pytest.mark.parametrize("program_id", sorted(PROGRAMS))
@pytest.mark.parametrize("instalment", ["advance", "balance"])
def test_a_payment_names_its_instalment_only_where_the_program_pays_in_two_i1(program_id, instalment):
    """I1: "선금"/"잔금" where the subsidy is paid in two; a one-payment program's subsidy is no 잔금."""
    from sme_schemas.payments import GrantDecided, PaymentDue, PaymentOverdue, PaymentRecorded

    owners = example_owners()
    two = PROGRAMS[program_id].payment_schedule.advance_percent > 0
    for kind in (PaymentDue, GrantDecided, PaymentRecorded, PaymentOverdue):
        event = example(kind).model_copy(update={"program_id": program_id, "instalment": instalment})
        [entry] = notices.read(event, owners, TERMS).entries
        named = "선금 " in entry.detail or "잔금 " in entry.detail
        assert named == (two or instalment == "advance"), (kind.__name__, entry.detail)


def test_the_center_is_told_of_a_subsidy_request_to_decide_and_pay_not_of_an_allowance_p3():
    """P1–P3: a company's request (서식4, or an advance, I1) is the center's to decide within the due date; the
    notice lands on the payment's row with its forms. An evaluator's allowance is the center's own doing."""
    from sme_schemas.payments import PaymentDue

    owners = example_owners()
    due = example(PaymentDue)
    [told] = [n for n in notices.read(due, owners, TERMS).notices if n.recipient == notices.OPERATORS]
    [(_, name)] = owners.values()
    assert told.link == f"/operator/payments#payment-{due.payment_id}" and name in told.subject
    allowance = due.model_copy(update={"purpose": "evaluator-allowance", "application_id": None,
                                       "evaluator_id": "EV-01", "instalment": None})
    assert [n.recipient for n in notices.read(allowance, owners, TERMS).notices] == ["evaluator:EV-01"]
