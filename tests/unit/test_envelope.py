"""CloudEvents binary mode: our envelope, and the official cloudevents SDK reading our events."""
import json

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event

from sme_schemas import EVENTS, EnvelopeError, unwrap, wrap
from sme_schemas.examples import EXAMPLES
from sme_schemas.intake import ApplicationSubmitted, ApplicationWithdrawn


@pytest.mark.parametrize("event_cls", EVENTS, ids=lambda e: e.__name__)
def test_every_canonical_example_round_trips(event_cls):
    event = event_cls.model_validate(EXAMPLES[event_cls.__name__])
    envelope = wrap(event, source="/sme/test")
    back_envelope, back = unwrap(list(envelope.headers().items()), envelope.body, expected=event_cls)
    assert back == event and back_envelope.id == envelope.id and envelope.key == event.subject().encode()


def test_korean_text_survives_as_utf8():
    event = ApplicationSubmitted.model_validate(EXAMPLES["ApplicationSubmitted"])
    envelope = wrap(event, source="/sme/intake")
    assert "(주)김포정밀".encode("utf-8") in envelope.body
    assert json.loads(envelope.body)["content"]["company"]["name"] == "(주)김포정밀"


def test_official_sdk_reads_our_event():
    event = ApplicationSubmitted.model_validate(EXAMPLES["ApplicationSubmitted"])
    envelope = wrap(event, source="/sme/intake")
    message = KafkaMessage(headers={k: v.encode() for k, v in envelope.headers().items()}, key=envelope.key,
                           value=envelope.body)
    ce = from_binary_event(message)
    assert ce.get_type() == "kr.gimpo.sme.intake.application-submitted.v1"
    assert ce.get_id() == envelope.id and ce.get_source() == "/sme/intake"
    assert ce.get_subject() == event.application_id
    assert ce.get_data()["content"]["company"]["ceo_name"] == "김정호"


def _good():
    event = ApplicationWithdrawn.model_validate(EXAMPLES["ApplicationWithdrawn"])
    envelope = wrap(event, source="/sme/intake")
    return envelope.headers(), envelope.body


@pytest.mark.parametrize("mutate, message", [
    (lambda h, b: (dict(h, ce_id=""), b), "missing CloudEvents headers: ce_id"),
    (lambda h, b: ({k: v for k, v in h.items() if k != "ce_type"}, b), "ce_type"),
    (lambda h, b: (dict(h, ce_specversion="0.3"), b), "ce_specversion"),
    (lambda h, b: (dict(h, ce_type="kr.gimpo.sme.intake.application-submitted.v1"), b), "is not"),
    (lambda h, b: (h, b"{not json"), "body invalid"),
    (lambda h, b: (h, b.replace(b'"program_id":"gimpo-sos-2024"', b'"program_id":"X"')), "program_id"),
    (lambda h, b: (dict(h, **{"content-type": "text/plain"}), b), "content-type"),
    (lambda h, b: (dict(h, ce_time="yesterday"), b), "ce_time"),
])
def test_malformed_messages_are_refused_with_the_reason(mutate, message):
    headers, body = mutate(*_good())
    with pytest.raises(EnvelopeError, match=message):
        unwrap(list(headers.items()), body, expected=ApplicationWithdrawn)


def test_every_service_names_itself_as_a_cloudevents_source_the_same_way():
    import importlib

    from sme_schemas.catalog import SERVICES

    for service in (s for s in SERVICES if s != "portal"):  # the portal publishes nothing
        source = importlib.import_module(f"{service}.handlers").SOURCE
        assert source == f"/sme/{service}", service
