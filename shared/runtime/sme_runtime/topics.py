"""Creates a service's topics (and their DLQs) up front, so no first publish races topic auto-creation."""
from __future__ import annotations

import logging
from contextlib import suppress

from aiokafka import errors
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker

from sme_runtime.consumer import dlq_topic
from sme_runtime.kafka_access import KafkaAccess, kafka_access
from sme_runtime.retry import Backoff
from sme_schemas.catalog import CONSUMES, produced_by

log = logging.getLogger(__name__)
# Key = application id keeps each application's events in order within a partition. The partition count is the
# most replicas of one consumer group that can share a topic's load: 12 divides evenly among 1, 2, 3, 4 and 6
# replicas (the deadline-day scaling of screening and its lookup workers) and costs the broker little. Topics
# that already exist keep their count: adding partitions later would move keys and break their order.
PARTITIONS = 12


def service_topics(service: str) -> list[str]:
    """Topics a service writes to or reads from, with a DLQ for each one it reads."""
    consumed = [e.topic() for e in CONSUMES[service]]
    return sorted({e.topic() for e in produced_by(service)} | set(consumed) | {dlq_topic(t) for t in consumed})


async def ensure_topics(kafka: KafkaAccess | str, topics: list[str], *, partitions: int = PARTITIONS,
                        replication_factor: int = 1) -> None:
    """Create the topics that do not exist yet. On a secured bus a service may not create topics (the deploy
    step provisions them: deploy/local/kafka.sh provision); it then only finds them there."""
    admin = AIOKafkaAdminClient(**kafka_access(kafka).client(), client_id="sme-topic-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, num_partitions=partitions, replication_factor=replication_factor)
                   for t in topics if t not in existing]
        if missing:
            try:
                response = await admin.create_topics(missing)
            except errors.TopicAlreadyExistsError:
                return  # another replica created them meanwhile
            refused = _refused(response)
            if refused:
                raise TopicsNotProvisioned(refused)
        for topic, found in (await partition_counts(admin, [t for t in topics if t in existing])).items():
            if found < partitions:
                # Not added here: more partitions move keys and break each application's order on a topic in
                # use. Said at every start, so the bus administrator sees it before a replica idles.
                log.warning("topic %s has %d partitions, fewer than the %d declared: at most %d replicas of a "
                            "group share it (recreate it empty, or add partitions while it is drained)",
                            topic, found, partitions, found)
    finally:
        await admin.close()


async def partition_counts(admin: AIOKafkaAdminClient, topics: list[str]) -> dict[str, int]:
    """Each topic's partition count as the broker has it."""
    if not topics:
        return {}
    described = await admin.describe_topics(topics)
    return {d["topic"]: len(d["partitions"]) for d in described if not d.get("error_code")}


class TopicsNotProvisioned(RuntimeError):
    """Topics a service needs that do not exist and that it may not create (an authenticated bus provisions them
    in a deploy step): it cannot start its consumers until they exist."""

    def __init__(self, refused: dict[str, str]) -> None:
        super().__init__("topics missing and not creatable by this principal: " + ", ".join(
            f"{topic} ({why})" for topic, why in sorted(refused.items())) + "; provision them (deploy/local/kafka.sh "
            "provision, or the bus administrator)")
        self.topics = refused


def _refused(response: object) -> dict[str, str]:
    # (topic, error code[, message]) per topic; 0 created, 36 already exists (another replica was first)
    refused = {}
    for topic, code, *message in getattr(response, "topic_errors", ()):
        if code not in (0, 36):
            refused[topic] = f"{errors.for_code(code).__name__}{': ' + message[0] if message and message[0] else ''}"
    return refused


async def start_when_kafka_answers(broker: KafkaBroker, kafka: KafkaAccess | str, topics: list[str], *,
                                   partitions: int = PARTITIONS, replication_factor: int = 1) -> None:
    """Create the topics and start the broker's consumers, retrying with backoff until Kafka answers: the HTTP
    side of a service keeps working (into its outbox) while Kafka is away."""
    backoff = Backoff(first=0.5, cap=15.0)
    while True:
        try:
            await ensure_topics(kafka, topics, partitions=partitions,
                                replication_factor=replication_factor)
            await broker.start()
            return
        except Exception as exc:  # noqa: BLE001
            with suppress(Exception):
                await broker.stop()
            what = "cannot start" if isinstance(exc, TopicsNotProvisioned) else "Kafka not reachable"
            log.warning("%s (%s); retrying in %.1fs", what, exc, await backoff.wait())
