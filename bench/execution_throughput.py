"""Benchmark (not a test): how contracts and payments keep up with a large program.

    bash deploy/local/up.sh && .venv/bin/python -m bench.execution_throughput [--agreements 300]

Publishes N `ScreeningPassed` + `ApplicationSelected` pairs straight onto the bus (as screening and evaluation
would) and times the drafts; then, over HTTP, every agreement is signed by its three parties, the consulting of
each is logged (13 sessions), reports submitted and accepted, subsidy requests filed; finally payments is
restarted with its calendar 31 days on and the sweep that raises every request overdue is timed. Prints rates and
request latencies. Own ports (28004, 28005), the local broker and databases; each run is a program of its own."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from datetime import datetime, timedelta, timezone


from bench.bus import clean_slate, leave_no_backlog, p50_p99, publish_all, wait_until
from deploy.local.groups import consumer_groups
from deploy.local.execution_stage import ExecutionServices
from deploy.local.procs import ROOT
from deploy.sample.evaluation_scenario import screening_passed
from deploy.sample.execution_scenario import ContractsDesk, PaymentsDesk, session_plan, subsidy_request
from deploy.sample.program_call import demo_program
from sme_schemas.evaluation import ApplicationSelected
from sme_schemas.periods import local_date

KAFKA = f"127.0.0.1:{os.environ.get('SME_KAFKA_PORT', '9092')}"
PG_PORT = os.environ.get("SME_PG_PORT", "5432")
LOG_DIR = ROOT / ".local" / "bench"
PORTS = {"contracts": 28004, "payments": 28005}
OFFSET = 20


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def report(label: str, latencies: list[float], seconds: float) -> None:
    p50, p99 = p50_p99(latencies)
    print(f"{label}: {len(latencies)} requests in {seconds:.1f}s ({len(latencies) / seconds:.0f}/s), "
          f"p50 {p50:.0f} ms, p99 {p99:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agreements", type=int, default=300)
    args = parser.parse_args()
    now, n = datetime.now(timezone.utc), args.agreements
    program = demo_program(now, program_id=f"gimpo-sos-bench-exec-{now:%Y%m%d-%H%M%S}")
    programs = LOG_DIR / "programs"
    programs.mkdir(parents=True, exist_ok=True)
    (programs / f"{program['program_id']}.json").write_text(json.dumps(program, ensure_ascii=False))
    services = ExecutionServices(kafka=KAFKA, pg_port=PG_PORT, programs=f"{ROOT / 'deploy/programs'}:{programs}",
                                 ports=PORTS, log_dir=LOG_DIR)
    clean_slate(("contracts", "payments"), {**consumer_groups("contracts"), **consumer_groups("payments")})
    services.start(OFFSET)
    try:
        pid, rng = program["program_id"], random.Random(5)
        passed = [screening_passed(pid, i, rng, rng.choice([2_000_000, 4_000_000, 5_000_000]), now) for i in range(n)]
        selected = [
            ApplicationSelected(
                program_id=pid,
                application_id=p.application_id,
                occurred_at=now,
                round_id="RND-BENCH",
                selected_at=now,
                rank=i + 1,
                planned_subsidy=min(5_000_000, p.facts.consulting_cost_excluding_vat * 11 // 10),
                via="round-close",
            )
            for i, p in enumerate(passed)
        ]
        started = time.time()
        asyncio.run(publish_all([*passed, *selected], KAFKA, "/bench/evaluation"))
        took = wait_until("contracts", "SELECT count(*) FROM agreements WHERE program_id = $1", (pid,), n, started)
        print(f"{2 * n} events consumed, {n} agreements drafted in {took:.1f}s: {n / took:.0f} agreements/s")

        desk, pay = ContractsDesk(f"http://127.0.0.1:{PORTS['contracts']}"), PaymentsDesk(
            f"http://127.0.0.1:{PORTS['payments']}")
        agreements = desk.agreements(pid)
        latencies, t0 = [], time.time()
        for a in agreements:
            brn = a["business_registration_number"]
            for headers in (desk.company(brn), desk.expert(brn), desk.operator()):
                latencies.append(timed(lambda: desk.call("POST", f"/agreements/{a['agreement_id']}/signatures",
                                                         headers=headers)))
        report("signatures (C1)", latencies, time.time() - t0)

        today = local_date(now) + timedelta(days=OFFSET)
        latencies, t0 = [], time.time()
        for a in agreements:
            brn = a["business_registration_number"]
            for entry in session_plan(local_date(now), today, 10, 3):
                latencies.append(timed(lambda: desk.call("POST", f"/agreements/{a['agreement_id']}/sessions",
                                                         headers=desk.expert(brn), json=entry)))
        report("session logs (C3)", latencies, time.time() - t0)

        latencies, t0 = [], time.time()
        for a in agreements:
            latencies.append(timed(lambda: desk.submit_report(a)))
            latencies.append(timed(lambda: desk.call("POST", f"/agreements/{a['agreement_id']}/report/accept",
                                                     headers=desk.operator())))
        report("reports submitted and accepted (C8)", latencies, time.time() - t0)

        took = wait_until("payments", "SELECT count(*) FROM accepted_reports WHERE program_id = $1", (pid,), n, t0)
        latencies, t0 = [], time.time()
        for i, a in enumerate(agreements):
            form = subsidy_request(a["application_id"], a["company_name"], a["agreed_amount"],
                                   account=f"301-{i:04d}-5678-{i % 90 + 10}")
            latencies.append(timed(lambda: pay.file(form, a["business_registration_number"])))
        report("subsidy requests (P1–P3, account encrypted)", latencies, time.time() - t0)

        t0 = time.time()
        services.restart(OFFSET + 31, only=("payments",))
        took = wait_until("payments", "SELECT count(*) FROM payments WHERE program_id = $1 AND overdue_at IS NOT NULL",
                          (pid,), n, t0)
        print(f"payments restarted 31 days on: {n} PaymentOverdue raised {took:.1f}s after the restart began "
              "(process start included)")
    finally:
        services.stop()


if __name__ == "__main__":
    try:
        main()
    finally:
        leave_no_backlog()
