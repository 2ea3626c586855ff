"""What the benchmarks share: putting a batch of events on the bus as another service would, and waiting for a
service's database to show the result."""
from __future__ import annotations

import asyncio
import math
import os
import statistics
import time
from typing import Sequence

import asyncpg

from aiokafka import AIOKafkaProducer

from sme_runtime.topics import ensure_topics
from sme_schemas import IntegrationEvent, wrap
from sme_runtime.kafka_access import kafka_access


async def publish_all(events: Sequence[IntegrationEvent], bootstrap: str, source: str) -> None:
    """Every event onto its topic in one producer session (CloudEvents binary mode, acks=all)."""
    await ensure_topics(bootstrap, sorted({e.topic() for e in events}))
    producer = AIOKafkaProducer(**kafka_access(bootstrap).client(), enable_idempotence=True, acks="all", linger_ms=5)
    await producer.start()
    try:
        sends = []
        for event in events:
            envelope = wrap(event, source=source)
            sends.append(await producer.send(event.topic(), envelope.body, key=envelope.key,
                                             headers=[(k, v.encode()) for k, v in envelope.headers().items()]))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


def clean_slate(services: tuple[str, ...], groups: dict[str, list[str]]) -> None:
    """Empty the services' databases and move their consumer groups to the end of their topics, so a benchmark
    never measures what an earlier run left on the shared broker (waded through, or dead-lettered)."""
    from deploy.local.groups import start_groups_at_end

    async def empty() -> None:
        for service in services:
            conn = await asyncpg.connect(dsn(service))
            try:
                await conn.execute(f"DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION {service}")
            finally:
                await conn.close()
        await start_groups_at_end(groups, f"127.0.0.1:{os.environ.get('SME_KAFKA_PORT', '9092')}")

    asyncio.run(empty())


def leave_no_backlog() -> None:
    """After a benchmark: every consumer group of every service moves to the end of its topics, so the thousands
    of events a benchmark put on the shared broker are not waded through later by a service that was not part of
    it (the main job's contracts would otherwise first dead-letter a surge's ScreeningPassed)."""
    from deploy.local.groups import consumer_groups, screening_groups, start_groups_at_end

    groups = {**screening_groups(), **{g: t for s in ("evaluation", "contracts", "payments", "portal")
                                       for g, t in consumer_groups(s).items()}}
    asyncio.run(start_groups_at_end(groups, f"127.0.0.1:{os.environ.get('SME_KAFKA_PORT', '9092')}"))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def dsn(service: str) -> str:
    """The local database of a service (database = role = password = its name)."""
    return f"postgresql://{service}:{service}@127.0.0.1:{os.environ.get('SME_PG_PORT', '5432')}/{service}"


async def count(service: str, sql: str, *args) -> int:
    conn = await asyncpg.connect(dsn(service))
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


POLL_SECONDS = 0.5  # the bench's own reads, on one connection per database (issue 30)


class Progress:
    """Watches a run from outside on one connection per database, polling twice a second: a new connection every
    0.2 s was a third of screening's database time in the pipeline bench, the run measuring its own watching."""

    def __init__(self) -> None:
        self._runner = asyncio.Runner()
        self._connections: dict[str, asyncpg.Connection] = {}

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        for conn in self._connections.values():
            self._runner.run(conn.close())
        self._runner.close()

    def count(self, service: str, sql: str, *args) -> int:
        async def fetch() -> int:
            if service not in self._connections:
                self._connections[service] = await asyncpg.connect(dsn(service))
            return await self._connections[service].fetchval(sql, *args)

        return self._runner.run(fetch())

    def until(self, service: str, sql: str, target: int, started: float, *args, timeout: float = 600,
              progress: str | None = None) -> float:
        """Seconds from `started` (time.time()) until `sql` counts `target` in the service's database; with
        `progress`, a line every 10 s says how far it got ("… 4,000 of 10,000 decided after 70s")."""
        last_print = 0.0
        while (done := self.count(service, sql, *args)) < target:
            elapsed = time.time() - started
            if elapsed > timeout:
                raise SystemExit(f"only {done} of {target} after {elapsed:.0f}s: {sql}")
            if progress and elapsed - last_print >= 10:
                print(f"  … {done:,} of {target:,} {progress} after {elapsed:.0f}s", flush=True)
                last_print = elapsed
            time.sleep(POLL_SECONDS)
        return time.time() - started


def wait_until(service: str, sql: str, args: tuple, target: int, started: float, *, timeout: float = 600,
               progress: str | None = None) -> float:
    """Progress.until on a watch of its own."""
    with Progress() as watch:
        return watch.until(service, sql, target, started, *args, timeout=timeout, progress=progress)


def p50_p99(latencies: list[float]) -> tuple[float, float]:
    """Median and 99th percentile (nearest rank) of the latencies, in their own unit."""
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]
