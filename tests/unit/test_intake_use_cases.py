"""Intake's consumers on an in-memory unit of work (tests/fakes), each fed the catalog's example of its event: a
municipal system's filing validated like the web form (A1–A3), and screening's events moving the application's
status (A2's lock, E6's supplement). PostgreSQL and Kafka: tests/integration/test_intake_service.py."""
from __future__ import annotations


import pytest

from intake import handlers
from intake.domain import Status
from sme_runtime.consumer import EventRefused
from sme_schemas.intake import ApplicationFiledByMunicipalSystem, ApplicationSubmitted
from sme_schemas.screening import ApplicationRejected, ScreeningPassed, ScreeningStarted, SupplementRequested
from tests.fakes.intake import FakeIntakeStore
from tests.fakes.unit import FakeUnit, PROGRAMS, consume, example, run

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
    [event] = uow.store.outbox
    submitted = ApplicationSubmitted.model_validate(event["data"])
    assert (submitted.application_id, submitted.channel, event["topic"]) == (
        a.application_id, "municipal-system", ApplicationSubmitted.topic())
    assert submitted.required_evidence, "the program's evidence list (E1–E5) travels with the application"


def test_the_same_filing_again_changes_nothing_and_after_screening_started_is_refused_a2(uow):
    filed(uow)
    filed(uow)  # redelivered: the same content, a double click
    assert len(uow.store.applications) == 1 and len(uow.store.outbox) == 1
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
        at=example(ScreeningStarted).occurred_at, content={}, contacts=None, submitted_by="company:1248100998",
        event={"outbox_topic": "t", "outbox_key": APP, "outbox_body": b"{}"}))


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
