"""A poison event, dead-lettered for a rule, is replayed by an operator once its cause is fixed: applied once,
however often it is replayed, and the replay recorded (who, when, why). On the real broker and database, with
the command a center's operator runs (`python -m screening dlq list|replay`)."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone

from sqlalchemy import text

from sme_schemas import wrap
from tests.integration.test_delivery_guarantees import PROBE, CountingConsumer, _app_id, _publish_raw
from tests.support import KAFKA, ROOT, db_url, end_offsets

DLQ_ENV = {**os.environ, "SCREENING_DATABASE_URL": db_url("screening"), "SCREENING_KAFKA_BOOTSTRAP_SERVERS": KAFKA}


def _dlq(*args: str) -> str:
    run = subprocess.run([sys.executable, "-m", "screening", "dlq", *args], cwd=ROOT, env=DLQ_ENV,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


async def _until(consumer: CountingConsumer, run: str, count: int, seconds: float = 60) -> dict[str, int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(await consumer.effects(run)) < count:
        await asyncio.sleep(0.3)
    await asyncio.sleep(1.5)  # a second application would show by now
    return await consumer.effects(run)


def test_a_dead_letter_replayed_after_its_fix_is_applied_once(infrastructure):
    run = uuid.uuid4().hex[:16].upper()
    group = f"probe-replay-{run}"
    start = asyncio.run(end_offsets(PROBE.topic()))
    now = datetime.now(timezone.utc)
    poison = _app_id(1, run)
    messages = []
    for i in range(3):
        envelope = wrap(PROBE(program_id="gimpo-sos-demo", application_id=_app_id(i, run), occurred_at=now,
                              withdrawn_at=now), source="/sme/test")
        messages.append((envelope.key, envelope.body, [(k, v.encode()) for k, v in envelope.headers().items()]))
    asyncio.run(_publish_raw(messages))

    async def before_the_fix():
        async with CountingConsumer(group, start, refuse=frozenset({poison})) as consumer:
            return await _until(consumer, run, 2)

    assert set(asyncio.run(before_the_fix())) == {_app_id(0, run), _app_id(2, run)}
    listed = [json.loads(line) for line in _dlq("list", "--consumer", group).splitlines()]
    assert len(listed) == 1 and "breaks the test's rule" in listed[0]["error"]
    dead_letter = str(listed[0]["id"])

    async def after_the_fix():  # the rule is corrected: the same consumer group, the poison no longer refused
        async with CountingConsumer(group, {}, refuse=frozenset()) as consumer:
            _dlq("replay", dead_letter, "--by", "operator:kim", "--reason", "rule corrected")
            once = await _until(consumer, run, 3)
            _dlq("replay", dead_letter, "--by", "operator:kim", "--reason", "pressed twice")
            await asyncio.sleep(3)
            async with consumer.engine.connect() as conn:
                record = (await conn.execute(text("SELECT replayed_by, replay_reason, replayed_at FROM dead_letters "
                                                  "WHERE id = :i"), {"i": int(dead_letter)})).one()
            return once, await consumer.effects(run), record

    once, twice, record = asyncio.run(after_the_fix())
    assert once == {_app_id(i, run): 1 for i in range(3)}
    assert twice == once  # replayed again: deduplicated by its ce_id
    assert record.replayed_by == "operator:kim" and record.replay_reason == "pressed twice" and record.replayed_at
    assert _dlq("list", "--consumer", group).strip() == ""  # replayed ones leave the list
