"""No message can stop a consumer or disappear (issue 13): every kind of message a consumer cannot read is
dead-lettered with a reason and the group moves on to the next good event — one event per transaction and in
batches, on the real broker and database."""
from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from sme_runtime.consumer import DLQ_TRUNCATED_BODY_BYTES, dlq_topic
from sme_schemas import wrap
from tests.integration.test_delivery_guarantees import PROBE, CountingConsumer, _app_id, _publish_raw
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
    now = datetime.now(timezone.utc)
    messages, good = [], set()
    for i, kind in enumerate(KINDS):
        poisoned = wrap(PROBE(program_id="gimpo-sos-demo", application_id=_app_id(2 * i, run), occurred_at=now,
                              withdrawn_at=now), source="/sme/test")
        headers = [(k, v.encode()) for k, v in poisoned.headers().items()]
        messages.append(_poison(kind, poisoned.key, headers, poisoned.body))
        after = wrap(PROBE(program_id="gimpo-sos-demo", application_id=_app_id(2 * i + 1, run), occurred_at=now,
                           withdrawn_at=now), source="/sme/test")
        messages.append((after.key, after.body, [(k, v.encode()) for k, v in after.headers().items()]))
        good.add(_app_id(2 * i + 1, run))
    asyncio.run(_publish_raw(messages))

    async def consume():
        async with CountingConsumer(group, start, batch_size=batch_size) as consumer:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and len(await consumer.effects(run)) < len(good):
                await asyncio.sleep(0.3)
            await asyncio.sleep(1.0)
            async with consumer.engine.connect() as conn:
                dead = (await conn.execute(text('SELECT "offset", event_id, error FROM dead_letters '
                                                "WHERE consumer = :c ORDER BY 1"), {"c": group})).all()
            return await consumer.effects(run), dead

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
    now = datetime.now(timezone.utc)
    messages = []
    for i, program in enumerate(("gimpo-sos-demo", "nowhere-sos-2031", "gimpo-sos-demo")):
        envelope = wrap(PROBE(program_id=program, application_id=_app_id(i, run), occurred_at=now,
                              withdrawn_at=now), source="/sme/test")
        messages.append((envelope.key, envelope.body, [(k, v.encode()) for k, v in envelope.headers().items()]))
    asyncio.run(_publish_raw(messages))

    async def consume():
        async with CountingConsumer(group, start, batch_size=batch_size,
                                    programs={"gimpo-sos-demo": object()}) as consumer:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(await consumer.effects(run)) < 2:
                await asyncio.sleep(0.3)
            await asyncio.sleep(1.0)
            async with consumer.engine.connect() as conn:
                dead = (await conn.execute(text("SELECT error FROM dead_letters WHERE consumer = :c"),
                                           {"c": group})).scalars().all()
            return await consumer.effects(run), dead

    effects, dead = asyncio.run(consume())
    assert effects == {_app_id(0, run): 1, _app_id(2, run): 1}
    assert len(dead) == 1 and "nowhere-sos-2031" in dead[0] and "gimpo-sos-demo" in dead[0]
