"""Benchmark (not a test): how fast screening decides, with its four lookup workers and the local registries.

    bash deploy/local/up.sh && .venv/bin/python -m bench.screening_throughput [--applications 300]

Publishes N `ApplicationSubmitted` events straight onto the bus (as intake would), then prints decisions/s, the
time until every application was decided, the per-application time from submission to decision (p50/p99), and
each worker's registry calls. Uses its own ports (28xxx) and the local broker and database."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from datetime import datetime, timezone

import asyncpg
import httpx

from bench.bus import clean_slate, leave_no_backlog, publish_all
from deploy.local.groups import screening_groups
from deploy.local.procs import REGISTRIES, ROOT, registry_processes, screening_env, screening_processes
from deploy.sample.program_call import demo_program, sample_forms
from deploy.sample.screening_scenario import adjust_forms, registry_dataset
from intake.domain import required_evidence
from intake.form import ApplicationForm, to_content
from sme_programs import ProgramDefinition
from sme_schemas.intake import ApplicationSubmitted

KAFKA = f"127.0.0.1:{os.environ.get('SME_KAFKA_PORT', '9092')}"
PG_PORT = os.environ.get("SME_PG_PORT", "5432")
LOG_DIR = ROOT / ".local" / "bench"


async def decided(ids: list[str]) -> dict[str, float]:
    conn = await asyncpg.connect(f"postgresql://screening:screening@127.0.0.1:{PG_PORT}/screening")
    try:
        rows = await conn.fetch("SELECT application_id, extract(epoch FROM updated_at) AS at FROM screenings "
                                "WHERE application_id = ANY($1) AND status <> 'screening'", ids)
        return {r["application_id"]: float(r["at"]) for r in rows}
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=300)
    args = parser.parse_args()
    now = datetime.now(timezone.utc)
    program = demo_program(now, program_id="gimpo-sos-bench")
    programs = LOG_DIR / "programs"
    programs.mkdir(parents=True, exist_ok=True)
    (programs / "bench.json").write_text(json.dumps(program, ensure_ascii=False))
    forms = adjust_forms(sample_forms(program, now.date(), count=args.applications, seed=int(now.timestamp())),
                         now.date())
    data = LOG_DIR / "registry-data.json"
    data.write_text(json.dumps(registry_dataset(forms, now.date(), now.date()), ensure_ascii=False))
    registry_ports = {r: 28101 + i for i, r in enumerate(REGISTRIES)}
    env = screening_env(kafka=KAFKA, pg_port=PG_PORT, http_port=28002, programs_path=str(programs),
                        registry_ports=registry_ports)
    clean_slate(("screening",), screening_groups())
    processes = [*registry_processes(data, registry_ports, LOG_DIR).values(),
                 *screening_processes(env, worker_ports={r: 28012 + i for i, r in enumerate(REGISTRIES)},
                                      log_dir=LOG_DIR)]
    for p in processes:
        p.start(wait=False)
    try:
        for p in processes:
            p.wait_healthy()
        events = []
        evidence = ProgramDefinition.model_validate(program).evidence
        for form in forms:
            content = to_content(ApplicationForm.model_validate(form), consent_at=now)
            events.append(ApplicationSubmitted(
                program_id=program["program_id"], application_id=f"APP-{uuid.uuid4().hex[:26].upper()}",
                occurred_at=now, submitted_at=now, channel="web", content=content,
                required_evidence=required_evidence(content.company, content.expert, content.bonus, evidence)))
        ids = [e.application_id for e in events]
        started = time.time()
        asyncio.run(publish_all(events, KAFKA, "/bench/intake"))
        published = time.time() - started
        while len(done := asyncio.run(decided(ids))) < len(ids):
            if time.time() - started > 600:
                raise SystemExit(f"only {len(done)} of {len(ids)} decided in 10 minutes")
            time.sleep(0.5)
        took = max(done.values()) - started
        latencies = sorted(at - started for at in done.values())
        print(f"{len(ids)} applications published in {published:.2f}s; all decided {took:.1f}s after the first "
              f"was sent: {len(ids) / took:.1f} decisions/s (4 lookups each, {4 * len(ids)} registry lookups)")
        print(f"time to decision: p50 {statistics.median(latencies):.1f}s, p99 "
              f"{latencies[int(0.99 * (len(latencies) - 1))]:.1f}s (includes queueing behind the batch)")
        for registry, port in registry_ports.items():
            calls = httpx.get(f"http://127.0.0.1:{port}/health").json()["calls"]
            print(f"  registry {registry:<19} {calls} HTTP calls")
    finally:
        for p in processes:
            p.stop()


if __name__ == "__main__":
    try:
        main()
    finally:
        leave_no_backlog()
