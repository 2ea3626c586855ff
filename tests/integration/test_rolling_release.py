"""Services are released one at a time (issue 13): for every event of the catalog, on the real broker,
- a newer producer (optional fields added at the top and in every nested object) is read by today's consumer;
- an older producer (without the optional fields, as before they were added) is read by today's consumer.
Neither may dead-letter anything. (The schema-level promise, FULL within a major version, is in
sme_schemas.compat; `python -m sme_schemas.export --check` keeps the committed schemas honest.)"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from sqlalchemy import text

from sme_runtime.consumer import ReliableConsumers, dlq_topic
from sme_runtime.db import make_engine, migrate, session_factory
from sme_schemas import wrap
from sme_schemas.catalog import EVENTS
from sme_schemas.examples import EXAMPLES
from sme_schemas.export import event_schema
from tests.support import KAFKA, db_url
from sme_runtime.kafka_access import kafka_access
from sme_runtime.topics import ensure_topics


def _node(node: dict, root: dict) -> dict:
    """A schema node with its $ref followed and, of a nullable union, the non-null variant."""
    while "$ref" in node:
        node = root["$defs"][node["$ref"].split("/")[-1]]
    variants = [v for v in node.get("anyOf", []) if v.get("type") != "null"]
    return _node(variants[0], root) if len(variants) == 1 else node


def newer(body: Any, node: dict, root: dict) -> Any:
    """The body as a newer producer sends it: one more optional field in every object. A map (an object of
    arbitrary keys, e.g. a follow-up's answers) gets no field: its keys are data."""
    node = _node(node, root)
    if isinstance(body, dict):
        props = node.get("properties")
        if props is None:
            values = node.get("additionalProperties")
            return {k: newer(v, values if isinstance(values, dict) else {}, root) for k, v in body.items()}
        return {**{k: newer(v, props.get(k, {}), root) for k, v in body.items()},
                "added_in_a_later_release": {"note": "새 선택 항목"}}
    if isinstance(body, list):
        items = node.get("items") if isinstance(node.get("items"), dict) else {}
        return [newer(v, items, root) for v in body]
    return body


def older(body: dict, schema: dict, event_cls) -> dict:
    """The body as an older producer sent it: without the top-level fields that are optional now (each that the
    event can do without: an allowance's `application_id` is optional in the schema, a subsidy's is not)."""
    required = set(schema.get("required", ()))
    sent = dict(body)
    for name in [k for k in body if k not in required]:
        without = {k: v for k, v in sent.items() if k != name}
        try:
            event_cls.model_validate(without)
        except ValueError:
            continue
        sent = without
    return sent


def test_old_and_new_producers_are_read_by_todays_consumers_of_every_event(infrastructure):
    run = uuid.uuid4().hex[:12]
    events = [e for e in EVENTS if e.__name__ in EXAMPLES]
    assert len(events) == len(EVENTS), "every event has an example"
    topics = {e: f"test.rolling-release.{run}.{e.event_name}" for e in events}

    async def scenario():
        # the suite's bus creates no topic on first use (a deploy step does): these and their DLQs, as admin
        await ensure_topics(KAFKA, [t for topic in topics.values() for t in (topic, dlq_topic(topic))])
        producer = AIOKafkaProducer(**kafka_access(KAFKA).client(), acks="all")
        await producer.start()
        try:
            for event_cls in events:
                current = event_cls.model_validate(EXAMPLES[event_cls.__name__])
                body = json.loads(current.model_dump_json())
                schema = event_schema(event_cls)
                for era, sent in (("newer", newer(body, schema, schema)), ("older", older(body, schema, event_cls))):
                    envelope = wrap(current, source=f"/sme/{era}-release")
                    await producer.send_and_wait(topics[event_cls], json.dumps(sent, ensure_ascii=False).encode(),
                                                 key=envelope.key,
                                                 headers=[(k, v.encode()) for k, v in envelope.headers().items()])
        finally:
            await producer.stop()

        engine = make_engine(db_url("screening"))
        await migrate(engine, None)
        broker = KafkaBroker(KAFKA, security=kafka_access(KAFKA).security(), logger=None)
        consumers = ReliableConsumers(broker, session_factory(engine), service=f"rolling-{run}")
        read: list[tuple[str, str]] = []

        async def record(session, envelope, event):
            read.append((type(event).__name__, envelope.source))

        for event_cls in events:
            consumers.subscribe(event_cls, record, topic=topics[event_cls])
        await broker.start()
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and len(read) < 2 * len(events):
                await asyncio.sleep(0.5)
            async with engine.connect() as conn:
                dead = (await conn.execute(text("SELECT topic, error FROM dead_letters WHERE consumer LIKE :c"),
                                           {"c": f"rolling-{run}.%"})).all()
        finally:
            await broker.stop()
            await engine.dispose()
        return read, dead

    read, dead = asyncio.run(scenario())
    assert dead == []
    assert sorted(read) == sorted((e.__name__, f"/sme/{era}-release") for e in events for era in ("newer", "older"))
