"""Creates a service's topics (and their DLQs) up front, so no first publish races topic auto-creation."""
from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from sme_runtime.consumer import dlq_topic
from sme_schemas.catalog import CONSUMES, produced_by

PARTITIONS = 3  # key = application id keeps each application's events in order within a partition


def service_topics(service: str) -> list[str]:
    """Topics a service writes to or reads from, with a DLQ for each one it reads."""
    consumed = [e.topic() for e in CONSUMES[service]]
    return sorted({e.topic() for e in produced_by(service)} | set(consumed) | {dlq_topic(t) for t in consumed})


async def ensure_topics(bootstrap_servers: str, topics: list[str], *, replication_factor: int = 1) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="sme-topic-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, num_partitions=PARTITIONS, replication_factor=replication_factor)
                   for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another replica created them meanwhile
    finally:
        await admin.close()
