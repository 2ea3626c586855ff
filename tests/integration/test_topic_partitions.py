"""Issue 30: every topic has the partitions the platform declares (sme_runtime.topics.PARTITIONS), read back from
the broker. A 4-replica run found a lookup topic auto-created with the local broker's default of 3 (a client
touched it before its service created it), so its fourth worker replica idled: the brokers' own default is now
the platform's count (tests/unit/test_topic_defaults.py), and a service starting on a topic with fewer partitions
says so."""
from __future__ import annotations

import logging
import uuid

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from screening.app import internal_topics
from sme_runtime.kafka_access import kafka_access
from sme_runtime.topics import PARTITIONS, ensure_topics, partition_counts, service_topics
from tests.support import KAFKA

SERVICES = ("intake", "screening", "evaluation", "contracts", "payments", "portal")


async def _partitions(topics: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(**kafka_access(KAFKA).client())
    await admin.start()
    try:
        return await partition_counts(admin, topics)
    finally:
        await admin.close()


async def test_every_topic_a_service_declares_has_the_declared_partitions_on_the_broker(infrastructure):
    declared = sorted({t for s in SERVICES for t in service_topics(s)} | set(internal_topics()))
    await ensure_topics(KAFKA, declared)
    counts = await _partitions(declared)
    assert set(counts) == set(declared)
    assert {topic: n for topic, n in counts.items() if n != PARTITIONS} == {}


async def test_a_topic_found_with_fewer_partitions_is_named_at_start_and_left_as_it_is(infrastructure, caplog):
    """Adding partitions to a topic in use would move keys and break each application's order: the service names
    it for the bus administrator instead."""
    short = f"screening.lookup-requested.probe-{uuid.uuid4().hex[:8]}.v1"
    admin = AIOKafkaAdminClient(**kafka_access(KAFKA).client())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(short, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()
    with caplog.at_level(logging.WARNING, logger="sme_runtime.topics"):
        await ensure_topics(KAFKA, [short])
    assert any(short in r.getMessage() and "3 partitions, fewer than the 12 declared" in r.getMessage()
               for r in caplog.records)
    assert await _partitions([short]) == {short: 3}
