"""Benchmark (not a test): intake throughput over HTTP against the raw produce/consume rate of the same broker.

    bash deploy/local/up.sh && .venv/bin/python -m bench.intake_throughput [--applications 600 --concurrency 16]
    .venv/bin/python -m bench.intake_throughput --rate 300 --seconds 20 [--workers 2]

Closed loop (default): `--concurrency` clients each send the next form when the last is answered. Open loop
(`--rate R`): forms arrive at a fixed R per second whatever the service does, as companies do on a deadline day;
latency counts from each form's scheduled arrival, so a service that falls behind shows it (no coordinated
omission). Prints applications/s accepted with p50/p99 latency and errors, the time until all their events were
on the topic, the raw aiokafka produce and consume rates for messages of the same size, and the ratio."""
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

from bench.bus import clean_slate, leave_no_backlog, percentile
from bench.ceilings import broker_ceiling
from bench.load import encode_post, open_loop
from deploy.local.groups import consumer_groups
from deploy.local.procs import ROOT, ServiceProcess, end_offsets, intake_env, read_topic
from deploy.sample.program_call import demo_program, sample_forms
from sme_runtime.auth import Role, mint_token
from sme_runtime.settings import DEVELOPMENT_SECRET
from sme_schemas.intake import ApplicationSubmitted

KAFKA = f"127.0.0.1:{os.environ.get('SME_KAFKA_PORT', '9092')}"
PG_PORT = os.environ.get("SME_PG_PORT", "5432")
PORT = 8002


async def http_phase(forms: list[dict], concurrency: int) -> tuple[float, list[float], set[str]]:
    headers = {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject="bench", role=Role.OPERATOR,
                                                       agencies=["gimpo"])}
    queue: asyncio.Queue = asyncio.Queue()
    for form in forms:
        queue.put_nowait(form)
    latencies, ids = [], set()
    shed = 0

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            form = queue.get_nowait()
            started = time.perf_counter()
            response = await client.post("/applications", json=form, headers=headers)
            while response.status_code == 503 and "Retry-After" in response.headers:
                # More clients than intake admits at once: a shed form is sent again after its Retry-After, and
                # its latency counts from the first attempt, as the company waiting for it sees it.
                nonlocal shed
                shed += 1
                await asyncio.sleep(float(response.headers["Retry-After"]))
                response = await client.post("/applications", json=form, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 201, response.text
            ids.add(response.json()["application_id"])

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=60,
                                 limits=httpx.Limits(max_connections=concurrency)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        if shed:
            print(f"  shed busy {shed} times (each form sent again after its Retry-After)")
        return time.perf_counter() - started, latencies, ids


def print_stalls(arrivals: list[float], latencies_ms: list[float], *, over_ms: float = 100) -> None:
    """The seconds in which some form waited longer than `over_ms`: a tail made of a few stalls (then drained)
    reads differently from a service that is slow throughout."""
    worst: dict[int, float] = {}
    for at, latency in zip(arrivals, latencies_ms):
        worst[int(at)] = max(worst.get(int(at), 0.0), latency)
    slow = sorted(second for second, latency in worst.items() if latency > over_ms)
    print(f"  seconds with a form over {over_ms:g} ms: {len(slow)} of {len(worst)}"
          + (f" (at {', '.join(f'{s}s' for s in slow[:12])})" if slow else ""))


async def open_loop_phase(forms: list[dict], rate: float) -> tuple[float, list[float], set[str], int]:
    """Forms sent at fixed arrival times (i / rate); latency from each form's arrival time (bench.load). Prints
    the accepted beside the shed (503 busy with Retry-After: admission control, issue 28), each with its p99."""
    headers = {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject="bench", role=Role.OPERATOR,
                                                       agencies=["gimpo"])}
    requests = [encode_post("127.0.0.1", "/applications", form, headers) for form in forms]
    outcome = await open_loop("127.0.0.1", PORT, requests, rate)
    print_stalls(outcome.arrivals, outcome.latencies_ms)
    print(f"  accepted {len(outcome.accepted_ms)}" + (f" (p50 {statistics.median(outcome.accepted_ms):.1f} ms, p99 "
          f"{percentile(outcome.accepted_ms, 99):.1f} ms)" if outcome.accepted_ms else "")
          + f"; shed busy {len(outcome.shed_ms)}" + (f" (answered in p50 {statistics.median(outcome.shed_ms):.1f} "
          f"ms, p99 {percentile(outcome.shed_ms, 99):.1f} ms)" if outcome.shed_ms else "")
          + f"; other errors {len(outcome.errors)}")
    for error in sorted(set(outcome.errors))[:5]:
        print(f"  error: {error}")
    return (outcome.seconds, outcome.accepted_ms, {json.loads(body)["application_id"] for body in outcome.accepted},
            len(outcome.errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--raw-messages", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=None, help="open loop: forms arriving per second")
    parser.add_argument("--seconds", type=float, default=20, help="open loop: how long forms keep arriving")
    parser.add_argument("--workers", type=int, default=1, help="intake's HTTP worker processes")
    parser.add_argument("--relay-apart", action="store_true",
                        help="run the outbox relay as its own process (INTAKE_RUN_RELAY=false on the workers)")
    args = parser.parse_args()
    if args.rate:
        args.applications = int(args.rate * args.seconds)

    now = datetime.now(timezone.utc)
    program = demo_program(now, program_id=f"bench-{uuid.uuid4().hex[:8]}")
    program_dir = ROOT / ".local" / "bench-programs"
    program_dir.mkdir(parents=True, exist_ok=True)
    for old in program_dir.glob("*.json"):
        old.unlink()
    (program_dir / f"{program['program_id']}.json").write_text(json.dumps(program, ensure_ascii=False))
    forms = sample_forms(program, now.date(), count=args.applications, seed=int(now.timestamp()))
    env = {**intake_env(kafka=KAFKA, pg_port=PG_PORT, http_port=PORT, programs_path=str(program_dir)),
           "INTAKE_HTTP_WORKERS": str(args.workers)}
    clean_slate(("intake",), consumer_groups("intake"))
    relay = None
    if args.relay_apart:
        env["INTAKE_RUN_RELAY"] = "false"
        relay = ServiceProcess("intake", "relay", env, log=ROOT / ".local" / "bench-intake-relay.log").start(wait=False)
    service = ServiceProcess("intake", "serve", env, port=PORT, log=ROOT / ".local" / "bench-intake.log").start()
    try:
        start = asyncio.run(end_offsets(ApplicationSubmitted.topic(), KAFKA))
        t0 = time.perf_counter()
        errors = 0
        if args.rate:
            seconds, latencies, ids, errors = asyncio.run(open_loop_phase(forms, args.rate))
        else:
            seconds, latencies, ids = asyncio.run(http_phase(forms, args.concurrency))
        asyncio.run(read_topic(ApplicationSubmitted.topic(), KAFKA, start, timeout=300,
                               until=lambda rs: {r.key.decode() for r in rs} >= ids))
        on_bus = time.perf_counter() - t0
    finally:
        service.stop()
        if relay is not None:
            relay.stop()
    event_size = len(json.dumps(forms[0], ensure_ascii=False).encode())
    ceiling = asyncio.run(broker_ceiling(args.raw_messages, event_size))
    produce_rate, consume_rate = ceiling.produce_per_second, ceiling.consume_per_second
    http_rate = len(ids) / seconds

    relay_where = "one relay process apart" if args.relay_apart else "each with its relay (one publishes at a time)"
    print(f"machine: {os.cpu_count()} cores; broker {KAFKA}; intake: uvicorn, {args.workers} worker process(es), "
          f"{relay_where}")
    mode = f"open loop at {args.rate:g}/s for {args.seconds:g}s" if args.rate else f"concurrency {args.concurrency}"
    print(f"intake over HTTP: {len(ids)} applications accepted, {mode}: {http_rate:.1f} applications/s, other "
          f"errors {errors}")
    print(f"  accepted latency ms: p50 {statistics.median(latencies):.1f}  p99 {percentile(latencies, 99):.1f}  "
          f"max {max(latencies):.1f}")
    print(f"  all {len(ids)} ApplicationSubmitted events on the topic {on_bus:.2f}s after the first request")
    print(f"raw aiokafka, {event_size}-byte messages, acks=all idempotent: produce {produce_rate:,.0f} msg/s, "
          f"consume {consume_rate:,.0f} msg/s")
    print(f"ratio intake HTTP / raw produce: {http_rate / produce_rate:.4f} (1 : {produce_rate / http_rate:,.0f})")


if __name__ == "__main__":
    try:
        main()
    finally:
        leave_no_backlog()
