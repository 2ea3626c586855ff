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
from tests.fakes.portal import FakePortalStore
from tests.fakes.unit import FakeUnit, example, run


def deliver(uow, event, times: int = 1) -> None:
    envelope = wrap(event, source="/sme/test", event_id=str(uuid.uuid4()))
    for _ in range(times):
        run(notifier.on_event(uow, envelope, event))


@pytest.mark.parametrize("kind", CONSUMES["portal"], ids=lambda k: k.__name__)
def test_each_example_event_tells_the_people_it_concerns_once(kind):
    uow = FakeUnit(FakePortalStore())
    submitted = example(ApplicationSubmitted)
    if kind is not ApplicationSubmitted:
        deliver(uow, submitted)  # the company the examples are about applied through the portal
    known_entries, known_notices = len(uow.store.timeline_), len(uow.store.notifications)
    event = example(kind)
    company = submitted.content.company
    expected = notices.read(event, {submitted.application_id: (company.business_registration_number, company.name)})
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
