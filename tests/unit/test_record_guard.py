"""Issue 31: no polled record can raise out of the decode path. Every step between the broker and the handler
(headers, envelope, body, instants) either yields the event or that record's EnvelopeError, which the consumer
dead-letters with its reason while the rest of the poll goes on."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sme_runtime.consumer import read_record
from sme_schemas import EnvelopeError, wrap
from sme_schemas.examples import EXAMPLES
from sme_schemas.contracts import ReportAccepted
from sme_schemas.values import JSON_SAFE_INTEGER


@dataclass(frozen=True)
class Record:  # the fields of aiokafka's ConsumerRecord the decode path reads
    headers: Any
    value: bytes | None
    topic: str = "contracts.report-accepted.v1"
    partition: int = 0
    offset: int = 0


def _good() -> tuple[dict[str, str], bytes]:
    envelope = wrap(ReportAccepted.model_validate(EXAMPLES["ReportAccepted"]), source="/sme/contracts")
    return envelope.headers(), envelope.body


def _record(headers: dict[str, str], body: bytes) -> Record:
    return Record([(k, v.encode()) for k, v in headers.items()], body)


def _with(body: bytes, **fields: object) -> bytes:
    return json.dumps({**json.loads(body), **fields}).encode()


def test_a_good_record_reads_as_its_event():
    headers, body = _good()
    envelope, event = read_record(_record(headers, body), ReportAccepted)
    assert isinstance(event, ReportAccepted) and envelope.id == headers["ce_id"]


def test_an_instant_past_year_9999_in_utc_is_refused_naming_the_field():
    """9999-12-31T23:59:59-14:00 is a valid RFC 3339 instant whose UTC form a datetime cannot hold: it raised
    OverflowError outside the envelope check and a whole poll was lost (payments.report-accepted)."""
    headers, body = _good()
    with pytest.raises(EnvelopeError) as refused:
        read_record(_record(headers, _with(body, occurred_at="9999-12-31T23:59:59-14:00")), ReportAccepted)
    assert refused.value.field == "occurred_at" and "9999" in str(refused.value)


@pytest.mark.parametrize("amount", [JSON_SAFE_INTEGER + 1, 2**63, -1])
def test_an_amount_beyond_what_every_reader_holds_is_refused(amount):
    headers, body = _good()
    field = next(k for k, v in json.loads(body).items() if isinstance(v, int) and not isinstance(v, bool)
                 and k.endswith(("cost", "amount", "subsidy")))
    with pytest.raises(EnvelopeError) as refused:
        read_record(_record(headers, _with(body, **{field: amount})), ReportAccepted)
    assert refused.value.field == field


def test_a_record_whose_headers_cannot_be_read_is_its_own_refusal():
    """Not an EnvelopeError from the schema: a header list that is not pairs. Any failure is the record's."""
    _, body = _good()
    with pytest.raises(EnvelopeError, match="unreadable record"):
        read_record(Record([("ce_id", b"x", b"extra")], body), ReportAccepted)


header_key = st.text(max_size=12) | st.sampled_from(["ce_id", "ce_type", "ce_source", "ce_specversion", "ce_time",
                                                      "content-type", "traceparent", "ce_subject"])
header_value = st.binary(max_size=40) | st.none() | st.sampled_from(list(_good()[0].values())).map(str.encode)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(header_key, header_value), max_size=12), st.binary(max_size=200) | st.none(),
       st.booleans())
def test_arbitrary_bytes_and_headers_are_read_or_refused_never_raised(headers, body, keep_good):
    good_headers, good_body = _good()
    if keep_good:  # a real envelope with arbitrary extra headers and a mangled body: deeper into the path
        headers = [(k, v.encode()) for k, v in good_headers.items()] + headers
        body = good_body[: len(body or b"")] + (body or b"")
    try:
        read_record(Record(headers, body), ReportAccepted)
    except EnvelopeError:
        pass


def test_every_group_refuses_a_program_version_it_has_no_definition_of():
    """V1 for every group, whether or not its handler reads the program: version 99 was applied by 28 deliveries
    of groups whose handlers never look it up."""
    from sme_programs import ProgramDefinition
    from sme_programs.definition import Programs
    from sme_runtime.consumer import EventRefused, ReliableConsumers
    from deploy.local.procs import ROOT

    program = ProgramDefinition.load(ROOT / "deploy" / "programs" / "gimpo-sos-2024.json")
    consumers = ReliableConsumers(None, None, service="payments",  # type: ignore[arg-type]
                                  programs=Programs({(program.program_id, program.version): program}))
    event = ReportAccepted.model_validate(EXAMPLES["ReportAccepted"])
    consumers._known_program(event.model_copy(update={"program_version": program.version}))
    consumers._known_program(event.model_copy(update={"program_version": None}))  # from before V1: the newest
    with pytest.raises(EventRefused) as refused:
        consumers._known_program(event.model_copy(update={"program_version": 99}))
    assert refused.value.field == "program_version" and refused.value.rule == "V1"
    # the portal applies no program's rules: it takes a program it has no definition of, not an unknown version
    portal = ReliableConsumers(None, None, service="portal", unknown_programs=True,  # type: ignore[arg-type]
                               programs=Programs({(program.program_id, program.version): program}))
    portal._known_program(event.model_copy(update={"program_id": "seoul-sba-2031", "program_version": 7}))
    with pytest.raises(EventRefused, match="version 99"):
        portal._known_program(event.model_copy(update={"program_version": 99}))


def test_a_poll_that_keeps_failing_waits_longer_each_time_and_makes_the_service_not_ready(monkeypatch):
    """FastStream restarts a consume loop the moment a poll raises: a poll that always raises spun at 100% CPU
    with 1,500 log lines a second (issue 31). Each failure now waits, longer each time, and names its group in
    FAILING_POLLS (/readyz 503) until a poll succeeds; Kafka's own errors stay FastStream's to handle."""
    import asyncio

    from aiokafka.errors import KafkaConnectionError

    from sme_runtime import consumer as consumers

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(consumers.asyncio, "sleep", sleep)
    outcomes: list[object] = [UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"), ValueError("x"), RuntimeError("y"),
                              ("record",), KafkaConnectionError()]

    class Subscriber:  # FastStream's side: get_msg is what its consume loop awaits
        async def get_msg(self, consumer: object) -> object:
            outcome = outcomes.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

    subscriber = Subscriber()
    consumers.polls_with_backoff(subscriber, "payments.report-accepted", cap_seconds=30)

    async def polls() -> list[object]:
        got = []
        for _ in range(3):
            got.append(await subscriber.get_msg(None))
            assert "payments.report-accepted" in consumers.FAILING_POLLS
        got.append(await subscriber.get_msg(None))
        assert "payments.report-accepted" not in consumers.FAILING_POLLS
        with pytest.raises(KafkaConnectionError):
            await subscriber.get_msg(None)
        return got

    assert asyncio.run(polls()) == [None, None, None, ("record",)]
    assert len(waits) == 3 and waits[0] < 0.2 and waits[2] > waits[0]
