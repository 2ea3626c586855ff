"""Consumer groups as the tests and the benchmarks see them from outside: which groups a service has, where they
stand (lag), and moving a stopped group to the end of its topics, so a run starts from a clean slate."""
from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError, IllegalGenerationError, RebalanceInProgressError, UnknownMemberIdError

from deploy.local.procs import end_offsets
from sme_runtime.kafka_access import kafka_access


def consumer_groups(service: str) -> dict[str, list[str]]:
    """A service's consumer groups (one per event it consumes) and their topics."""
    from sme_schemas.catalog import CONSUMES

    return {f"{service}.{e.event_name}": [e.topic()] for e in CONSUMES[service]}


def screening_groups() -> dict[str, list[str]]:
    """Screening's groups with its lookup workers' and the answers', plus intake's (it follows screening)."""
    from screening.lookup.messages import LookupAnswered, LookupRequested, Registry

    groups = consumer_groups("screening")
    groups["screening.lookup-answered"] = [LookupAnswered.topic()]
    groups.update({f"screening.lookup-worker.{r.value}": [LookupRequested.topic_for(r)] for r in Registry})
    groups.update(consumer_groups("intake"))
    return groups


async def commit_offsets(group: str, positions: dict[tuple[str, int], int], bootstrap: str, *,
                         wait_seconds: float = 330) -> None:
    """Set a stopped consumer group's committed offsets: where its service will resume (or replay from). A member
    killed a moment ago still counts until its session (or, mid-rebalance, the 5-minute poll interval) runs out:
    the broker refuses the commit meanwhile, so it is tried again until the group is empty."""
    if not positions:
        return
    offsets = {TopicPartition(t, p): o for (t, p), o in positions.items()}
    deadline = time.monotonic() + wait_seconds
    while True:
        consumer = AIOKafkaConsumer(**kafka_access(bootstrap).client(), group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(list(offsets))
            await consumer.commit(offsets)
            return
        except (CommitFailedError, UnknownMemberIdError, IllegalGenerationError, RebalanceInProgressError):
            if time.monotonic() > deadline:
                raise
        finally:
            await consumer.stop()
        await asyncio.sleep(2)


async def start_groups_at_end(groups: dict[str, list[str]], bootstrap: str) -> None:
    """Commit each consumer group's offsets at the end of its topics: the broker keeps every earlier run's events,
    which a service reading from the earliest offset would otherwise wade through (or dead-letter) first."""
    for group, topics in groups.items():
        positions = {}
        for topic in topics:
            positions.update({(topic, p): o for p, o in (await end_offsets(topic, bootstrap)).items()})
        await commit_offsets(group, positions, bootstrap)


async def lag(groups: dict[str, list[str]], bootstrap: str) -> int:
    """Events published on the groups' topics and not yet committed by them."""
    admin = AIOKafkaAdminClient(**kafka_access(bootstrap).client())
    await admin.start()
    try:
        behind = 0
        for group, topics in groups.items():
            committed = {(tp.topic, tp.partition): m.offset
                         for tp, m in (await admin.list_consumer_group_offsets(group)).items()}
            for topic in topics:
                for p, end in (await end_offsets(topic, bootstrap)).items():
                    behind += max(0, end - max(committed.get((topic, p), 0), 0))
        return behind
    finally:
        await admin.close()
