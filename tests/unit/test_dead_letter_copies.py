"""Issue 31: a dead-letter copy is bounded as a whole, headers included, and a record the broker will not take
even a headers-only copy of is parked instead of retried forever (the retry never yielded: 100% CPU, /livez
silent)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiokafka.errors import MessageSizeTooLargeError
from hypothesis import given, settings
from hypothesis import strategies as st

from sme_runtime.consumer import (DLQ_COPY_MAX_BYTES, copy_bytes, dead_letter_headers, dlq_copies,
                                  send_to_dead_letters)
from sme_schemas import EnvelopeError


@dataclass(frozen=True)
class Record:
    headers: Any
    value: bytes | None
    key: bytes | None = b"APP-1"
    topic: str = "intake.application-submitted.v1"
    partition: int = 3
    offset: int = 41


def _headers(count: int, size: int) -> list[tuple[str, bytes]]:
    return [("ce_id", b"evt-1"), ("ce_type", b"kr.example.v1")] + [(f"x-{n}", b"v" * size) for n in range(count)]


def test_a_record_with_as_many_headers_as_the_broker_takes_gets_a_copy_within_the_limit():
    record = Record(_headers(20_000, 100), b"{" + b"x" * 1_000_000)
    headers = dead_letter_headers(record, "payments.report-accepted", EnvelopeError("bad", field="ce_time"))
    copies = list(dlq_copies(record.value or b"", headers))
    assert len(copies) == 2  # the original does not fit: truncated, then headers only
    body, short = copies[0]
    assert copy_bytes(body, short) <= DLQ_COPY_MAX_BYTES and len(body) == 64 * 1024
    assert short["ce_id"] == "evt-1" and short["dlq_field"] == "ce_time" and short["dlq_original_offset"] == "41"
    assert 0 < int(short["dlq_headers_dropped"]) < 20_000 and short["dlq_original_bytes"] == str(1_000_001)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=300), st.binary(max_size=6000)), max_size=300),
       st.integers(0, 1_200_000))
def test_every_copy_but_the_original_is_bounded_whatever_the_record(headers, body_size):
    record = Record(headers, b"b" * body_size)
    full = dead_letter_headers(record, "g", EnvelopeError("x" * 10_000))
    for body, copy in dlq_copies(record.value or b"", full):
        assert copy_bytes(body, copy) <= DLQ_COPY_MAX_BYTES


class Broker:
    """The broker's side of a publish: it refuses any message heavier than its own limit."""

    def __init__(self, limit: int) -> None:
        self.limit, self.tries, self.taken = limit, 0, []

    async def publish(self, body: bytes, *, topic: str, key: bytes | None, headers: dict[str, str]) -> None:
        self.tries += 1
        if copy_bytes(body, headers) > self.limit:
            raise MessageSizeTooLargeError()
        self.taken.append((topic, body, headers))


def _send(broker: Broker, record: Record) -> bool:
    return asyncio.run(send_to_dead_letters(broker, record, "g", EnvelopeError("bad"),  # type: ignore[arg-type]
                                            retry_max_seconds=1))


def test_a_broker_with_a_lower_limit_gets_the_shorter_copy():
    broker = Broker(limit=200_000)
    assert _send(broker, Record(_headers(10, 10), b"x" * 500_000))
    [(topic, body, headers)] = broker.taken
    assert topic == "intake.application-submitted.v1.dlq" and len(body) == 64 * 1024
    assert headers["dlq_truncated"] == "true"


def test_a_record_the_broker_takes_no_copy_of_is_parked_after_a_bounded_number_of_tries():
    broker = Broker(limit=10)
    assert _send(broker, Record(_headers(10, 10), b"x" * 500_000)) is False
    assert broker.tries == 3 and broker.taken == []  # as it is, truncated, headers only
