"""Benchmark (not a test): intake throughput over HTTP against the raw produce/consume rate of the same broker.

    bash deploy/local/up.sh && .venv/bin/python -m bench.intake_throughput [--applications 600 --concurrency 16]

Prints applications/s accepted over HTTP with p50/p99 latency, the time until all their events were on the topic,
the raw aiokafka produce and consume rates for messages of the same size, and the ratio."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from datetime import datetime, timezone

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from deploy.local.procs import ROOT, ServiceProcess, end_offsets, intake_env, read_topic
from deploy.sample.program_call import demo_program, sample_forms
from sme_runtime.auth import Role, mint_token
from sme_runtime.settings import DEVELOPMENT_SECRET
from sme_runtime.topics import ensure_topics
from sme_schemas.intake import ApplicationSubmitted

KAFKA = f"127.0.0.1:{os.environ.get('SME_KAFKA_PORT', '9092')}"
PG_PORT = os.environ.get("SME_PG_PORT", "5432")
PORT = 8002


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def http_phase(forms: list[dict], concurrency: int) -> tuple[float, list[float], set[str]]:
    headers = {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject="bench", role=Role.OPERATOR)}
    queue: asyncio.Queue = asyncio.Queue()
    for form in forms:
        queue.put_nowait(form)
    latencies, ids = [], set()

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            form = queue.get_nowait()
            started = time.perf_counter()
            response = await client.post("/applications", json=form, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 201, response.text
            ids.add(response.json()["application_id"])

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=60,
                                 limits=httpx.Limits(max_connections=concurrency)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, ids


async def raw_phase(count: int, size: int) -> tuple[float, float]:
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    body = b"x" * size
    await ensure_topics(KAFKA, [topic])
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, enable_idempotence=True, acks="all", linger_ms=5)
    await producer.start()
    await producer.send_and_wait(topic, body, key=b"warm-up")  # metadata and connections before the clock starts
    count -= 1
    started = time.perf_counter()
    futures = [await producer.send(topic, body, key=str(i % 500).encode()) for i in range(count)]
    await asyncio.gather(*futures)
    produce_seconds = time.perf_counter() - started
    await producer.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    await consumer._client.force_metadata_update()
    tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    consumer.assign(tps)
    for tp in tps:
        consumer.seek(tp, 0)
    seen, started = 0, time.perf_counter()
    while seen < count + 1:
        batch = await consumer.getmany(timeout_ms=500, max_records=5000)
        seen += sum(len(v) for v in batch.values())
    consume_seconds = time.perf_counter() - started
    await consumer.stop()
    return count / produce_seconds, count / consume_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--raw-messages", type=int, default=20_000)
    args = parser.parse_args()

    now = datetime.now(timezone.utc)
    program = demo_program(now, program_id=f"bench-{uuid.uuid4().hex[:8]}")
    program_dir = ROOT / ".local" / "bench-programs"
    program_dir.mkdir(parents=True, exist_ok=True)
    for old in program_dir.glob("*.json"):
        old.unlink()
    (program_dir / f"{program['program_id']}.json").write_text(json.dumps(program, ensure_ascii=False))
    forms = sample_forms(program, now.date(), count=args.applications, seed=int(now.timestamp()))
    env = intake_env(kafka=KAFKA, pg_port=PG_PORT, http_port=PORT, programs_path=str(program_dir))
    service = ServiceProcess("intake", "serve", env, port=PORT, log=ROOT / ".local" / "bench-intake.log").start()
    try:
        start = asyncio.run(end_offsets(ApplicationSubmitted.topic(), KAFKA))
        t0 = time.perf_counter()
        seconds, latencies, ids = asyncio.run(http_phase(forms, args.concurrency))
        asyncio.run(read_topic(ApplicationSubmitted.topic(), KAFKA, start, timeout=300,
                               until=lambda rs: {r.key.decode() for r in rs} >= ids))
        on_bus = time.perf_counter() - t0
    finally:
        service.stop()
    event_size = len(json.dumps(forms[0], ensure_ascii=False).encode())
    produce_rate, consume_rate = asyncio.run(raw_phase(args.raw_messages, event_size))
    http_rate = len(ids) / seconds

    print(f"machine: {os.cpu_count()} cores; broker {KAFKA}; intake 1 process (uvicorn, 1 worker) + in-process relay")
    print(f"intake over HTTP: {len(ids)} applications, concurrency {args.concurrency}: {http_rate:.1f} applications/s")
    print(f"  latency ms: p50 {statistics.median(latencies):.1f}  p99 {percentile(latencies, 99):.1f}  "
          f"max {max(latencies):.1f}")
    print(f"  all {len(ids)} ApplicationSubmitted events on the topic {on_bus:.2f}s after the first request")
    print(f"raw aiokafka, {event_size}-byte messages, acks=all idempotent: produce {produce_rate:,.0f} msg/s, "
          f"consume {consume_rate:,.0f} msg/s")
    print(f"ratio intake HTTP / raw produce: {http_rate / produce_rate:.4f} (1 : {produce_rate / http_rate:,.0f})")


if __name__ == "__main__":
    main()
