"""Consumer lag: for each consumer group of this process and each topic it reads, how many events wait
(the partitions' end offsets minus the group's committed offsets). The number an operator watches on deadline
day: a growing lag is a service falling behind, a flat non-zero lag a consumer that stopped."""
from __future__ import annotations

import logging
from collections import defaultdict

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from sme_runtime import metrics
from sme_runtime.kafka_access import KafkaAccess, kafka_access

log = logging.getLogger(__name__)

# (service, consumer group, topic) of every reliable subscription made in this process
SUBSCRIPTIONS: set[tuple[str, str, str]] = set()


def lag_per_topic(ends: dict[TopicPartition, int], starts: dict[TopicPartition, int],
                  committed: dict[TopicPartition, int | None]) -> dict[str, int]:
    """Events waiting per topic; a partition the group never committed on waits from its first offset."""
    waiting: dict[str, int] = defaultdict(int)
    for tp, end in ends.items():
        position = committed.get(tp)
        waiting[tp.topic] += max(0, end - (starts.get(tp, 0) if position is None or position < 0 else position))
    return dict(waiting)


async def measure(kafka: KafkaAccess | str, service: str) -> dict[tuple[str, str], int]:
    """(group, topic) → events waiting, for this process's subscriptions; also set on the gauge."""
    mine = [(group, topic) for s, group, topic in SUBSCRIPTIONS if s == service]
    if not mine:
        return {}
    access = kafka_access(kafka)
    admin = AIOKafkaAdminClient(**access.client())
    reader = AIOKafkaConsumer(**access.client(), enable_auto_commit=False)
    await admin.start()
    await reader.start()
    try:
        lags: dict[tuple[str, str], int] = {}
        described = await admin.describe_topics(sorted({t for _, t in mine}))
        partitions_of = {d["topic"]: [TopicPartition(d["topic"], p["partition"]) for p in d.get("partitions", ())]
                         for d in described if d.get("error_code") == 0}
        reader.assign([tp for tps in partitions_of.values() for tp in tps])  # assigned, it also stops cleanly
        for group in sorted({g for g, _ in mine}):
            partitions = [tp for g, t in mine if g == group for tp in partitions_of.get(t, ())]
            if not partitions:
                continue  # its topics do not exist yet
            offsets = await admin.list_consumer_group_offsets(group, partitions=partitions)
            committed = {tp: meta.offset for tp, meta in offsets.items()}
            ends, starts = await reader.end_offsets(partitions), await reader.beginning_offsets(partitions)
            for topic, waiting in lag_per_topic(ends, starts, committed).items():
                lags[(group, topic)] = waiting
                metrics.CONSUMER_LAG.labels(service, group, topic).set(waiting)
        return lags
    finally:
        await reader.stop()
        await admin.close()
