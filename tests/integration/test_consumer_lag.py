"""sme_consumer_lag: events waiting per consumer group and topic, measured against the real broker."""
from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from sme_runtime import lag, metrics
from tests.support import KAFKA
from sme_runtime.kafka_access import kafka_access
from sme_runtime.topics import ensure_topics


async def _scenario(topic: str, group: str) -> tuple[dict, dict]:
    await ensure_topics(KAFKA, [topic])  # the suite's bus creates no topic on first use (a deploy step does)
    producer = AIOKafkaProducer(**kafka_access(KAFKA).client(), acks="all")
    await producer.start()
    try:
        for n in range(12):
            await producer.send_and_wait(topic, f"event {n}".encode(), partition=0)
    finally:
        await producer.stop()
    before = await lag.measure(KAFKA, "lag-probe")  # the group has committed nothing: all 12 wait
    consumer = AIOKafkaConsumer(**kafka_access(KAFKA).client(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.commit({TopicPartition(topic, 0): 5})  # 5 applied
    finally:
        await consumer.stop()
    return before, await lag.measure(KAFKA, "lag-probe")


def test_lag_is_what_a_group_has_not_committed_per_topic(infrastructure):
    topic, group = f"test.lag.{uuid.uuid4().hex[:8]}", f"lag-probe.{uuid.uuid4().hex[:8]}"
    lag.SUBSCRIPTIONS.add(("lag-probe", group, topic))
    try:
        before, after = asyncio.run(_scenario(topic, group))
    finally:
        lag.SUBSCRIPTIONS.discard(("lag-probe", group, topic))
    assert before == {(group, topic): 12} and after == {(group, topic): 7}
    assert metrics.CONSUMER_LAG.labels("lag-probe", group, topic)._value.get() == 7
