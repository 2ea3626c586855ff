"""The main job's evaluation stage: document scores, the evaluator pool and the committee with its conflicts (F6),
the score sheets, the round closed (F1–F4), the X11 re-checks and the allowances owed (F7)."""
from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime, timezone

from deploy.local.endpoints import EVALUATION
from deploy.local.screening_stage import work_review_queue
from deploy.local.show import heading
from deploy.local.waiting import SERVICE_WRITES, Stalled, wait_while_moving
from deploy.sample.evaluation_scenario import (
    COMMITTEE, EvaluationDesk, committee_qualities, declared_conflict, evaluator_pool, ranking_table, score_sheet,
)
from sme_programs import ProgramDefinition


def evaluate(program: dict, forms: list[dict], rows: dict[str, dict], names: dict[str, str]) -> dict:
    """Committee formed, evaluators' scores entered, round closed, the selected re-checked (X11) and notified."""
    heading("evaluation: document scores, the committee and its conflicts (F6), scoring")
    pid, desk = program["program_id"], EvaluationDesk(EVALUATION)
    by_brn = {f["company"]["business_registration_number"]: f for f in forms}
    # In the companies' order (their numbers come from --seed; application ids are new every run)
    brn_of = {a: r["business_registration_number"] for a, r in rows.items()}
    passed = sorted((a for a, r in rows.items() if r["status"] == "passed"), key=brn_of.__getitem__)
    facts = [
        {
            "application_id": a,
            "business_registration_number": rows[a]["business_registration_number"],
            "company_name": names[a],
            "expert_name": (by_brn[rows[a]["business_registration_number"]]["expert"] or {}).get("name"),
            "expert_affiliation": (by_brn[rows[a]["business_registration_number"]]["expert"] or {}).get("affiliation"),
        }
        for a in passed
    ]
    candidates = desk.wait_for_candidates(pid, len(passed))
    if len(candidates) != len(passed):
        raise SystemExit(f"evaluation holds {len(candidates)} of the {len(passed)} passed applications")
    scores = sorted(c["quantitative"] for c in candidates)
    print(f"document scores (Q1–Q7) of {len(candidates)} passed applications: min {scores[0]}, median "
          f"{statistics.median(scores)}, max {scores[-1]} (Q7: scale values, capped at 100)")
    pool = evaluator_pool(facts, datetime.now(timezone.utc).date())
    desk.register_pool(pool, agency=program["agency"])
    round_id = desk.open_round(pid)["round_id"]
    seated = desk.seat(round_id, COMMITTEE)
    print(f"round {round_id}: {len(seated['applications'])} applications; committee from a pool of {len(pool)}:")
    for m in seated["committee"]:
        print(f"  {m['role']:<9} {m['evaluator_id']} {m['name']} ({m['kind']}; {', '.join(m['fields']) or '—'})")
    for a in seated["applications"]:
        for c in a["conflicts"]:
            print(f"  F6 detected: {c['evaluator_id']} may not see {a['company_name']}: {c['detail']}")
    declared = declared_conflict(facts)
    qualities = committee_qualities(passed, key=brn_of.__getitem__)
    given = desk.score_all(round_id, COMMITTEE, declared=declared,
                           sheet_of=lambda app, evaluator, items: score_sheet(app, evaluator, items, qualities,
                                                                               stable_id=brn_of.get(app)))
    if declared:
        print(f"  F6 declared: {declared[0]} declares a family relation with {names[declared[1]]}")
    print(f"{given} score sheets entered over HTTP (S1 levels; S2 raw/105 x 100 kept beside the raw total)")
    heading("evaluation: the operator closes the round")
    closed = desk.close(round_id)
    for line in ranking_table(closed):
        print("  " + line)
    outcomes = Counter(a["outcome"] for a in closed["applications"])
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    rate = ProgramDefinition.model_validate(program).evaluator_allowance_per_application
    print("allowances (F7, owed to payments): " + ", ".join(
        f"{a['evaluator_id']} {a['applications_scored']} scored → {a['amount']:,}"
        + (" (cap)" if a["amount"] < a["applications_scored"] * rate else "") for a in closed["allowances"]))

    def rechecked() -> dict:
        # The re-check repeats the lookups (X11): a borderline duplicate comes back to an operator.
        work_review_queue(names, recheck=True)
        return desk.budget(pid)

    try:
        budget = wait_while_moving(rechecked, lambda b: not b["rechecking"], what="the X11 re-checks",
                                   signals=(SERVICE_WRITES,), interval=0.5)
    except Stalled as stalled:
        raise SystemExit(f"selection did not settle: {stalled}") from None
    if budget["committed"] > budget["budget"]:
        raise SystemExit(f"selection did not settle within the budget: {budget}")
    print(f"X11 re-check by screening, then notified: {len(budget['selected'])} selected "
          f"({budget['committed']:,} of {budget['budget']:,} KRW), {len(budget['waitlist'])} on the waitlist, "
          f"{budget['available']:,} KRW free")
    return {**budget, "evaluated": len(closed["applications"])}
