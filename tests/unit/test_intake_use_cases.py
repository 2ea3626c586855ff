"""Intake's consumers on an in-memory unit of work (tests/fakes), each fed the catalog's example of its event: a
municipal system's filing validated like the web form (A1–A3), and screening's events moving the application's
status (A2's lock, E6's supplement). PostgreSQL and Kafka: tests/integration/test_intake_service.py."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from intake import handlers
from intake.domain import Status
from sme_runtime.bus_acl import OutsideSystem
from sme_runtime.consumer import EventRefused
from sme_runtime.problems import Problem
from sme_schemas import EnvelopeError, unwrap, wrap
from sme_schemas.intake import ApplicationFiledByMunicipalSystem, ApplicationFilingResult, ApplicationSubmitted
from sme_schemas.screening import ApplicationRejected, ScreeningPassed, ScreeningStarted, SupplementRequested
from tests.fakes.intake import FakeIntakeStore
from tests.fakes.unit import FakeUnit, PROGRAMS, consume, example, run, utc

APP = example(ScreeningStarted).application_id


@pytest.fixture
def uow():
    return FakeUnit(FakeIntakeStore())


def filed(uow, **changes) -> None:
    run(consume(handlers.file_from_municipal_system(handlers.Intake(programs=PROGRAMS)), uow,
                example(ApplicationFiledByMunicipalSystem, **changes)))


def test_the_example_filing_is_taken_in_like_a_web_submission_and_announced(uow):
    filed(uow)
    [a] = uow.store.applications.values()
    assert (a.channel, a.source_system, a.external_reference, a.status) == (
        "municipal-system", "gimpo-minwon", "MW-2024-000123", "submitted")
    [(submitted, topic)] = [(e, t) for e, t in uow.published if isinstance(e, ApplicationSubmitted)]
    assert (submitted.application_id, submitted.channel, topic) == (a.application_id, "municipal-system", None)
    assert submitted.required_evidence, "the program's evidence list (E1–E5) travels with the application"


def test_the_same_filing_again_changes_nothing_and_after_screening_started_is_refused_a2(uow):
    filed(uow)
    filed(uow)  # redelivered: the same content, a double click
    assert len(uow.store.applications) == 1 and len(uow.events(ApplicationSubmitted)) == 1
    [a] = uow.store.applications.values()
    run(consume(handlers.on_screening_started, uow, example(ScreeningStarted, application_id=a.application_id)))
    with pytest.raises(EventRefused) as refused:
        filed(uow)
    assert (refused.value.field, refused.value.rule) == ("external_reference", "A2")


def test_a_filing_outside_the_call_window_is_refused_naming_the_rule_a3(uow):
    with pytest.raises(EventRefused) as refused:
        filed(uow, occurred_at="2025-03-01T00:00:00Z")
    assert refused.value.rule == "A3" and uow.store.applications == {}


def seeded(uow) -> None:
    run(uow.store.insert_unless_live(
        application_id=APP, program_id="gimpo-sos-2024", program_version=1, brn="1248100998", channel="web",
        at=example(ScreeningStarted).occurred_at, content={}, contacts=None, submitted_by="company:1248100998"))


@pytest.mark.parametrize("kind, handler, status", [
    (ScreeningStarted, handlers.on_screening_started, Status.SCREENING),
    (ScreeningPassed, handlers.on_screening_passed, Status.PASSED),
    (ApplicationRejected, handlers.on_application_rejected, Status.REJECTED),
    (SupplementRequested, handlers.on_supplement_requested, Status.SUPPLEMENT),
])
def test_each_example_screening_event_moves_the_application_and_writes_its_history(uow, kind, handler, status):
    seeded(uow)
    run(consume(handler, uow, example(kind)))
    a = uow.store.applications[APP]
    assert a.status == status.value
    assert uow.store.history[-1].actor == "service:screening"
    if kind is SupplementRequested:
        assert a.supplement_deadline == example(SupplementRequested).deadline


def test_a_withdrawn_application_stays_withdrawn_when_screening_catches_up(uow):
    seeded(uow)
    run(uow.store.set_status(APP, Status.WITHDRAWN, at=example(ScreeningStarted).occurred_at))
    run(consume(handlers.on_screening_passed, uow, example(ScreeningPassed)))
    assert uow.store.applications[APP].status == "withdrawn"


@pytest.mark.parametrize("kind, handler", [(ScreeningStarted, handlers.on_screening_started),
                                           (SupplementRequested, handlers.on_supplement_requested)])
def test_a_screening_event_about_an_application_intake_never_filed_is_refused(uow, kind, handler):
    with pytest.raises(EventRefused):
        run(consume(handler, uow, example(kind)))


# --- the sender's answer: ApplicationFilingResult, keyed by its own reference (issue 27) -------------------------

def test_an_accepted_filing_is_answered_with_its_application_under_the_senders_reference(uow):
    filed(uow)
    [a] = uow.store.applications.values()
    [answer] = uow.take(ApplicationFilingResult)
    assert (answer.outcome, answer.application_id, answer.disposition, answer.problems) == (
        "accepted", a.application_id, "created", ())
    assert (answer.source_system, answer.external_reference, answer.subject()) == (
        "gimpo-minwon", "MW-2024-000123", "gimpo-minwon:MW-2024-000123")
    assert ApplicationFilingResult.topic() == "municipal.application-filing-result.v1"


def test_the_same_filing_again_is_answered_unchanged_and_a_changed_one_amended(uow):
    filed(uow)
    uow.take()
    filed(uow)
    [again] = uow.take(ApplicationFilingResult)
    assert (again.outcome, again.disposition) == ("accepted", "unchanged")
    content = example(ApplicationFiledByMunicipalSystem).content.model_dump(mode="json")
    content["consulting"]["expected_effects"] += " 추가로 판로 확대 계획을 보완했습니다."
    filed(uow, content=content)
    [amended] = uow.take(ApplicationFilingResult)
    assert (amended.outcome, amended.disposition) == ("accepted", "amended")
    assert len(uow.store.applications) == 1


@pytest.mark.parametrize("other", [dict(external_reference="MW-2024-999999"), dict(source_system="seoul-minwon")])
def test_another_reference_for_a_company_with_a_live_application_is_refused_a2_not_merged(uow, other):
    filed(uow)
    [a] = uow.store.applications.values()
    before = vars(a).copy()
    content = example(ApplicationFiledByMunicipalSystem).content.model_dump(mode="json")
    content["consulting"]["expected_effects"] += " 다른 창구로 다시 접수한 신청입니다."
    with pytest.raises(handlers.FilingRefused) as refused:
        filed(uow, content=content, **other)
    [problem] = refused.value.problems
    assert (problem.field, problem.rule) == ("external_reference", "A2")
    assert a.application_id in problem.message and "MW-2024-000123" in problem.message
    assert len(uow.store.applications) == 1 and vars(a) == before, "the first application is untouched"


def test_a_company_that_applied_on_the_web_is_not_amended_by_a_filing(uow):
    filed(uow, source_system="gimpo-minwon")
    [a] = uow.store.applications.values()
    a.source_system, a.external_reference, a.channel = None, None, "web"  # as a web submission stores it
    with pytest.raises(handlers.FilingRefused) as refused:
        filed(uow)
    assert "on the web" in refused.value.problems[0].message


def test_a_filing_refused_by_the_form_names_each_field_where_it_is_in_the_filing(uow):
    with pytest.raises(handlers.FilingRefused) as refused:
        filed(uow, occurred_at="2025-03-01T00:00:00Z")
    assert [(p.field, p.rule) for p in refused.value.problems][0] == ("occurred_at", "A3")
    assert handlers.in_filing(Problem("company.employees", "A1", "…")).field == "content.company.employees"


def record(body: bytes):
    return SimpleNamespace(value=body, headers=[], topic="municipal.application-filed.v1", partition=0, offset=7)


FILING = example(ApplicationFiledByMunicipalSystem).model_dump_json().encode()
ANSWERED = utc("2024-04-02T00:00:00Z")


def test_a_refused_filing_is_answered_with_every_problem_and_the_senders_reference():
    refusal = handlers.FilingRefused(Problem("occurred_at", "A3", "outside the call"),
                                     Problem("content.company.employees", "A1", "too many"))
    answer = handlers.refused_filing(record(FILING), refusal, event_id="evt-1", at=ANSWERED)
    assert (answer.outcome, answer.source_system, answer.external_reference, answer.filing_event_id) == (
        "refused", "gimpo-minwon", "MW-2024-000123", "evt-1")
    assert [(p.field, p.rule) for p in answer.problems] == [("occurred_at", "A3"), ("content.company.employees", "A1")]
    assert answer.application_id is None and answer.program_id == "gimpo-sos-2024"


def test_a_filing_whose_body_breaks_the_contract_is_answered_naming_the_field():
    body = json.loads(FILING)
    body["content"]["company"]["business_registration_number"] = "12-34"
    try:
        unwrap(wrap(example(ApplicationFiledByMunicipalSystem), source="/gimpo").headers(), json.dumps(body).encode())
    except EnvelopeError as exc:
        error = exc
    assert (error.rule, error.field) == ("contract", "content.company.business_registration_number")
    answer = handlers.refused_filing(record(json.dumps(body).encode()), error, event_id="evt-1", at=ANSWERED)
    [problem] = answer.problems
    assert (problem.field, problem.rule, answer.external_reference) == (
        "content.company.business_registration_number", "contract", "MW-2024-000123")


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", json.dumps({"source_system": "x"}).encode(),
                                  json.dumps({"source_system": "", "external_reference": "R-1"}).encode()])
def test_a_filing_that_names_no_sender_reference_gets_no_answer(body):
    assert handlers.refused_filing(record(body), EnvelopeError("bad"), event_id="evt-1", at=ANSWERED) is None


def test_an_unreadable_program_does_not_stop_the_answer():
    body = json.loads(FILING)
    body["program_id"] = "NOT A PROGRAM \u0000"
    answer = handlers.refused_filing(record(json.dumps(body).encode()), EnvelopeError("bad", field="program_id",
                                     rule="contract"), event_id="evt-1", at=ANSWERED)
    assert answer.program_id is None and answer.problems[0].field == "program_id"


# --- an authenticated sender: a filing read on a system's own topic (issue 27) ---------------------------------

MINWON = OutsideSystem("gimpo-minwon", source="/gimpo/minwon", files=True, agencies=("gimpo",))


def filed_on_its_topic(uow, system=MINWON, *, source="/gimpo/minwon", **changes) -> None:
    event = example(ApplicationFiledByMunicipalSystem, **changes)
    handler = handlers.file_from_municipal_system(handlers.Intake(programs=PROGRAMS), system)
    run(handler(uow, wrap(event, source=source), event))


def test_a_filing_on_its_own_topic_is_answered_on_its_own_answer_topic(uow):
    filed_on_its_topic(uow)
    [(answer, topic)] = [(e, t) for e, t in uow.published if isinstance(e, ApplicationFilingResult)]
    assert answer.outcome == "accepted" and topic == "municipal.gimpo-minwon.application-filing-result.v1"


@pytest.mark.parametrize("changes, fields", [
    (dict(source="/seoul-sba/crm"), ["ce_source"]),
    (dict(source_system="seoul-sba-crm"), ["source_system"]),
    (dict(source="/seoul-sba/crm", source_system="seoul-sba-crm"), ["ce_source", "source_system"]),
])
def test_a_filing_that_claims_another_sender_is_refused_and_nothing_filed(uow, changes, fields):
    with pytest.raises(handlers.FilingRefused) as refused:
        filed_on_its_topic(uow, **changes)
    assert [(p.field, p.rule) for p in refused.value.problems] == [(f, "sender") for f in fields]
    assert uow.store.applications == {} and uow.published == []


def test_a_system_files_only_for_its_own_agencies_programs_t1(uow):
    crm = OutsideSystem("seoul-sba-crm", source="/seoul-sba/crm", files=True, agencies=("seoul-sba",))
    with pytest.raises(handlers.FilingRefused) as refused:  # the example files for Gimpo's SOS program
        filed_on_its_topic(uow, crm, source="/seoul-sba/crm", source_system="seoul-sba-crm")
    assert [(p.field, p.rule) for p in refused.value.problems] == [("program_id", "T1")]
    assert "run by gimpo" in refused.value.problems[0].message
    assert uow.store.applications == {} and uow.published == []


def test_the_refusal_of_a_forged_filing_goes_to_the_authenticated_systems_answers(uow):
    handler = handlers.file_from_municipal_system(handlers.Intake(programs=PROGRAMS), MINWON)
    body = json.loads(FILING)
    body["source_system"] = "seoul-sba-crm"
    refusal = handlers.FilingRefused(Problem("source_system", "sender", "not this topic's system"))
    run(handler.answers_refusal(uow, record(json.dumps(body).encode()), "evt-1", refusal))
    [(answer, topic)] = uow.published
    assert topic == MINWON.answer_topic and answer.problems[0].rule == "sender"
