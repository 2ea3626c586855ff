"""K1 on the real broker: evaluation runs a program of two calls, each with its window and its share of the
budget. Applications join the round of the call they were submitted in; each round selects within its own share,
and its waitlist is its own; the budget view shows each call."""
from __future__ import annotations

import asyncio
import json
import random
import uuid
from datetime import datetime, timedelta, timezone

from deploy.local.procs import evaluation_env, publish_event, running
from deploy.sample.evaluation_scenario import COMMITTEE, EvaluationDesk, evaluator_pool, screening_passed
from deploy.sample.program_call import demo_program
from tests.support import KAFKA, ROOT, TEST_ENV, ServiceProcess, consumer_groups, start_groups_at_end

PORT = 18093


def two_calls(program_id: str, now: datetime) -> dict:
    program = demo_program(now, program_id=program_id)
    window = program["window"]
    first_closes = now - timedelta(days=5)
    program["window"] = {"opens_at": (now - timedelta(days=20)).isoformat(), "closes_at": window["closes_at"]}
    program["calls"] = [
        {"call_id": "h1", "title": "1차 모집", "budget": 10_000_000,
         "window": {"opens_at": (now - timedelta(days=20)).isoformat(), "closes_at": first_closes.isoformat()}},
        {"call_id": "h2", "title": "2차 모집", "budget": 5_000_000,
         "window": {"opens_at": (now - timedelta(days=4)).isoformat(), "closes_at": window["closes_at"]}}]
    return program


def applications(program_id: str, now: datetime) -> dict[str, list]:
    """Three of the first call, two of the second, each planning 5,000,000 (the cap)."""
    out: dict[str, list] = {"h1": [], "h2": []}
    for n in range(5):
        call, days_ago = ("h1", 10) if n < 3 else ("h2", 1)
        event = screening_passed(program_id, n, random.Random(n), 5_000_000, now)
        facts = event.facts.model_copy(update={"submitted_at": now - timedelta(days=days_ago, minutes=n)})
        out[call].append(event.model_copy(update={"facts": facts}))
    return out


def run_round(desk: EvaluationDesk, program_id: str, call_id: str, expected: int) -> dict:
    opened = desk.open_round(program_id, call_id)
    assert opened["call_id"] == call_id and len(opened["applications"]) == expected
    desk.seat(opened["round_id"], COMMITTEE)
    # every sheet at the best level: all pass the mark (F2), so only the call's share decides (F4)
    desk.score_all(opened["round_id"], COMMITTEE,
                   sheet_of=lambda app, evaluator, items: {i["code"]: i["levels"][0] for i in items})
    return desk.close(opened["round_id"])


def test_each_call_selects_within_its_own_share(programs_dir, fresh_databases):
    now = datetime.now(timezone.utc)
    program_id = f"gimpo-sos-calls-{uuid.uuid4().hex[:8]}"
    (programs_dir / f"{program_id}.json").write_text(json.dumps(two_calls(program_id, now), ensure_ascii=False),
                                                     "utf-8")
    env = {**evaluation_env(kafka=KAFKA, pg_port=TEST_ENV["SME_PG_PORT"], http_port=PORT,
                            programs_path=f"{ROOT / 'deploy/programs'}:{programs_dir}"),
           "EVALUATION_ENVIRONMENT": "test"}
    asyncio.run(start_groups_at_end(consumer_groups("evaluation")))
    apps = applications(program_id, now)
    desk = EvaluationDesk(f"http://127.0.0.1:{PORT}")
    with running(ServiceProcess("evaluation", "serve", env, port=PORT)):
        for event in apps["h1"] + apps["h2"]:
            asyncio.run(publish_event(event, KAFKA, source="/sme/screening"))
        rows = desk.wait_for_candidates(program_id, 5)
        desk.register_pool(evaluator_pool([{"application_id": e.application_id, **e.facts.model_dump(mode="json")}
                                           for e in apps["h1"] + apps["h2"]], now.date()), agency="gimpo")
        wrong = desk.call("POST", "/rounds", headers=desk.operator(), expect=(404,),
                          json={"program_id": program_id, "call_id": "h3"})
        first = run_round(desk, program_id, "h1", 3)
        after_first = desk.budget(program_id)
        second = run_round(desk, program_id, "h2", 2)
        after_second = desk.budget(program_id)
    assert {r["call_id"] for r in rows if r["application_id"] in {e.application_id for e in apps["h1"]}} == {"h1"}
    assert [(e["field"], e["rule"]) for e in wrong["errors"]] == [("call_id", "K1")]
    # F4 within each call's share: two of the first call's three fit 10,000,000, one of the second's two 5,000,000
    outcomes = lambda closed: sorted(a["outcome"] for a in closed["applications"])  # noqa: E731
    assert outcomes(first) == ["selected", "selected", "waitlisted"]
    assert outcomes(second) == ["selected", "waitlisted"]
    calls = {c["call_id"]: c for c in after_first["calls"]}
    assert (calls["h1"]["committed"], calls["h2"]["committed"]) == (10_000_000, 0)
    calls = {c["call_id"]: c for c in after_second["calls"]}
    assert (calls["h1"]["available"], calls["h2"]["available"]) == (0, 0)
    assert after_second["budget"] == 15_000_000 and after_second["committed"] == 15_000_000
    assert {w["call_id"] for w in after_second["waitlist"]} == {"h1", "h2"}
