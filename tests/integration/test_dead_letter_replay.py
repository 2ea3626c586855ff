"""A poison event, dead-lettered for a rule, is replayed by an operator once its cause is fixed: applied once,
however often it is replayed, and the replay recorded (who, when, why). On the real broker and database, with
the command a center's operator runs (`python -m screening dlq list|replay`)."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid

from sqlalchemy import text

from tests.integration.test_delivery_guarantees import PROBE, CountingConsumer, _app_id, _publish_raw, probe_message
from deploy.local.procs import bus_credentials
from tests.support import KAFKA, ROOT, db_url, end_offsets


def _dlq(*args: str) -> str:
    # The operator runs it as the bus administrator: the probe topic, like most a replay writes, is not screening's
    env = {**os.environ, "SCREENING_DATABASE_URL": db_url("screening"), "SCREENING_KAFKA_BOOTSTRAP_SERVERS": KAFKA,
           **bus_credentials("screening", principal="admin")}
    run = subprocess.run([sys.executable, "-m", "screening", "dlq", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_a_dead_letter_replayed_after_its_fix_is_applied_once(infrastructure):
    run = uuid.uuid4().hex[:16].upper()
    group = f"probe-replay-{run}"
    start = asyncio.run(end_offsets(PROBE.topic()))
    poison = _app_id(1, run)
    asyncio.run(_publish_raw([probe_message(_app_id(i, run)) for i in range(3)]))

    async def before_the_fix():
        async with CountingConsumer(group, start, refuse=frozenset({poison})) as consumer:
            return await consumer.applied(run, 2, seconds=60)

    assert set(asyncio.run(before_the_fix())) == {_app_id(0, run), _app_id(2, run)}
    listed = [json.loads(line) for line in _dlq("list", "--consumer", group).splitlines()]
    assert len(listed) == 1 and "breaks the test's rule" in listed[0]["error"]
    dead_letter = str(listed[0]["id"])

    async def after_the_fix():  # the rule is corrected: the same consumer group, the poison no longer refused
        async with CountingConsumer(group, {}, refuse=frozenset()) as consumer:
            _dlq("replay", dead_letter, "--by", "operator:kim", "--reason", "rule corrected")
            once = await consumer.applied(run, 3, seconds=60)
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
