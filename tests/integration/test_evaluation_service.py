"""Evaluation as a real process on the real broker and database. Screening's and contracts' events are published
as those services would publish them; operators and evaluators act over HTTP (deploy/sample/evaluation_scenario).

A round from ScreeningPassed to the selected being notified: the committee and its conflicts (detected and
declared), refusals (S1 levels, F6 declare-first, S3 close), the ranking on the bus, X11 re-checks with one
exclusion promoting the waitlist, a give-up promoting it again, allowances (F7), and the service SIGKILLed
between the close and the re-check answers. Then a redelivered event, and the smart-factory program's numbers."""
from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import datetime, timezone

import pytest

from deploy.local.procs import evaluation_env, publish_event
from deploy.sample.evaluation_scenario import (
    COMMITTEE, EvaluationDesk, declared_conflict, evaluator_pool, screening_passed,
)
from deploy.sample.program_call import demo_program
from sme_schemas import unwrap
from sme_schemas.contracts import ParticipationGivenUp
from sme_schemas.evaluation import ApplicationSelected, EvaluatorAllowanceDue, RecheckRequested, ScoresFinalized
from sme_schemas.screening import RecheckCompleted
from tests.support import (
    KAFKA, ROOT, TEST_ENV, ServiceProcess, consumer_groups, end_offsets, forget_processed_events, group_positions,
    read_topic, rewind, snapshot, start_groups_at_end, wait_caught_up,
)

TABLES = {"evaluation": ("candidates", "evaluators", "rounds", "seats", "declarations", "scores", "rechecks",
                         "allowances", "audit")}

PORT = 18003
DESK = f"http://127.0.0.1:{PORT}"
OUT = (ScoresFinalized, RecheckRequested, ApplicationSelected, EvaluatorAllowanceDue)
COSTS = [5_000_000, 4_000_000, 6_000_000, 4_545_454, 2_000_000, 4_000_000, 500_000, 5_000_000]
LEVEL = [0, 1, 0, 1, 2, 1, 3, 2]  # per application: index of the level chosen on every item (0 = best)


@pytest.fixture
def evaluation(programs_dir, fresh_databases):
    now = datetime.now(timezone.utc)
    program = demo_program(now, program_id="gimpo-sos-evaluation-test")
    program["budget"] = 15_000_000  # three or four of eight fit: there is a waitlist
    (programs_dir / "gimpo-sos-evaluation-test.json").write_text(json.dumps(program, ensure_ascii=False), "utf-8")
    env = evaluation_env(kafka=KAFKA, pg_port=TEST_ENV["SME_PG_PORT"], http_port=PORT,
                         programs_path=f"{ROOT / 'deploy/programs'}:{programs_dir}")
    env.update({"EVALUATION_ENVIRONMENT": "test",
                "EVALUATION_GAUGE_SECONDS": "0.5"})
    asyncio.run(start_groups_at_end(consumer_groups("evaluation")))
    starts = {e: asyncio.run(end_offsets(e.topic())) for e in OUT}
    starts["inputs"] = group_positions(consumer_groups("evaluation"))
    service = ServiceProcess("evaluation", "serve", env, port=PORT)
    service.start()
    yield service, starts, program
    service.stop()


def publish(event, event_id: str | None = None) -> str:
    source = "/sme/contracts" if isinstance(event, ParticipationGivenUp) else "/sme/screening"
    return asyncio.run(publish_event(event, KAFKA, source=source, event_id=event_id))


def events(cls, starts, count: int, timeout: float = 30) -> list:
    records = asyncio.run(read_topic(cls.topic(), starts[cls], timeout=timeout, until=lambda rs: len(rs) >= count))
    return [unwrap(r.headers, r.value, expected=cls)[1] for r in records]


def answer(rechecks, outcome_of) -> None:
    for r in rechecks:
        outcome = outcome_of(r.application_id)
        publish(RecheckCompleted(program_id=r.program_id, application_id=r.application_id, occurred_at=r.occurred_at,
                                 request_id=r.request_id, completed_at=datetime.now(timezone.utc), outcome=outcome,
                                 findings=() if outcome == "clear" else (
                                     {"rule": "X8", "detail": "선정 전 재확인: 신용정보 연체 등록"},)))


def test_a_round_from_screening_passed_to_notified_selection(evaluation):
    service, starts, program = evaluation
    pid, now, rng = program["program_id"], datetime.now(timezone.utc), random.Random(7)
    apps = [screening_passed(pid, n, rng, cost, now) for n, cost in enumerate(COSTS)]
    for event in apps:
        publish(event)
    desk = EvaluationDesk(DESK)
    rows = desk.wait_for_candidates(pid, len(apps))
    assert len(rows) == len(apps) and all(r["status"] == "awaiting-round" for r in rows)

    facts = [{"application_id": a.application_id, **a.facts.model_dump(mode="json")} for a in apps]
    desk.register_pool(evaluator_pool(facts, now.date()), agency="gimpo")
    round_id = desk.open_round(pid)["round_id"]
    too_small = desk.call("PUT", f"/rounds/{round_id}/committee", headers=desk.operator(), expect=(422,),
                          json={"members": [{"evaluator_id": "EV-01", "role": "chair"},
                                            {"evaluator_id": "EV-02", "role": "member"}]})
    assert {(e["field"], e["rule"]) for e in too_small["errors"]} == {("members", "S3")}
    seated = desk.seat(round_id, COMMITTEE)
    assert seated["short_of_evaluators"] == [] and len(seated["applications"]) == len(apps)
    conflicts = {(c["evaluator_id"], a["application_id"]): c["reason"] for a in seated["applications"]
                 for c in a["conflicts"]}
    assert conflicts == {("EV-03", apps[0].application_id): "former-employer",
                         ("EV-05", apps[1].application_id): "expert"}

    # F6: a detected conflict hides the application from the evaluator.
    ev3 = desk.evaluator("EV-03")
    assert apps[0].application_id not in {a["application_id"] for a in desk.call(
        "GET", f"/rounds/{round_id}/applications", headers=ev3)}
    desk.call("GET", f"/rounds/{round_id}/applications/{apps[0].application_id}", headers=ev3, expect=(404,))
    # S3: nothing scored yet → the close is refused, every application named.
    refused = desk.close(round_id, expect=(409,))
    assert {e["field"] for e in refused["errors"]} == {f"applications.{a.application_id}" for a in apps}
    # …and the round's view gives each one's facts apart (the portal words them): nobody has scored it yet, the
    # detected conflict excludes its evaluator (F6)
    shortfalls = {f["application_id"]: f for f in desk.call("GET", f"/rounds/{round_id}",
                                                            headers=desk.operator())["score_shortfalls"]}
    assert set(shortfalls) == {a.application_id for a in apps}
    first = shortfalls[apps[0].application_id]
    assert first["valid_scores"] == 0 and "EV-03" not in first["not_scored_by"] and first["not_scored_by"]
    assert first["excluded"] == [{"evaluator_id": "EV-03", "reason": "former-employer"}]
    # F6 declare first, then S1 levels only.
    path = f"/rounds/{round_id}/applications/{apps[3].application_id}"
    ev1 = desk.evaluator("EV-01")
    top = {i["code"]: i["levels"][0] for i in desk.call("GET", path, headers=ev1)["committee_sheet"]["items"]}
    first = desk.call("PUT", f"{path}/score", headers=ev1, json={"levels": top}, expect=(409,))
    assert first["errors"][0]["rule"] == "F6"
    desk.call("PUT", f"{path}/declaration", headers=ev1, json={"conflicted": False})
    off = desk.call("PUT", f"{path}/score", headers=ev1, json={"levels": {**top, "program-fit": 14}}, expect=(422,))
    assert [(e["field"], e["rule"]) for e in off["errors"]] == [("levels.program-fit", "S1")]
    assert "15, 12, 9, 6, 3" in off["errors"][0]["message"]

    # Committee levels by position, so the ranking (and who fits the freed budget) is the same every run:
    # application n gets level index LEVEL[n] on every item from every evaluator.
    position = {a.application_id: n for n, a in enumerate(apps)}
    given = desk.score_all(
        round_id,
        COMMITTEE,
        declared=declared_conflict(facts),
        sheet_of=lambda app, ev, items: {i["code"]: i["levels"][LEVEL[position[app]]] for i in items},
    )
    assert given == 5 * len(apps) - 3  # three planted conflicts
    declared = desk.call("PUT", f"/rounds/{round_id}/applications/{apps[2].application_id}/score",
                         headers=desk.evaluator("EV-04"), json={"levels": top}, expect=(409,))
    assert declared["errors"][0]["rule"] == "F6" and "declared a conflict" in declared["errors"][0]["message"]
    closed = desk.close(round_id)
    assert closed["status"] == "closed"

    [finalized] = events(ScoresFinalized, starts, 1)
    ranking = finalized.ranking
    assert [r.rank for r in ranking] == list(range(1, len(apps) + 1))
    assert all(r.valid_evaluators == (4 if r.application_id in {a.application_id for a in apps[:3]} else 5)
               for r in ranking)
    selected = [r for r in ranking if r.outcome == "selected"]
    assert selected and sum(r.planned_subsidy for r in selected) <= program["budget"]
    waitlisted = [r for r in ranking if r.outcome == "waitlisted"]
    rechecks = events(RecheckRequested, starts, len(selected))
    assert sorted(r.application_id for r in rechecks) == sorted(r.application_id for r in selected)
    assert events(ApplicationSelected, starts, 1, timeout=2) == []  # X11 first: nobody is notified yet

    allowances = {a.evaluator_id: (a.applications_scored, a.amount) for a in events(EvaluatorAllowanceDue, starts, 5)}
    assert allowances == {"EV-01": (8, 160_000), "EV-02": (8, 160_000), "EV-03": (7, 140_000),
                          "EV-04": (7, 140_000), "EV-05": (7, 140_000)}  # F7; the secretary gets none

    service.kill()  # SIGKILL between the close and the answers: nothing is lost, nothing is done twice
    service.start()
    excluded = selected[0].application_id
    answer(rechecks, lambda a: "excluded" if a == excluded else "clear")
    # The exclusion frees its planned subsidy: the best-ranked waitlisted application that fits is re-checked.
    free = program["budget"] - sum(r.planned_subsidy for r in selected[1:])
    fits = [r for r in waitlisted if r.planned_subsidy <= free]
    assert fits, "the scenario needs a waitlisted application that fits the freed budget"
    first_asked = {r.request_id for r in rechecks}  # partitions interleave: tell the new one by its id
    promoted_checks = [r for r in events(RecheckRequested, starts, len(selected) + 1)
                       if r.request_id not in first_asked]
    assert [r.application_id for r in promoted_checks] == [fits[0].application_id]
    answer(promoted_checks, lambda a: "clear")
    notified = events(ApplicationSelected, starts, len(selected))
    assert sorted((n.application_id, n.via) for n in notified) == sorted(
        [(r.application_id, "round-close") for r in selected[1:]] + [(fits[0].application_id, "waitlist-promotion")])

    # A selected company gives up (C6): its budget goes down the waitlist again (F5).
    leaving = selected[1]
    publish(ParticipationGivenUp(program_id=pid, application_id=leaving.application_id, occurred_at=now,
                                 agreement_id=None, business_registration_number=next(
                                     a.facts.business_registration_number for a in apps
                                     if a.application_id == leaving.application_id),
                                 approved_at=now, restricted_until=None, freed_amount=leaving.planned_subsidy))
    deadline = time.monotonic() + 30
    after = desk.budget(pid)
    while leaving.application_id in {s["application_id"] for s in after["selected"]} and time.monotonic() < deadline:
        time.sleep(0.3)
        after = desk.budget(pid)
    assert leaving.application_id not in {s["application_id"] for s in after["selected"] + after["rechecking"]}
    still_waiting = [w for w in waitlisted if w.application_id in {x["application_id"] for x in after["waitlist"]}]
    assert all(w.planned_subsidy > after["available"] for w in still_waiting)  # nothing left behind that fits

    # Replay: every input from this test's start again, with the inbox emptied: nothing changes, nothing is
    # published again (the re-check answers, the give-up and the passed applications are all seen twice).
    wait_caught_up(consumer_groups("evaluation"))
    time.sleep(1)  # the relay publishes what the last event caused
    before = asyncio.run(snapshot(TABLES))
    service.stop()
    asyncio.run(forget_processed_events(TABLES))
    rewind(starts["inputs"])
    service.start()
    wait_caught_up(consumer_groups("evaluation"))
    time.sleep(1)
    assert asyncio.run(snapshot(TABLES)) == before
    assert after["committed"] <= program["budget"]
    # Exactly once, across the SIGKILL: one notification per selected application.
    final = events(ApplicationSelected, starts, len(selected) + 5, timeout=3)
    assert len({n.application_id for n in final}) == len(final)


def test_a_redelivered_screening_passed_changes_nothing(evaluation):
    service, starts, program = evaluation
    now = datetime.now(timezone.utc)
    event = screening_passed(program["program_id"], 1, random.Random(3), 4_000_000, now)
    desk = EvaluationDesk(DESK)
    publish(event, event_id="ce-evaluation-redelivery")
    publish(event, event_id="ce-evaluation-redelivery")
    publish(event)  # the same application under a new event id: known already, ignored
    desk.wait_for_candidates(program["program_id"], 1)
    time.sleep(1.5)
    detail = desk.call("GET", f"/applications/{event.application_id}", headers=desk.operator())
    assert [a["action"] for a in detail["audit"]] == ["document-scored"]
    # Q7 is visible in the breakdown; the example facts score 4_000_000 planned + VAT = 4,400,000.
    assert "Q7" in detail["quantitative_breakdown"] and detail["planned_subsidy"] == 4_400_000


def test_the_smart_factory_program_runs_on_its_own_numbers(evaluation):
    service, starts, _ = evaluation
    pid, now, rng = "gimpo-smart-factory-2026", datetime.now(timezone.utc), random.Random(11)
    apps = [screening_passed(pid, n, rng, 60_000_000, now) for n in range(9)]
    for event in apps:
        publish(event)
    desk = EvaluationDesk(DESK)
    desk.wait_for_candidates(pid, len(apps))
    desk.register_pool(evaluator_pool([], now.date()), agency="gimpo")
    round_id = desk.open_round(pid)["round_id"]
    desk.seat(round_id, COMMITTEE)
    desk.score_all(round_id, COMMITTEE)
    closed = desk.close(round_id)
    # 70% of 66,000,000 (60,000,000 + VAT) = 46,200,000 each; 378,420,000 holds 8 of them (369,600,000).
    assert {a["planned_subsidy"] for a in closed["applications"]} == {46_200_000}
    outcomes = [a["outcome"] for a in sorted(closed["applications"], key=lambda a: a["rank"])]
    passed_count = sum(o != "below-pass-mark" for o in outcomes)
    assert outcomes.count("selected") == min(8, passed_count)
    assert outcomes[:min(8, passed_count)] == ["selected"] * min(8, passed_count)
