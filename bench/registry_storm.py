"""Benchmark (not a test): lookup-worker replicas through a registry timeout storm, and how long each takes to
answer at full rate again (issue 30's target: every replica within 30 s).

    bash deploy/local/up.sh && .venv/bin/python -m bench.registry_storm [--replicas 4] [--applications 3000]

Applications land on the bus at a steady rate (--rate, default 50/s) while screening, one replica of every other
worker and --replicas replicas of the --registry worker (default duplicate-projects, where a 4-replica run found one
replica stuck with every connection in CLOSE-WAIT) run on this machine. --storm-at seconds in, that registry's
stand-in slows past the worker's timeout (--storm-latency-ms, default 5000-8000 against the 3 s timeout) for
--storm-seconds; then it answers in 50-150 ms again. Each replica's answers are read from its /health once a second.
Printed per replica: answers/s before the storm, seconds from the storm's end to its first answer and to its first
second at half its rate before (a replica whose share of the backlog drains sooner counts as back when its share
is drained), the HTTP pools it replaced, and its circuit's openings.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx

from bench.bus import clean_slate, leave_no_backlog, publish_all
from bench.pipeline import KAFKA, REGISTRY_PORTS, WORKER_PORTS, program_and_events, start_pipeline
from deploy.local.groups import consumer_groups, screening_groups
from deploy.local.procs import REPLICA_PORT_STEP

SAMPLE_SECONDS = 1.0


@dataclass
class Replica:
    port: int
    answered: list[tuple[float, int]] = field(default_factory=list)  # (seconds into the run, answered so far)
    health: dict = field(default_factory=dict)

    def rate(self, start: float, end: float) -> float:
        inside = [(t, n) for t, n in self.answered if start <= t <= end]
        if len(inside) < 2:
            return 0.0
        return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])

    def first_answer_after(self, t0: float) -> float | None:
        before = next((n for t, n in reversed(self.answered) if t <= t0), 0)
        return next((t - t0 for t, n in self.answered if t > t0 and n > before), None)

    def back_to(self, rate: float, t0: float, drained_at: float | None) -> float | None:
        """Seconds after t0 to the first second answering at least `rate`, or to its share being drained."""
        for (t1, n1), (t2, n2) in zip(self.answered, self.answered[1:]):
            if t1 >= t0 and (n2 - n1) / (t2 - t1) >= rate:
                return t2 - t0
        return None if drained_at is None else max(0.0, drained_at - t0)


async def sample(replicas: list[Replica], started: float, until: asyncio.Event) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        while not until.is_set():
            for r in replicas:
                try:
                    r.health = (await client.get(f"http://127.0.0.1:{r.port}/health")).json()
                    r.answered.append((time.monotonic() - started, int(r.health["answered"])))
                except (httpx.HTTPError, ValueError, KeyError):
                    pass
            await asyncio.sleep(SAMPLE_SECONDS)


async def feed(events: list, rate: float) -> None:
    """The applications onto the bus in one-second slices of `rate`."""
    step = max(1, int(rate))
    for i in range(0, len(events), step):
        tick = time.monotonic()
        await publish_all(events[i:i + step], KAFKA, "/bench/storm")
        await asyncio.sleep(max(0.0, 1 - (time.monotonic() - tick)))


async def storm(registry: str, *, at: float, seconds: float, latency: str, started: float) -> float:
    """Slow the registry's stand-in at `at` seconds into the run for `seconds`; returns when it recovered."""
    port = REGISTRY_PORTS[registry]
    async with httpx.AsyncClient(timeout=10) as client:
        await asyncio.sleep(max(0.0, at - (time.monotonic() - started)))
        await client.put(f"http://127.0.0.1:{port}/_local/latency", json={"latency_ms": latency})
        await asyncio.sleep(seconds)
        await client.put(f"http://127.0.0.1:{port}/_local/latency", json={"latency_ms": "50-150"})
    return time.monotonic() - started


def run(args: argparse.Namespace) -> None:
    program, events, data = program_and_events(args.applications, datetime.now(timezone.utc))
    clean_slate(("screening", "evaluation"), {**screening_groups(), **consumer_groups("evaluation")})
    processes = start_pipeline(program, data, replicas=1, worker_replicas=args.replicas, latency_ms="50-150",
                               extra_env={})
    replicas = [Replica(WORKER_PORTS[args.registry] + REPLICA_PORT_STEP * k) for k in range(args.replicas)]
    try:
        storm_end = asyncio.run(measure(args, events, replicas))
    finally:
        for p in processes:
            p.stop()
    report(args, replicas, storm_end)


async def measure(args: argparse.Namespace, events: list, replicas: list[Replica]) -> float:
    started, done = time.monotonic(), asyncio.Event()
    watching = asyncio.create_task(sample(replicas, started, done))
    storming = asyncio.create_task(storm(args.registry, at=args.storm_at, seconds=args.storm_seconds,
                                         latency=args.storm_latency_ms, started=started))
    await feed(events, args.rate)
    storm_end = await storming
    last_fed = time.monotonic() - started
    while sum(r.answered[-1][1] if r.answered else 0 for r in replicas) < len(events) \
            and time.monotonic() - started < last_fed + 600:
        await asyncio.sleep(1)
    await asyncio.sleep(2 * SAMPLE_SECONDS)
    done.set()
    await watching
    return storm_end


def report(args: argparse.Namespace, replicas: list[Replica], storm_end: float) -> None:
    storm_start = args.storm_at
    print(f"{args.replicas} replicas of the {args.registry} worker; {args.applications:,} applications at "
          f"{args.rate:.0f}/s; the registry at {args.storm_latency_ms} ms (timeout 3 s) from {storm_start:.0f}s for "
          f"{args.storm_seconds:.0f}s, back at {storm_end:.0f}s")
    print("  replica  before/s  first answer after  back at half rate after  pools replaced  circuit opened")
    recoveries = []
    for k, r in enumerate(replicas):
        before = r.rate(max(0.0, storm_start - 10), storm_start)
        total = r.answered[-1][1] if r.answered else 0
        drained = next((t for t, n in r.answered if n >= total), None)
        back = r.back_to(before / 2, storm_end, drained)
        first = r.first_answer_after(storm_end)
        recoveries.append(back)
        print(f"  {k + 1:>7}  {before:>8.1f}  {_s(first):>18}  {_s(back):>23}  "
              f"{r.health.get('http_pools_replaced', '?'):>14}  {r.health.get('circuit_opened', '?'):>14}")
    known = [b for b in recoveries if b is not None]
    print(f"  every replica back within {max(known):.0f}s" if len(known) == len(recoveries) else
          f"  {len(recoveries) - len(known)} replica(s) never back", f"(median {statistics.median(known):.0f}s)"
          if known else "")


def _s(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.0f}s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", default="duplicate-projects", choices=list(REGISTRY_PORTS))
    parser.add_argument("--replicas", type=int, default=4)
    parser.add_argument("--applications", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--storm-at", type=float, default=15)
    parser.add_argument("--storm-seconds", type=float, default=20)
    parser.add_argument("--storm-latency-ms", default="5000-8000")
    args = parser.parse_args()
    try:
        run(args)
    finally:
        leave_no_backlog()


if __name__ == "__main__":
    main()
