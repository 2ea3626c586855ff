"""The raw ceilings of this machine, measured beside the product in the same run: what the broker does with
plain aiokafka (batched produce and consume of the product's events, with its relay's producer settings) and
what PostgreSQL does under pgbench. A product figure means something only as a ratio to these.

    .venv/bin/python -m bench.ceilings [--messages 50000 --size 1500]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from deploy.local.procs import ROOT
from sme_runtime.relay import PRODUCER
from sme_runtime.topics import ensure_topics
from sme_runtime.kafka_access import KafkaAccess, kafka_access

KAFKA = f"127.0.0.1:{os.environ.get('SME_KAFKA_PORT', '9092')}"
PG_PORT = os.environ.get("SME_PG_PORT", "5432")


@dataclass(frozen=True)
class BrokerCeiling:
    produce_per_second: float
    consume_per_second: float
    one_at_a_time_per_second: float
    size: int


Record = tuple[bytes, bytes, list[tuple[str, bytes]]]  # key, body, headers: an event as the relay sends it


async def broker_ceiling(messages: int, size: int, *, one_at_a_time: int = 300,
                         kafka: KafkaAccess | str = KAFKA, records: Sequence[Record] = ()) -> BrokerCeiling:
    """Plain aiokafka with the relay's own producer settings (sme_runtime.relay.PRODUCER). With `records` (real
    events: key, body, CloudEvents headers) those are sent round and round; else bodies of `size` bytes with keys
    spread like application ids."""
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    body = os.urandom(size // 2).hex().encode()[:size]
    sample = list(records) or [(f"APP-{i:08d}".encode(), body, []) for i in range(1000)]
    await ensure_topics(kafka, [topic])
    producer = AIOKafkaProducer(**kafka_access(kafka).client(), **PRODUCER)
    await producer.start()
    try:
        await producer.send_and_wait(topic, body, key=b"warm-up")  # metadata and connections before the clock
        started = time.perf_counter()
        sends = [await producer.send(topic, value, key=key, headers=headers)
                 for key, value, headers in (sample[i % len(sample)] for i in range(messages))]
        await asyncio.gather(*sends)
        produce = messages / (time.perf_counter() - started)
        started = time.perf_counter()
        for i in range(one_at_a_time):  # each waits for its acknowledgement: the latency-bound rate
            key, value, headers = sample[i % len(sample)]
            await producer.send_and_wait(topic, value, key=key, headers=headers)
        single = one_at_a_time / (time.perf_counter() - started)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(**kafka_access(kafka).client(), enable_auto_commit=False, auto_offset_reset="earliest",
                                max_partition_fetch_bytes=4 * 1024 * 1024)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, 0)
        seen, started = 0, time.perf_counter()
        while seen < messages:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            seen += sum(len(v) for v in batch.values())
        consume = seen / (time.perf_counter() - started)
    finally:
        await consumer.stop()
    return BrokerCeiling(produce, consume, single, size)


def pgbench_tps(seconds: int = 10, clients: int = 8) -> float | None:
    """TPC-B-like transactions/s of the same PostgreSQL (its own database `pgbench`), or None without pgbench."""
    binary = shutil.which("pgbench") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))), None)
    if binary is None:
        return None
    env = {**os.environ, "SME_SERVICES": "pgbench"}
    subprocess.run(["bash", str(ROOT / "deploy/local/postgres.sh"), "start"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    conn = ["-h", "127.0.0.1", "-p", PG_PORT, "-U", "pgbench"]
    pg_env = {**os.environ, "PGPASSWORD": "pgbench"}
    subprocess.run([str(binary), *conn, "-i", "-q", "-s", "4", "pgbench"], env=pg_env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = subprocess.run([str(binary), *conn, "-c", str(clients), "-j", "2", "-T", str(seconds), "pgbench"],
                         env=pg_env, check=True, capture_output=True, text=True).stdout
    match = re.search(r"tps = ([\d.]+)", out)
    return float(match.group(1)) if match else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--size", type=int, default=1500)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    args = parser.parse_args()
    broker = asyncio.run(broker_ceiling(args.messages, args.size))
    print(f"broker {KAFKA}: {args.size}-byte messages, idempotent acks=all: produce {broker.produce_per_second:,.0f} "
          f"msg/s batched, {broker.one_at_a_time_per_second:,.0f} msg/s one at a time; consume "
          f"{broker.consume_per_second:,.0f} msg/s")
    tps = pgbench_tps(args.pgbench_seconds)
    print(f"postgres 127.0.0.1:{PG_PORT}: pgbench {tps:,.0f} tps" if tps else "pgbench not installed")


if __name__ == "__main__":
    main()
