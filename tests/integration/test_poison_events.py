"""No message can stop a consumer or disappear (issues 13 and 31): every kind of message a consumer cannot read is
dead-lettered with a reason and the group moves on to the next good event — one event per transaction and in
batches, on the real broker and database."""
from __future__ import annotations

import asyncio
import json
import uuid
from types import SimpleNamespace

import pytest

from sme_runtime.consumer import DLQ_COPY_MAX_BYTES, DLQ_TRUNCATED_BODY_BYTES, copy_bytes, dlq_topic
from sme_runtime.kafka_access import kafka_access
from tests.integration.test_delivery_guarantees import PROBE, CountingConsumer, _app_id, _publish_raw, probe_message
from tests.support import KAFKA, end_offsets, read_topic

OVERSIZED_BODY_BYTES = 1_046_000  # near the producer's and broker's 1 MiB limits: its DLQ copy would be over
MANY_HEADERS = 7_400  # of 116 bytes each: about 880 kB fits the broker, weighed as a DLQ copy it is over 900 kB


def _with(body: bytes, **fields: object) -> bytes:
    return json.dumps({**json.loads(body), **fields}).encode()


def _applied_and_dead(group: str, start: dict[int, int], batch_size: int, count: int, *, programs: dict | None = None,
                      settle: float = 1.0) -> tuple[dict[str, int], list]:
    """What the probe group applied once `count` applications of its run have an effect, and its dead letters."""
    run = group.rsplit("-", 1)[1]

    async def consume():
        async with CountingConsumer(group, start, batch_size=batch_size, programs=programs) as consumer:
            return await consumer.applied(run, count, seconds=60, settle=settle), await consumer.dead_letters()

    return asyncio.run(consume())


def _poison(kind: str, key: bytes, headers: list[tuple[str, bytes | None]], body: bytes):
    """One unreadable message of `kind`, made from a good event's key, headers and body."""
    def with_header(name: str, value: bytes | None):
        return [(k, value if k == name else v) for k, v in headers]

    return {
        "not JSON": (key, b"{not json", headers),
        "tombstone": (key, None, headers),
        "header not UTF-8": (key, body, with_header("ce_source", b"/sme/\xff\xfe")),
        "null header": (key, body, with_header("ce_type", None)),
        "NUL in ce_id": (key, body, with_header("ce_id", b"abc\x00def")),
        "NUL in a text field": (key, body.replace(b'"reason":null', b'"reason":"a\\u0000b"'), headers),
        "oversized": (key, b"x" * OVERSIZED_BODY_BYTES, headers),
        # issue 31: an instant whose UTC form no datetime holds raised outside the envelope check, and the whole
        # poll was lost with its offsets committed
        "instant past 9999 in UTC": (key, _with(body, occurred_at="9999-12-31T23:59:59-14:00"), headers),
        "integer past 2^63": (key, _with(body, program_version=2**63), headers),
        "invalid, with as many headers as fit": (key, b"{not json", headers + [
            (f"x-padding-{n:05d}", b"p" * 100) for n in range(MANY_HEADERS)]),
    }[kind]


KINDS = ("not JSON", "tombstone", "header not UTF-8", "null header", "NUL in ce_id", "NUL in a text field",
         "oversized", "instant past 9999 in UTC", "integer past 2^63", "invalid, with as many headers as fit")


@pytest.mark.parametrize("batch_size", [1, 500], ids=["one-by-one", "batches"])
def test_every_unreadable_message_is_dead_lettered_and_the_next_good_event_applied(infrastructure, batch_size):
    run = uuid.uuid4().hex[:16].upper()
    group = f"probe-poison-{batch_size}-{run}"
    start = asyncio.run(end_offsets(PROBE.topic()))
    dlq_start = asyncio.run(end_offsets(dlq_topic(PROBE.topic())))
    messages, good = [], set()
    for i, kind in enumerate(KINDS):
        key, body, headers = probe_message(_app_id(2 * i, run))
        messages.append(_poison(kind, key, headers, body))
        messages.append(probe_message(_app_id(2 * i + 1, run)))
        good.add(_app_id(2 * i + 1, run))
    asyncio.run(_publish_raw(messages))

    async def consume():
        async with CountingConsumer(group, start, batch_size=batch_size) as consumer:
            return await consumer.applied(run, len(good), settle=1.0), await consumer.dead_letters()

    effects, dead = asyncio.run(consume())
    assert effects == {a: 1 for a in good}  # every good event after a poison one applied, once
    assert len(dead) == len(KINDS), [d.error for d in dead]
    errors = [d.error for d in dead]
    assert any("not JSON" in e or "Invalid JSON" in e for e in errors)
    assert any("'ce_source' is not UTF-8" in e for e in errors)
    assert any("'ce_id' contains control characters" in e for e in errors)
    assert any("NUL characters are not text" in e for e in errors)
    assert any("occurred_at" in e and "outside the years 1-9999" in e for e in errors)
    assert any("program_version" in e and "less than or equal to" in e for e in errors)

    copies = asyncio.run(read_topic(dlq_topic(PROBE.topic()), dlq_start, timeout=30, until=lambda rs: len(
        [r for r in rs if dict(r.headers).get("dlq_consumer") == group.encode()]) >= len(KINDS)))
    ours = [r for r in copies if dict(r.headers).get("dlq_consumer") == group.encode()]
    assert len(ours) == len(KINDS)
    short = {dict(r.headers)["dlq_original_bytes"]: r for r in ours if dict(r.headers).get("dlq_truncated") == b"true"}
    assert len(short) == 2
    oversized = short[str(OVERSIZED_BODY_BYTES).encode()]
    assert len(oversized.value) == DLQ_TRUNCATED_BODY_BYTES and dict(oversized.headers)["dlq_original_offset"].isdigit()
    padded = dict(short[b"9"].headers)  # b"{not json" with its 7,400 headers: the copy is bounded as a whole
    assert int(padded["dlq_headers_dropped"]) > 0 and padded["ce_id"]
    assert copy_bytes(short[b"9"].value, {k: v.decode() for k, v in short[b"9"].headers}) <= DLQ_COPY_MAX_BYTES


@pytest.mark.parametrize("batch_size", [1, 500], ids=["one-by-one", "batches"])
def test_an_event_of_a_program_this_deployment_does_not_know_is_dead_lettered_for_a3(infrastructure, batch_size):
    """Every consumer alike (ReliableConsumers knows the service's programs): A3, with the known ones named."""
    run = uuid.uuid4().hex[:16].upper()
    group = f"probe-a3-{batch_size}-{run}"
    start = asyncio.run(end_offsets(PROBE.topic()))
    programs = ("gimpo-sos-demo", "nowhere-sos-2031", "gimpo-sos-demo")
    asyncio.run(_publish_raw([probe_message(_app_id(i, run), program_id=p) for i, p in enumerate(programs)]))

    effects, dead = _applied_and_dead(group, start, batch_size, 2, programs={"gimpo-sos-demo": object()})
    assert effects == {_app_id(0, run): 1, _app_id(2, run): 1}
    assert len(dead) == 1 and "nowhere-sos-2031" in dead[0].error and "gimpo-sos-demo" in dead[0].error


@pytest.mark.parametrize("batch_size", [1, 500], ids=["one-by-one", "batches"])
def test_a_version_of_a_program_this_deployment_does_not_know_is_dead_lettered_for_v1(infrastructure, batch_size):
    """Every group alike, whether or not its handler reads the version (issue 31: version 99 was applied by the
    groups whose handlers never look the program up)."""
    run = uuid.uuid4().hex[:16].upper()
    group = f"probe-v1-{batch_size}-{run}"
    start = asyncio.run(end_offsets(PROBE.topic()))
    messages = [probe_message(_app_id(i, run)) for i in range(3)]
    key, body, headers = messages[1]
    messages[1] = (key, _with(body, program_version=99), headers)
    asyncio.run(_publish_raw(messages))

    effects, dead = _applied_and_dead(group, start, batch_size, 2,
                                      programs={"gimpo-sos-demo": SimpleNamespace(version=1)})
    assert effects == {_app_id(0, run): 1, _app_id(2, run): 1}
    assert len(dead) == 1 and "[V1] program_version" in dead[0].error and "version 99" in dead[0].error


@pytest.mark.parametrize("batch_size", [1, 500], ids=["one-by-one", "batches"])
def test_a_known_event_id_with_another_body_is_dead_lettered_as_a_conflict(infrastructure, batch_size):
    """A re-sent event (same id, same bytes) is a duplicate, applied once; another body under an id already applied
    is a conflict on the DLQ, never skipped silently (issue 31: 34 of 34 groups skipped it)."""
    run = uuid.uuid4().hex[:16].upper()
    group = f"probe-conflict-{batch_size}-{run}"
    start = asyncio.run(end_offsets(PROBE.topic()))
    first = probe_message(_app_id(0, run))
    key, body, headers = first
    other_body = _with(body, reason="another withdrawal under the same id")
    asyncio.run(_publish_raw([first, first, (key, other_body, headers), probe_message(_app_id(1, run))]))

    effects, dead = _applied_and_dead(group, start, batch_size, 2)
    assert effects == {_app_id(0, run): 1, _app_id(1, run): 1}
    assert len(dead) == 1 and "[ce_id-conflict] ce_id" in dead[0].error
    assert dead[0].event_id == dict(headers)["ce_id"].decode()


class _KeyNotUtf8(str):
    """A header key as a producer that does not encode UTF-8 writes it (aiokafka's own never does)."""

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return b"ce_\xff\xfe"


async def _publish_with_a_key_not_utf8(before: tuple, poison: tuple, after: tuple) -> None:
    """Three records in one batch on one partition, the middle one with a header key that is not UTF-8: written by
    aiokafka's pure-Python batch builder, which encodes keys through the key's own `encode`."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.record.default_records import _DefaultRecordBatchBuilderPy

    producer = AIOKafkaProducer(**kafka_access(KAFKA).client(), enable_idempotence=False, acks="all")
    await producer.start()
    try:
        batch = producer.create_batch()
        batch._builder = _DefaultRecordBatchBuilderPy(2, 0, is_transactional=0, producer_id=-1, producer_epoch=-1,
                                                      base_sequence=0, batch_size=1_000_000)
        for key, body, headers in (before, poison, after):
            batch.append(key=key, value=body, timestamp=None, headers=headers)
        await (await producer.send_batch(batch, PROBE.topic(), partition=0))
    finally:
        await producer.stop()


@pytest.mark.parametrize("batch_size", [1, 500], ids=["one-by-one", "batches"])
def test_a_header_key_that_is_not_utf8_is_dead_lettered_and_the_partition_moves_on(infrastructure, batch_size):
    """aiokafka's parser raised on such a key inside the fetcher: the partition stalled for good, FastStream
    restarted its loop 1,500 times a second and memory grew until the kernel killed the service (issue 31)."""
    import resource

    run = uuid.uuid4().hex[:16].upper()
    group = f"probe-header-key-{batch_size}-{run}"
    start = asyncio.run(end_offsets(PROBE.topic()))
    before, after = probe_message(_app_id(0, run)), probe_message(_app_id(2, run))
    key, body, headers = probe_message(_app_id(1, run))
    asyncio.run(_publish_with_a_key_not_utf8(before, (key, body, [(_KeyNotUtf8("x"), b"1"), *headers]), after))
    resident_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    effects, dead = _applied_and_dead(group, start, batch_size, 2, settle=3.0)
    assert effects == {_app_id(0, run): 1, _app_id(2, run): 1}
    assert len(dead) == 1 and "header key 'ce_\ufffd\ufffd' is not UTF-8 text" in dead[0].error
    # the loop that spun grew by megabytes a second; a consumer that moves on holds what one poll holds
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - resident_before < 200_000  # kB
