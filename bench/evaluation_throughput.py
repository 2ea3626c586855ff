"""Benchmark (not a test): how evaluation keeps up with a large round.

    bash deploy/local/up.sh && .venv/bin/python -m bench.evaluation_throughput [--applications 300]

Publishes N `ScreeningPassed` events straight onto the bus (as screening would), then, over HTTP, a committee of
five declares on and scores every application, the operator closes the round, and every X11 re-check is answered
`clear` on the bus (as screening would). Prints ScreeningPassed consumed/s, score sheets/s with the PUT latency,
the time to close the round, and the time from the answers to the last notification. Uses its own port (28003) and
the local broker and database; each run is a program call of its own."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from datetime import datetime, timezone

import asyncpg

from bench.bus import clean_slate, leave_no_backlog, p50_p99, publish_all, wait_until
from deploy.local.groups import consumer_groups
from deploy.local.procs import ROOT, ServiceProcess, evaluation_env
from deploy.sample.evaluation_scenario import COMMITTEE, EvaluationDesk, evaluator_pool, score_sheet, screening_passed
from deploy.sample.program_call import demo_program
from sme_schemas.screening import RecheckCompleted

KAFKA = f"127.0.0.1:{os.environ.get('SME_KAFKA_PORT', '9092')}"
PG_PORT = os.environ.get("SME_PG_PORT", "5432")
LOG_DIR = ROOT / ".local" / "bench"
PORT = 28003


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=300)
    args = parser.parse_args()
    now, n = datetime.now(timezone.utc), args.applications
    program = demo_program(now, program_id=f"gimpo-sos-bench-{now:%Y%m%d-%H%M%S}")
    program["budget"] = n * 1_000_000  # about a fifth of the round is selected
    programs = LOG_DIR / "programs"
    programs.mkdir(parents=True, exist_ok=True)
    (programs / f"{program['program_id']}.json").write_text(json.dumps(program, ensure_ascii=False))
    env = evaluation_env(kafka=KAFKA, pg_port=PG_PORT, http_port=PORT,
                         programs_path=f"{ROOT / 'deploy/programs'}:{programs}")
    clean_slate(("evaluation",), consumer_groups("evaluation"))
    service = ServiceProcess("evaluation", "serve", env, port=PORT, log=LOG_DIR / "evaluation.log")
    service.start()
    try:
        pid, rng = program["program_id"], random.Random(5)
        events = [screening_passed(pid, i, rng, rng.choice([2_000_000, 4_000_000, 5_000_000]), now) for i in range(n)]
        started = time.time()
        asyncio.run(publish_all(events, KAFKA, "/bench/screening"))
        took = wait_until("evaluation", "SELECT count(*) FROM candidates WHERE program_id = $1", (pid,), n,
                          started)
        print(f"{n} ScreeningPassed consumed and document-scored in {took:.1f}s: {n / took:.0f} events/s")

        desk = EvaluationDesk(f"http://127.0.0.1:{PORT}")
        desk.register_pool(evaluator_pool([], now.date()), agency="gimpo")
        round_id = desk.open_round(pid)["round_id"]
        desk.seat(round_id, COMMITTEE)
        sheets = desk.call("GET", f"/rounds/{round_id}/applications/{events[0].application_id}",
                           headers=desk.evaluator("EV-01"))["committee_sheet"]["items"]
        latencies, scoring_started = [], time.time()
        for evaluator_id, role in COMMITTEE:
            if role == "secretary":
                continue
            me = desk.evaluator(evaluator_id)
            for event in events:
                path = f"/rounds/{round_id}/applications/{event.application_id}"
                desk.call("PUT", f"{path}/declaration", headers=me, json={"conflicted": False})
                t0 = time.perf_counter()
                desk.call("PUT", f"{path}/score", headers=me,
                          json={"levels": score_sheet(event.application_id, evaluator_id, sheets)})
                latencies.append(time.perf_counter() - t0)
        scoring = time.time() - scoring_started
        p50, p99 = p50_p99(latencies)
        print(f"{len(latencies)} score sheets (each after its declaration) in {scoring:.1f}s: "
              f"{len(latencies) / scoring:.1f} sheets/s; PUT score p50 {1000 * p50:.0f} ms, p99 {1000 * p99:.0f} ms")

        t0 = time.perf_counter()
        closed = desk.close(round_id)
        selected = [a for a in closed["applications"] if a["outcome"] == "selected"]
        print(f"round of {n} closed (rank, select, {len(selected)} re-checks asked, allowances) in "
              f"{1000 * (time.perf_counter() - t0):.0f} ms")
        asks = "SELECT count(*) FROM rechecks r JOIN candidates c USING (application_id) WHERE c.program_id = $1"
        wait_until("evaluation", asks, (pid,), len(selected), time.time())
        answered_at = time.time()
        rechecks = asyncio.run(_rechecks(pid))
        asyncio.run(publish_all([RecheckCompleted(program_id=pid, application_id=a, occurred_at=now, request_id=r,
                                                  completed_at=datetime.now(timezone.utc), outcome="clear")
                                 for a, r in rechecks], KAFKA, "/bench/screening"))
        took = wait_until(
            "evaluation",
            "SELECT count(*) FROM candidates WHERE program_id = $1 AND status = 'selected'",
            (pid,),
            len(selected),
            answered_at,
        )
        print(f"{len(selected)} re-checks answered: all notified (ApplicationSelected) {took:.1f}s later")
    finally:
        service.stop()


async def _rechecks(program_id: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(f"postgresql://evaluation:evaluation@127.0.0.1:{PG_PORT}/evaluation")
    try:
        rows = await conn.fetch("SELECT r.application_id, r.request_id FROM rechecks r JOIN candidates c "
                                "USING (application_id) WHERE c.program_id = $1", program_id)
        return [(r["application_id"], r["request_id"]) for r in rows]
    finally:
        await conn.close()


if __name__ == "__main__":
    try:
        main()
    finally:
        leave_no_backlog()
