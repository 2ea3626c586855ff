"""Benchmark (not a test): the national deadline day, from submission to the document score, beside the raw
ceilings of the same machine in the same run.

    bash deploy/local/up.sh && .venv/bin/python -m bench.pipeline [--applications 10000] [--scaling]

1. Ceilings: plain aiokafka batched produce/consume of messages the size of an application event (idempotent,
   acks=all, the broker's own durability settings), and pgbench on the same PostgreSQL.
2. The pipeline: N `ApplicationSubmitted` events land on the bus at once (as intake's relay or a municipal
   system would put them there); screening (R replicas) asks the four registries through their lookup workers
   (W replicas each; the stand-ins answer after 50-150 ms unless --latency-ms says otherwise) and decides;
   evaluation scores every passed application's documents (Q1-Q7).
   With --from-http the companies apply over intake's API instead (open loop at --rate forms/s, bench.load; a
   form shed with 503 + Retry-After is sent again after the time it names), so intake, its outbox and its relay
   are inside the figure, and its shed/accepted counts and accepted p99 are printed.
3. Prints decisions/s and document scores/s sustained, p50/p99 time from submission to document score, the
   pipeline's events/s and its ratio to the raw produce rate, and with --scaling the same at 1, 2 and 4
   replicas of screening and of each lookup worker.

Every run starts from a clean slate: the services' databases are emptied and their consumer groups moved to the
end of their topics, so nothing an earlier benchmark left on the shared broker is waded through (or dead-lettered)
inside the measurement.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import statistics

import asyncpg

from bench import chaos, statements
from bench.bus import Progress, clean_slate, dsn, leave_no_backlog, p50_p99, percentile, publish_all
from bench.cpu import CpuMeter, CpuUse, pid_in
from bench.ceilings import broker_ceiling, pgbench_tps
from bench.load import encode_post, open_loop
from bench.statements import Served
from deploy.local.groups import consumer_groups, screening_groups
from deploy.local.procs import REGISTRIES, ROOT, ServiceProcess, end_offsets, evaluation_env, registry_processes, \
    screening_env, screening_processes
from deploy.sample.program_call import demo_program, sample_forms
from deploy.sample.screening_scenario import adjust_forms, registry_dataset
from intake.domain import required_evidence
from intake.form import ApplicationForm, to_content
from screening.lookup.messages import LookupAnswered, LookupRequested, Registry
from sme_runtime.auth import Role, mint_token
from sme_runtime.settings import DEVELOPMENT_SECRET
from sme_programs import ProgramDefinition
from sme_schemas import wrap
from sme_schemas.intake import ApplicationSubmitted
from sme_schemas.screening import (
    ApplicationRejected, ManualReviewRequested, ScreeningPassed, ScreeningStarted, SupplementRequested,
)

KAFKA = f"127.0.0.1:{os.environ.get('SME_KAFKA_PORT', '9092')}"
PG_PORT = os.environ.get("SME_PG_PORT", "5432")
LOG_DIR = ROOT / ".local" / "bench" / "pipeline"
REGISTRY_PORTS = {r: 28101 + i for i, r in enumerate(REGISTRIES)}
WORKER_PORTS = {r: 28012 + i for i, r in enumerate(REGISTRIES)}
SCREENING_PORT, EVALUATION_PORT = 28002, 28003
PIPELINE_TOPICS = [ApplicationSubmitted.topic(), ScreeningStarted.topic(), ScreeningPassed.topic(),
                   ApplicationRejected.topic(), SupplementRequested.topic(), ManualReviewRequested.topic(),
                   LookupAnswered.topic(), *(LookupRequested.topic_for(r) for r in Registry)]
TIMEOUT_SECONDS = 3600
MAX_HTTP_ROUNDS = 50  # --from-http: a form still shed after this many rounds is reported, not sent forever
RETRY_AFTER_SECONDS = 1  # the least a 503 from intake names (sme_runtime.admission)
# The bench's own queries, left out of the services' statement counts
DECIDED = "SELECT count(*) FROM screenings WHERE status <> 'screening'"
PASSED = "SELECT count(*) FROM screenings WHERE status = 'passed'"
SCORED = "SELECT count(*) FROM candidates"
LATENCIES = "SELECT extract(epoch FROM updated_at) AS at FROM candidates"
BENCH_QUERIES = [DECIDED, PASSED, SCORED, LATENCIES]


@dataclass
class FrontDoor:
    """Intake's answers over a deadline-day burst: every form is sent until accepted, a shed one again after the
    Retry-After it was given."""

    rate: float
    accepted_ms: list[float] = field(default_factory=list)
    shed: int = 0
    errors: list[str] = field(default_factory=list)
    rounds: int = 0


@dataclass(frozen=True)
class Run:
    applications: int
    passed: int
    decided_seconds: float
    scored_seconds: float
    latencies: list[float]
    events: int
    served: dict[str, Served] | None = None  # None: the cluster runs without pg_stat_statements
    front_door: FrontDoor | None = None  # --from-http: what intake answered
    cpu: CpuUse | None = None  # CPU seconds per process group, from the burst to the last document score

    @property
    def decisions_per_second(self) -> float:
        return self.applications / self.decided_seconds

    @property
    def scores_per_second(self) -> float:
        return self.passed / self.scored_seconds

    @property
    def events_per_second(self) -> float:
        return self.events / self.scored_seconds


async def topic_ends() -> int:
    return sum([sum((await end_offsets(t, KAFKA)).values()) for t in PIPELINE_TOPICS])


def program_and_forms(n: int, now: datetime) -> tuple[dict, list[dict], dict]:
    """A program call of n companies (the sample call's plants among the first 24) and the registries' records."""
    program = demo_program(now, program_id=f"gimpo-sos-surge-{uuid.uuid4().hex[:6]}")
    program["budget"] = n * 5_000_000
    forms = adjust_forms(sample_forms(program, now.date(), count=n, seed=20261122), now.date())
    return program, forms, registry_dataset(forms, now.date(), now.date())


def program_and_events(n: int, now: datetime) -> tuple[dict, list[ApplicationSubmitted], dict]:
    program, forms, data = program_and_forms(n, now)
    evidence = ProgramDefinition.model_validate(program).evidence
    events = []
    for i, form in enumerate(forms):
        content = to_content(ApplicationForm.model_validate(form), consent_at=now)
        events.append(ApplicationSubmitted(
            program_id=program["program_id"], application_id=f"APP-{uuid.uuid4().hex[:26].upper()}",
            occurred_at=now, submitted_at=now, channel="web", content=content,
            required_evidence=required_evidence(content.company, content.expert, content.bonus, evidence)))
    return program, events, data


def start_pipeline(program: dict, data: dict, *, replicas: int, worker_replicas: int, latency_ms: str,
                   extra_env: dict[str, str], with_intake: bool = False) -> list[ServiceProcess]:
    programs = LOG_DIR / "programs"
    programs.mkdir(parents=True, exist_ok=True)
    for old in programs.glob("*.json"):
        old.unlink()
    (programs / "surge.json").write_text(json.dumps(program, ensure_ascii=False))
    data_file = LOG_DIR / "registry-data.json"
    data_file.write_text(json.dumps(data, ensure_ascii=False))
    env = screening_env(kafka=KAFKA, pg_port=PG_PORT, http_port=SCREENING_PORT, programs_path=str(programs),
                        registry_ports=REGISTRY_PORTS)
    processes = [*registry_processes(data_file, REGISTRY_PORTS, LOG_DIR, latency_ms=latency_ms).values(),
                 *screening_processes({**env, **extra_env}, worker_ports=WORKER_PORTS, log_dir=LOG_DIR,
                                      replicas=replicas, worker_replicas=worker_replicas),
                 ServiceProcess("evaluation", "serve", {**evaluation_env(kafka=KAFKA, pg_port=PG_PORT,
                                                                         http_port=EVALUATION_PORT,
                                                                         programs_path=str(programs)), **extra_env},
                                port=EVALUATION_PORT, log=LOG_DIR / "evaluation.log")]
    if with_intake:
        processes += chaos.intake_processes(KAFKA, PG_PORT, str(programs), LOG_DIR)
    for p in processes:
        p.start(wait=False)
    for p in processes:
        if p.port:
            p.wait_healthy()
    return processes


async def apply_over_http(forms: list[dict], rate: float) -> FrontDoor:
    """The companies apply at `rate` forms/s (open loop); those shed are sent again, at the same rate, once the
    Retry-After they were given has passed. Each form keeps its Idempotency-Key across attempts."""
    token = mint_token(DEVELOPMENT_SECRET, subject="bench", role=Role.OPERATOR, agencies=["gimpo"])
    door = FrontDoor(rate)
    waiting = {form["company"]["business_registration_number"]: form for form in forms}
    while waiting and door.rounds < MAX_HTTP_ROUNDS:
        door.rounds += 1
        brns = list(waiting)
        requests = [encode_post("127.0.0.1", "/applications", waiting[brn],
                                {"Authorization": f"Bearer {token}", "Idempotency-Key": f"pipeline-{brn}"})
                    for brn in brns]
        outcome = await open_loop("127.0.0.1", chaos.INTAKE_PORT, requests, rate)
        door.accepted_ms += outcome.accepted_ms
        door.shed += len(outcome.shed_ms)
        door.errors += outcome.errors
        for body in outcome.accepted:
            waiting.pop(json.loads(body)["content"]["company"]["business_registration_number"], None)
        if waiting:
            await asyncio.sleep(RETRY_AFTER_SECONDS)
    if waiting:
        raise SystemExit(f"intake did not accept {len(waiting)} of {len(forms)} forms in {door.rounds} rounds: "
                         + "; ".join(sorted(set(door.errors))[:3]))
    return door


def run_pipeline(n: int, *, replicas: int, worker_replicas: int, latency_ms: str,
                 extra_env: dict[str, str] | None = None, progress: bool = True,
                 http_rate: float | None = None) -> Run:
    """With `http_rate`, the companies apply over intake's API at that rate; else their events land on the bus at
    once."""
    now = datetime.now(timezone.utc)
    if http_rate is None:
        program, events, data = program_and_events(n, now)
    else:
        program, forms, data = program_and_forms(n, now)
    services = ("screening", "evaluation") if http_rate is None else ("intake", "screening", "evaluation")
    clean_slate(services, {**screening_groups(), **consumer_groups("evaluation")})
    processes = start_pipeline(program, data, replicas=replicas, worker_replicas=worker_replicas,
                               latency_ms=latency_ms, extra_env=extra_env or {}, with_intake=http_rate is not None)
    front_door = None
    try:
        ends_before = asyncio.run(topic_ends())
        counting = asyncio.run(statements.reset())
        meter = CpuMeter(process_groups(processes))
        started = time.time()
        if http_rate is None:
            asyncio.run(publish_all(events, KAFKA, "/bench/intake"))
        else:
            front_door = asyncio.run(apply_over_http(forms, http_rate))
        with Progress() as watch:
            decided_seconds = watch.until("screening", DECIDED, n, started, timeout=TIMEOUT_SECONDS,
                                          progress="decided" if progress else None)
            passed = watch.count("screening", PASSED)
            scored_seconds = watch.until("evaluation", SCORED, passed, started, timeout=TIMEOUT_SECONDS,
                                         progress="document-scored" if progress else None)
        cpu = meter.used()
        served = asyncio.run(statements.served(list(services), besides=BENCH_QUERIES)) if counting else None
        latencies = asyncio.run(scored_latencies(started))
        events_published = asyncio.run(topic_ends()) - ends_before
    finally:
        for p in processes:
            p.stop()
    return Run(n, passed, decided_seconds, scored_seconds, latencies, events_published, served, front_door, cpu)


def process_groups(processes: list[ServiceProcess]) -> dict[str, list[int]]:
    """The run's processes by what they are: each service (its replicas together), each lookup worker, the
    registry stand-ins (external in a deployment), the broker, PostgreSQL (every backend), and this bench."""
    groups: dict[str, list[int]] = {}
    for p in processes:
        if p.proc is None:
            continue
        if p.module == "deploy.registry":
            name = "registry stand-ins"
        elif p.args[0] == "worker":
            name = f"worker {p.args[2]}"
        else:
            name = p.module if p.args[0] == "serve" else f"{p.module} {p.args[0]}"
        groups.setdefault(name, []).append(p.proc.pid)
    groups["kafka"] = [pid for pid in [pid_in(ROOT / ".local" / "kafka" / "kafka.pid")] if pid]
    groups["postgresql"] = [pid for pid in [pid_in(ROOT / ".local" / "postgres" / "data" / "postmaster.pid")] if pid]
    return groups


async def scored_latencies(started: float) -> list[float]:
    """Seconds from the burst's first submission to each document score (queueing behind the burst included)."""
    conn = await asyncpg.connect(dsn("evaluation"))
    try:
        rows = await conn.fetch(LATENCIES)
        return [float(r["at"]) - started for r in rows]
    finally:
        await conn.close()


OUTSIDE = ("registry stand-ins", "bench")  # not the product: the registries are external in a deployment


def headline(run: Run) -> str:
    """CPU milliseconds and statements per application: the cost that holds on any host (issue 30's targets:
    ≤ 8 ms and ≤ 8 statements end to end, without the national search)."""
    lines = []
    if run.cpu is not None:
        per = run.cpu.ms_per(run.applications)
        total = run.cpu.total_ms_per(run.applications, besides=OUTSIDE)
        lines.append(f"  CPU per application: {total:.1f} ms in the product (" + ", ".join(
            f"{name} {ms:.1f}" for name, ms in sorted(per.items(), key=lambda kv: -kv[1]) if name not in OUTSIDE)
            + ")" + "".join(f"; {name} {per[name]:.1f} ms" for name in OUTSIDE if name in per))
    if run.served is not None:
        total_statements = sum(s.statements for s in run.served.values()) / run.applications
        lines.append(f"  statements per application: {total_statements:.1f} (" + ", ".join(
            f"{db} {s.per(run.applications)[0]:.1f}" for db, s in run.served.items())
            + f"); round trips {sum(s.round_trips for s in run.served.values()) / run.applications:.1f}")
    return "\n".join(lines)


def report(label: str, run: Run, produce_ceiling: float) -> None:
    p50, p99 = p50_p99(run.latencies)
    if text := headline(run):
        print(f"{label}:\n{text}")
    print(f"{label}: {run.applications:,} applications decided in {run.decided_seconds:.1f}s = "
          f"{run.decisions_per_second:,.0f} decisions/s; {run.passed:,} document-scored in {run.scored_seconds:.1f}s "
          f"= {run.scores_per_second:,.0f}/s")
    print(f"  submission -> document score: p50 {p50:.1f}s, p99 {p99:.1f}s (a burst: queueing included)")
    print(f"  pipeline events {run.events:,} = {run.events_per_second:,.0f} events/s; "
          f"ratio to raw produce {run.events_per_second / produce_ceiling:.1%}")
    if (door := run.front_door) is not None:
        print(f"  intake at {door.rate:,.0f} forms/s offered: {len(door.accepted_ms):,} accepted (p50 "
              f"{statistics.median(door.accepted_ms):.1f} ms, p99 {percentile(door.accepted_ms, 99):.1f} ms), "
              f"{door.shed:,} shed with 503 + Retry-After and sent again ({door.rounds} rounds), "
              f"{len(door.errors):,} other errors" + "".join(f"; {e}" for e in sorted(set(door.errors))[:3]))
    if run.served is None:
        print("  statements: not counted (restart PostgreSQL with deploy/local/postgres.sh to load pg_stat_statements)")
        return
    screening, evaluation = run.served["screening"], run.served["evaluation"]
    if "intake" in run.served:
        intake = run.served["intake"]
        print(f"  intake: {intake.statements:,} statements, {intake.round_trips:,} round trips = "
              f"{intake.per(run.applications)[0]:.1f} statements and {intake.per(run.applications)[1]:.1f} round "
              f"trips per application")
    print(f"  screening: {screening.statements:,} statements, {screening.round_trips:,} round trips = "
          f"{screening.per(run.applications)[0]:.1f} statements and {screening.per(run.applications)[1]:.1f} round "
          f"trips per application")
    if run.passed:
        print(f"  evaluation: {evaluation.statements:,} statements, {evaluation.round_trips:,} round trips = "
              f"{evaluation.per(run.passed)[0]:.1f} statements and {evaluation.per(run.passed)[1]:.1f} round trips "
              f"per document-scored application")


def run_surge(program: dict, forms: list[dict], data: dict, *, with_chaos: bool,
              reference: dict[str, str | None] | None = None) -> tuple[dict[str, str], dict[str, str | None], float]:
    """Companies apply over intake's API (2 screening replicas, 2 of each worker); with chaos, processes die and
    come back meanwhile. Returns BRN -> application id, BRN -> screening status, and the seconds it took."""
    clean_slate(("intake", "screening", "evaluation"), {**screening_groups(), **consumer_groups("evaluation")})
    processes = start_pipeline(program, data, replicas=2, worker_replicas=2, latency_ms="50-150", extra_env={},
                               with_intake=True)
    groups = {**screening_groups(), **consumer_groups("evaluation")}
    try:
        starts = asyncio.run(chaos.decision_offsets(KAFKA))
        started = time.time()
        agent = chaos.Chaos([p for p in processes if p.module != "deploy.registry" and p.module != "evaluation"],
                            env=dict(os.environ)).start() if with_chaos else None
        accepted = asyncio.run(chaos.apply_all(forms))
        if agent is not None:
            while agent.kills["postgres"] == 0:  # the broker and the database crash once each, whatever the pace
                time.sleep(1)
            agent.stop()
            for p in processes:
                if p.proc is None or p.proc.poll() is not None:
                    p.start(wait=False)
        chaos.settle(KAFKA, groups, dsn, list(accepted.values()))
        took = time.time() - started
        found = asyncio.run(chaos.statuses(dsn("screening"), list(accepted.values())))
        statuses = {brn: found.get(app) for brn, app in accepted.items()}
        if agent is not None:
            print(f"chaos: {sum(agent.kills.values())} faults while {len(forms):,} companies applied — "
                  + ", ".join(f"{n}× {what}" for what, n in sorted(agent.kills.items())))
            verdict = asyncio.run(chaos.verify(accepted, reference, kafka=KAFKA, dsn=dsn, decision_starts=starts))
            verdict.print()
            if not verdict.passed:
                raise SystemExit("chaos run: a guarantee did not hold (see ✗ above)")
        return accepted, statuses, took
    finally:
        for p in processes:
            p.stop()


def chaos_run(n: int) -> None:
    program, forms, data = program_and_forms(n, datetime.now(timezone.utc))
    _, reference, took = run_surge(program, forms, data, with_chaos=False)
    print(f"fault-free run: {n:,} applications through intake, screening and evaluation in {took:.0f}s "
          f"({n / took:,.0f}/s); decisions {dict(Counter(reference.values()))}")
    _, statuses, took = run_surge(program, forms, data, with_chaos=True, reference=reference)
    print(f"chaos run: settled in {took:.0f}s ({n / took:,.0f}/s); decisions {dict(Counter(statuses.values()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--replicas", type=int, default=1, help="screening replicas")
    parser.add_argument("--worker-replicas", type=int, default=1, help="replicas of each lookup worker")
    parser.add_argument("--latency-ms", default="50-150", help="the registry stand-ins' latency (MIN-MAX)")
    parser.add_argument("--scaling", action="store_true", help="also run 1, 2 and 4 replicas of screening and "
                        "of each worker (at --scaling-applications each)")
    parser.add_argument("--scaling-applications", type=int, default=3_000)
    parser.add_argument("--chaos", action="store_true", help="a fault-free run and a run under faults (SIGKILLs, "
                        "a broker and a database crash) of the same forms through intake's API; checks the guarantees")
    parser.add_argument("--batch-size", type=int, default=None, help="consumer batch size (1: one event per "
                        "transaction, as before batching)")
    parser.add_argument("--from-http", action="store_true", help="the companies apply over intake's API (its "
                        "relay puts the events on the bus) instead of the events landing on the bus at once")
    parser.add_argument("--rate", type=float, default=300, help="with --from-http: forms offered per second")
    parser.add_argument("--national-index", type=Path, default=None, help="the duplicate-projects workers search "
                        "this national prior-project index (python -m screening similarity index; the main job "
                        "leaves one of 3,000 in .local/national-index): its CPU is then in the worker's figure")
    args = parser.parse_args()
    if args.chaos:
        chaos_run(args.applications)
        return
    extra = {}
    if args.batch_size:
        extra = {"SCREENING_CONSUMER_BATCH_SIZE": str(args.batch_size),
                 "EVALUATION_CONSUMER_BATCH_SIZE": str(args.batch_size)}
    if args.national_index:
        if not args.national_index.is_dir():
            raise SystemExit(f"--national-index {args.national_index}: no index there")
        extra["SCREENING_SIMILARITY_INDEX"] = str(args.national_index.resolve())

    real = [wrap(e, source="/bench/intake") for e in program_and_events(200, datetime.now(timezone.utc))[1]]
    size = round(statistics.mean(len(e.body) for e in real))
    ceiling = asyncio.run(broker_ceiling(20_000, size, records=[
        (e.key, e.body, [(k, v.encode()) for k, v in e.headers().items()]) for e in real]))
    tps = pgbench_tps(10)
    print(f"machine: {os.cpu_count()} cores; broker {KAFKA}; PostgreSQL 127.0.0.1:{PG_PORT}")
    print(f"raw ceilings: produce {ceiling.produce_per_second:,.0f} msg/s batched (ApplicationSubmitted events of "
          f"{size} bytes and their headers, the relay's producer settings), {ceiling.one_at_a_time_per_second:,.0f} "
          f"msg/s one at a time; consume "
          f"{ceiling.consume_per_second:,.0f} msg/s; pgbench {tps or 0:,.0f} tps")

    run = run_pipeline(args.applications, replicas=args.replicas, worker_replicas=args.worker_replicas,
                       latency_ms=args.latency_ms, extra_env=extra, http_rate=args.rate if args.from_http else None)
    national = f"; national index {args.national_index}" if args.national_index else "; no national search"
    report(f"pipeline ({'from intake over HTTP' if args.from_http else 'from the bus'}; {args.replicas} screening, "
           f"{args.worker_replicas} of each worker, registries {args.latency_ms} ms{national})", run,
           ceiling.produce_per_second)
    if args.scaling:
        print(f"scaling, {args.scaling_applications:,} applications each:")
        print("  screening  workers/registry  decisions/s  scores/s  p50 s  p99 s  events/s  vs raw produce")
        for replicas in (1, 2, 4):
            r = run_pipeline(args.scaling_applications, replicas=replicas, worker_replicas=replicas,
                             latency_ms=args.latency_ms, extra_env=extra, progress=False)
            p50, p99 = p50_p99(r.latencies)
            print(f"  {replicas:>9}  {replicas:>16}  {r.decisions_per_second:>11,.0f}  {r.scores_per_second:>8,.0f}  "
                  f"{p50:>5.1f}  {p99:>5.1f}  {r.events_per_second:>8,.0f}  "
                  f"{r.events_per_second / ceiling.produce_per_second:>14.1%}", flush=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        leave_no_backlog()
