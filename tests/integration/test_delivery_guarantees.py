"""Outbox relay and idempotent consumers under failure: relay SIGKILLed mid-batch, duplicates, broker restart."""
from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream.kafka import KafkaBroker
from sqlalchemy import text

from deploy.sample.program_call import demo_program, sample_forms
from intake.app import MIGRATIONS
from sme_runtime import metrics
from sme_runtime.consumer import EventRefused, ReliableConsumers, dlq_topic
from sme_runtime.db import make_engine, migrate, session_factory
from sme_runtime.outbox import append_to_outbox
from sme_schemas import wrap
from sme_schemas.intake import ApplicationWithdrawn
from tests.integration.test_intake_service import BASE, SUBMITTED, operator
from tests.support import KAFKA, ServiceProcess, db_url, end_offsets, local, read_topic, running
from sme_runtime.kafka_access import kafka_access

PROBE = ApplicationWithdrawn  # any contract event will do; the probe's consumer is the test's own service


def _app_id(i: int, run: str) -> str:
    return f"APP-{run}{i:010d}"


def probe_message(application_id: str, *, program_id: str = "gimpo-sos-demo") -> tuple[bytes, bytes, list]:
    """(key, body, headers) of one probe event as a producer puts it on the broker."""
    now = datetime.now(timezone.utc)
    envelope = wrap(PROBE(program_id=program_id, application_id=application_id, occurred_at=now, withdrawn_at=now),
                    source="/sme/test")
    return envelope.key, envelope.body, [(k, v.encode()) for k, v in envelope.headers().items()]


async def _fill_outbox(count: int, run: str) -> None:
    engine = make_engine(db_url("intake"))
    await migrate(engine, MIGRATIONS)
    sessions = session_factory(engine)
    now = datetime.now(timezone.utc)
    async with sessions() as session, session.begin():
        append_to_outbox(session, [(PROBE(program_id="gimpo-sos-demo", application_id=_app_id(i, run),
                                          occurred_at=now, withdrawn_at=now), None) for i in range(count)],
                         source="/sme/test")
    await engine.dispose()


async def _sent_count(*, sent: bool = True) -> int:
    """Intake's outbox rows the relay has marked sent (`sent=False`: those still waiting)."""
    conn = await asyncpg.connect(db_url("intake").replace("+asyncpg", ""))
    try:
        return await conn.fetchval("SELECT count(*) FROM outbox WHERE (sent_at IS NOT NULL) = $1", sent)
    finally:
        await conn.close()


async def _published_since(start: dict[int, int]) -> int:
    return sum((await end_offsets(PROBE.topic())).values()) - sum(start.values())


async def _start_group_at(group: str, offsets: dict[int, int]) -> None:
    """Commit a new consumer group's offsets where this test's events begin; the suite's broker keeps earlier
    runs' probe events, which a group reading from the earliest offset would have to wade through first."""
    if not offsets:
        return  # the topic is new: the earliest offset is where this test's events begin
    consumer = AIOKafkaConsumer(**kafka_access(KAFKA).client(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        positions = {TopicPartition(PROBE.topic(), p): o for p, o in offsets.items()}
        consumer.assign(list(positions))
        await consumer.commit(positions)
    finally:
        await consumer.stop()


class CountingConsumer:
    """A consumer service of the probe events whose effect is not idempotent by itself (n = n + 1), so only
    the inbox can keep each event's effect to exactly one. `refuse` names applications whose event breaks a rule
    (the poison); `batch_size` > 1 applies a poll of events in one transaction."""

    def __init__(self, group: str, start: dict[int, int], *, batch_size: int = 1, refuse: frozenset = frozenset(),
                 programs: dict | None = None):
        self.group, self.start, self.batch_size, self.refuse = group, start, batch_size, refuse
        self.programs = programs

    async def __aenter__(self):
        await _start_group_at(self.group, self.start)
        self.engine = make_engine(db_url("screening"))
        await migrate(self.engine, None)  # only the delivery tables: this consumer is the test's own
        async with self.engine.begin() as conn:
            await conn.execute(
                text("CREATE TABLE IF NOT EXISTS probe_effects (application_id text PRIMARY KEY, n int)")
            )
        self.broker = KafkaBroker(KAFKA, security=kafka_access(KAFKA).security(), logger=None)
        consumers = ReliableConsumers(self.broker, session_factory(self.engine), service=self.group,
                                      batch_size=self.batch_size, programs=self.programs)

        async def count(session, envelope, event):
            if event.application_id in self.refuse:
                raise EventRefused(f"{event.application_id} breaks the test's rule", field="application_id",
                                   rule="A3")
            await session.execute(text("INSERT INTO probe_effects VALUES (:a, 1) ON CONFLICT (application_id) "
                                       "DO UPDATE SET n = probe_effects.n + 1"), {"a": event.application_id})

        consumers.subscribe(PROBE, count, group_id=self.group)
        await self.broker.start()
        return self

    async def applied(self, run: str, count: int, *, seconds: float = 90, settle: float = 1.5) -> dict[str, int]:
        """The effects once `count` applications of the run have one (or `seconds` passed), after `settle`
        seconds more: a duplicate or a second attempt would show by then."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(await self.effects(run)) < count:
            await asyncio.sleep(0.3)
        await asyncio.sleep(settle)
        return await self.effects(run)

    async def dead_letters(self) -> list:
        async with self.engine.connect() as conn:
            return (await conn.execute(text('SELECT id, "offset", event_id, error FROM dead_letters '
                                            "WHERE consumer = :c ORDER BY id"), {"c": self.group})).all()

    async def effects(self, run: str) -> dict[str, int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(text("SELECT application_id, n FROM probe_effects WHERE application_id LIKE :p"),
                                      {"p": f"APP-{run}%"})
            return dict(rows.all())

    async def __aexit__(self, *exc):
        await self.broker.stop()
        await self.engine.dispose()


def test_relay_killed_mid_batch_loses_nothing_and_each_effect_happens_once(intake_env):
    count, run = 6000, uuid.uuid4().hex[:16].upper()
    start = asyncio.run(end_offsets(PROBE.topic()))
    asyncio.run(_fill_outbox(count, run))
    relay_env = {**intake_env, "INTAKE_RELAY_BATCH_SIZE": "1000"}
    relay = ServiceProcess("intake", "relay", relay_env).start(wait=False)

    # Kill while a batch is on its way: some of its records are on the topic, none of its rows marked sent.
    deadline, killed_mid_batch = time.monotonic() + 60, False
    while time.monotonic() < deadline:
        published = asyncio.run(_published_since(start))
        if published % 1000 and published < count:
            relay.kill()
            killed_mid_batch = asyncio.run(_published_since(start)) > asyncio.run(_sent_count())
            break
        time.sleep(0.005)
    assert killed_mid_batch, "the relay was not caught mid-batch"
    sent_before_restart = asyncio.run(_sent_count())
    assert sent_before_restart < count

    relay = ServiceProcess("intake", "relay", relay_env).start(wait=False)
    try:
        async def drain_and_consume():
            while await _sent_count() < count:
                await asyncio.sleep(0.2)
            async with CountingConsumer(f"probe-{run}", start) as consumer:
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline and len(await consumer.effects(run)) < count:
                    await asyncio.sleep(0.5)
                await asyncio.sleep(2)  # give any duplicate time to arrive and be (not) counted
                return await consumer.effects(run)

        effects = asyncio.run(drain_and_consume())
    finally:
        relay.stop()
    on_topic = asyncio.run(_published_since(start))
    assert on_topic > count, "the kill re-published part of a batch; that is what the inbox must absorb"
    assert len(effects) == count and set(effects.values()) == {1}


def test_duplicated_delivery_changes_nothing(intake_env):
    """The same events published twice (a relay crash's duplicates) are applied once."""
    run = uuid.uuid4().hex[:16].upper()
    asyncio.run(_fill_outbox(50, run))

    async def publish_twice_and_count():
        start = await end_offsets(PROBE.topic())
        engine = make_engine(db_url("intake"))
        from sme_runtime.relay import OutboxRelay

        relay = OutboxRelay(engine, service="intake", bootstrap_servers=KAFKA)
        await relay.publish_batch()
        async with engine.begin() as conn:  # forget that they were sent: the next batch re-publishes them all
            await conn.execute(text("UPDATE outbox SET sent_at = NULL"))
        await relay.publish_batch()
        await relay._reset_producer()
        await engine.dispose()
        assert await _published_since(start) == 100
        async with CountingConsumer(f"probe-{run}", start) as consumer:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(await consumer.effects(run)) < 50:
                await asyncio.sleep(0.3)
            await asyncio.sleep(2)
            return await consumer.effects(run)

    effects = asyncio.run(publish_twice_and_count())
    assert len(effects) == 50 and set(effects.values()) == {1}


def test_an_idle_relay_wakes_when_a_commit_writes_to_the_outbox(intake_env):
    """Issue 30: the relay waits for the outbox trigger's notification instead of polling; with a 10-minute idle
    wait only the notification can have it publish rows written after it went idle, and it does so at once."""
    run = uuid.uuid4().hex[:16].upper()

    async def write_while_idle() -> tuple[int, int]:
        from sme_runtime.relay import OutboxRelay

        engine = make_engine(db_url("intake"))
        await migrate(engine, MIGRATIONS)
        relay = OutboxRelay(engine, service="intake", bootstrap_servers=KAFKA, idle_seconds=600)
        running_relay = asyncio.create_task(relay.run())
        try:
            deadline = time.monotonic() + 60
            # what earlier tests left is published first
            while await _sent_count(sent=False) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            await asyncio.sleep(1)  # idle now, for ten minutes unless woken
            woken_before = relay.wake_ups
            await _fill_outbox(20, run)
            while await _sent_count(sent=False) and time.monotonic() < deadline + 60:
                await asyncio.sleep(0.2)
            return await _sent_count(sent=False), relay.wake_ups - woken_before
        finally:
            relay.stop()
            await asyncio.wait_for(running_relay, 30)
            await engine.dispose()

    unsent, wake_ups = asyncio.run(write_while_idle())
    assert unsent == 0 and wake_ups >= 1


def test_broker_restart_mid_stream_loses_nothing(intake_env):
    now = datetime.now(timezone.utc)
    forms = sample_forms(demo_program(now), now.date(), count=40, seed=int(now.timestamp()) + 7)
    start = asyncio.run(end_offsets(SUBMITTED))
    with running(ServiceProcess("intake", "serve", intake_env, port=18001)):
        ids = []
        for i, form in enumerate(forms):
            if i == 15:
                local("kafka.sh", "kill")  # the broker dies without a clean shutdown
            if i == 25:
                local("kafka.sh", "start")
            response = httpx.post(f"{BASE}/applications", json=form, headers=operator(), timeout=30)
            assert response.status_code == 201, response.text  # accepted while Kafka is down: the outbox holds it
            ids.append(response.json()["application_id"])
        records = asyncio.run(read_topic(SUBMITTED, start, timeout=120,
                                         until=lambda rs: {r.key.decode() for r in rs} >= set(ids)))
        health = httpx.get(f"{BASE}/health").json()
    keys = [r.key.decode() for r in records]
    assert set(keys) >= set(ids)
    assert health["outbox_pending"] == 0
    # the idempotent producer wrote no duplicates of its own; any repeat would carry the same ce_id
    per_id = {}
    for r in records:
        per_id.setdefault(dict((k, v.decode()) for k, v in r.headers)["ce_id"], []).append(r.offset)
    assert len(per_id) == len(ids)


async def _publish_raw(messages: list[tuple[bytes, bytes, list]]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(**kafka_access(KAFKA).client(), enable_idempotence=True, acks="all", linger_ms=20)
    await producer.start()
    try:
        sends = [await producer.send(PROBE.topic(), body, key=key, headers=headers) for key, body, headers in messages]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


def _batch_polls(group: str) -> tuple[float, float]:
    """(polls, records) the batch consumer of `group` took, from its own Prometheus histogram."""
    samples = {s.name: s.value for m in metrics.BATCH_SIZE.collect() for s in m.samples
               if s.labels.get("service") == group and s.name.endswith(("_count", "_sum"))}
    return samples.get("sme_consumer_batch_records_count", 0), samples.get("sme_consumer_batch_records_sum", 0)


def test_a_batch_with_a_poison_event_dead_letters_it_alone_and_applies_the_rest_once(infrastructure):
    """Events waiting for a batch consumer: 200 good ones, one refused by a rule, one that is not JSON and one
    redelivered twice. The good ones are applied once each in a few transactions, the poison events alone go to
    the DLQ (with the field and rule), and nothing of the rolled-back batch attempt stays."""
    run = uuid.uuid4().hex[:16].upper()
    group = f"probe-batch-{run}"
    start = asyncio.run(end_offsets(PROBE.topic()))
    dlq_start = asyncio.run(end_offsets(dlq_topic(PROBE.topic())))
    poison = _app_id(77, run)
    messages = []
    for i in range(202):
        key, body, headers = probe_message(_app_id(i, run))
        messages.append((key, body, headers))
        if i == 5:
            messages.append((key, body, headers))  # redelivered: same ce_id, applied once
        if i == 201:  # the last one's body is broken: not JSON under valid CloudEvents headers
            messages[-1] = (key, b"{not json", headers)
    asyncio.run(_publish_raw(messages))

    async def consume():
        async with CountingConsumer(group, start, batch_size=500, refuse=frozenset({poison})) as consumer:
            return await consumer.applied(run, 200), await consumer.dead_letters()

    effects, dead = asyncio.run(consume())
    good = {_app_id(i, run) for i in range(201)} - {poison}
    assert set(effects) == good and set(effects.values()) == {1}
    assert len(dead) == 2 and any("breaks the test's rule" in d.error for d in dead)
    polls, records = _batch_polls(group)
    assert records >= 203 and polls < records / 10, (polls, records)  # applied in batches, not one by one
    dlq = asyncio.run(read_topic(dlq_topic(PROBE.topic()), dlq_start, until=lambda rs: len(rs) >= 2, timeout=30))
    ours = [r for r in dlq if dict(r.headers).get("dlq_consumer", b"").decode() == group]
    assert sorted(r.key.decode() for r in ours) == sorted([poison, _app_id(201, run)])
    refused = next(r for r in ours if r.key.decode() == poison)
    assert dict(refused.headers)["dlq_rule"] == b"A3" and dict(refused.headers)["dlq_field"] == b"application_id"


def test_database_restart_under_a_running_intake_costs_no_submission(intake_env):
    """No ping per pooled connection (sme_runtime.db.make_engine): after PostgreSQL restarts, every pooled
    connection is dead. A submission that meets one renews the pool and runs again: 201, one application. A
    read that meets one answers 503 with Retry-After in the error shape, never a bare 500, and only once."""
    now = datetime.now(timezone.utc)
    forms = sample_forms(demo_program(now), now.date(), count=12, seed=int(now.timestamp()) + 11)
    # Without its relay nothing else in the process touches the pool and renews it before the request does.
    quiet = {**intake_env, "INTAKE_RUN_RELAY": "false"}
    with running(ServiceProcess("intake", "serve", quiet, port=18001)):
        with ThreadPoolExecutor(8) as pool:  # fill the pool with several open connections
            first = list(pool.map(lambda f: httpx.post(f"{BASE}/applications", json=f, headers=operator(),
                                                       timeout=30), forms[:8]))
        assert [r.status_code for r in first] == [201] * 8
        local("postgres.sh", "restart")
        after = [httpx.post(f"{BASE}/applications", json=f, headers=operator(), timeout=30) for f in forms[8:10]]
        assert [r.status_code for r in after] == [201, 201], [r.text for r in after]
        local("postgres.sh", "kill")
        local("postgres.sh", "start")
        ids = [r.json()["application_id"] for r in first + after]
        reads = [httpx.get(f"{BASE}/applications/{i}", headers=operator(), timeout=30) for i in ids]
        unavailable = [r for r in reads if r.status_code != 200]
        assert len(unavailable) <= 1, [r.text for r in unavailable]  # one dead connection renews the whole pool
        for r in unavailable:
            assert r.status_code == 503 and r.headers["Retry-After"] == "1", r.text
            assert r.json()["errors"][0]["rule"] == "availability"
        assert [httpx.get(f"{BASE}/applications/{i}", headers=operator(), timeout=30).status_code
                for i in ids] == [200] * len(ids)
