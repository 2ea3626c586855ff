"""No message can stop a consumer or disappear (issue 13): every kind of message a consumer cannot read is
dead-lettered with a reason and the group moves on to the next good event — one event per transaction and in
batches, on the real broker and database."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from sme_runtime.consumer import DLQ_TRUNCATED_BODY_BYTES, dlq_topic
from tests.integration.test_delivery_guarantees import PROBE, CountingConsumer, _app_id, _publish_raw, probe_message
from tests.support import end_offsets, read_topic

OVERSIZED_BODY_BYTES = 1_046_000  # near the producer's and broker's 1 MiB limits: its DLQ copy would be over


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
    }[kind]


KINDS = ("not JSON", "tombstone", "header not UTF-8", "null header", "NUL in ce_id", "NUL in a text field",
         "oversized")


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

    copies = asyncio.run(read_topic(dlq_topic(PROBE.topic()), dlq_start, timeout=30, until=lambda rs: len(
        [r for r in rs if dict(r.headers).get("dlq_consumer") == group.encode()]) >= len(KINDS)))
    ours = [r for r in copies if dict(r.headers).get("dlq_consumer") == group.encode()]
    assert len(ours) == len(KINDS)
    short = [r for r in ours if dict(r.headers).get("dlq_truncated") == b"true"]
    assert len(short) == 1 and len(short[0].value) == DLQ_TRUNCATED_BODY_BYTES
    assert dict(short[0].headers)["dlq_original_bytes"] == str(OVERSIZED_BODY_BYTES).encode()
    assert dict(short[0].headers)["dlq_original_offset"].isdigit()


@pytest.mark.parametrize("batch_size", [1, 500], ids=["one-by-one", "batches"])
def test_an_event_of_a_program_this_deployment_does_not_know_is_dead_lettered_for_a3(infrastructure, batch_size):
    """Every consumer alike (ReliableConsumers knows the service's programs): A3, with the known ones named."""
    run = uuid.uuid4().hex[:16].upper()
    group = f"probe-a3-{batch_size}-{run}"
    start = asyncio.run(end_offsets(PROBE.topic()))
    programs = ("gimpo-sos-demo", "nowhere-sos-2031", "gimpo-sos-demo")
    asyncio.run(_publish_raw([probe_message(_app_id(i, run), program_id=p) for i, p in enumerate(programs)]))

    async def consume():
        async with CountingConsumer(group, start, batch_size=batch_size,
                                    programs={"gimpo-sos-demo": object()}) as consumer:
            return await consumer.applied(run, 2, seconds=60, settle=1.0), await consumer.dead_letters()

    effects, dead = asyncio.run(consume())
    assert effects == {_app_id(0, run): 1, _app_id(2, run): 1}
    assert len(dead) == 1 and "nowhere-sos-2031" in dead[0].error and "gimpo-sos-demo" in dead[0].error
