"""Contracts and payments as real processes on the real broker and database. Screening's and evaluation's events
are published as those services publish them; the parties and operators act over HTTP
(deploy/sample/execution_scenario).

Four selected companies: one signs and works through to a paid subsidy that a fraud termination claws back, one
has no expert until an amendment names one, one gives up, one never signs and is flagged. Refusals on the way
name their field and rule. Payments is restarted with its calendar past an allowance's due date and raises it
overdue once. Finally both services re-consume their input topics from the start, with their inboxes emptied:
their state is identical and they publish nothing new."""
from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import date, datetime, timedelta, timezone

import asyncpg
import pytest

from deploy.local.execution_stage import ExecutionServices
from deploy.local.procs import publish_event
from deploy.sample.evaluation_scenario import screening_passed
from deploy.sample.execution_scenario import ContractsDesk, PaymentsDesk, session_plan, subsidy_request
from deploy.sample.program_call import demo_program
from sme_runtime.auth import Role
from sme_schemas import unwrap
from sme_schemas.catalog import produced_by
from sme_schemas.evaluation import ApplicationSelected, EvaluatorAllowanceDue
from sme_schemas.periods import WorkingCalendar
from sme_schemas.periods import local_date
from tests.support import (
    KAFKA, ROOT, TEST_ENV, consumer_groups, db_url, end_offsets, forget_processed_events,
    group_positions, read_topic, rewind, snapshot, start_groups_at_end, wait_caught_up,
)

PORTS = {"contracts": 18004, "payments": 18005}
OFFSET_DAYS = 20  # the consulting period: thirteen sessions, one a day, have been held by "today"
COSTS = {"A": 4_545_455, "B": 4_000_000, "C": 3_000_000, "D": 2_000_000}  # planned 5,000,000 / 4,400,000 / ...
PRODUCED = produced_by("contracts") + produced_by("payments")
TABLES = {"contracts": ("parties", "selections", "agreements", "signatures", "sessions", "amendments", "reports",
                        "follow_ups", "audit"),
          "payments": ("accepted_reports", "terminations", "payments", "adjustments", "signed_agreements", "ledger",
                       "audit")}


# P3, M1: the demo program has no local closures; due dates skip weekends and Korea's public holidays
WORKING_DAYS = WorkingCalendar()


@pytest.fixture
def stack(programs_dir, fresh_databases):
    now = datetime.now(timezone.utc)
    program = demo_program(now, program_id="gimpo-sos-execution-test")
    (programs_dir / "gimpo-sos-execution-test.json").write_text(json.dumps(program, ensure_ascii=False), "utf-8")
    groups = {**consumer_groups("contracts"), **consumer_groups("payments")}
    asyncio.run(start_groups_at_end(groups))
    starts = {e: asyncio.run(end_offsets(e.topic())) for e in PRODUCED}
    inputs = group_positions(groups)
    s = ExecutionServices(kafka=KAFKA, pg_port=TEST_ENV["SME_PG_PORT"], ports=PORTS,
                          programs=f"{ROOT / 'deploy/programs'}:{programs_dir}", log_dir=ROOT / ".local-test",
                          settings={"ENVIRONMENT": "test", "GAUGE_SECONDS": "0.3",
                                    "SWEEP_SECONDS": "0.3"})
    s.start(OFFSET_DAYS)
    yield s, program, starts, inputs, groups
    s.stop()


def publish(event) -> str:
    source = "/sme/evaluation" if isinstance(event, (ApplicationSelected, EvaluatorAllowanceDue)) else "/sme/screening"
    return asyncio.run(publish_event(event, KAFKA, source=source))


def events(cls, starts, count: int = 0, timeout: float = 20) -> list:
    records = asyncio.run(read_topic(cls.topic(), starts[cls], timeout=timeout,
                                     until=(lambda rs: len(rs) >= count) if count else None))
    return [unwrap(r.headers, r.value, expected=cls)[1] for r in records]


def by_type(starts, count_of: dict) -> dict:
    return {cls.__name__: events(cls, starts, count_of.get(cls.__name__, 0), timeout=20 if count_of.get(
        cls.__name__) else 3) for cls in PRODUCED}


def errors(response) -> list[tuple[str, str]]:
    return [(e["field"], e["rule"]) for e in response.json()["errors"]]


def selected_apps(program_id: str, now: datetime) -> dict:
    rng = random.Random(11)
    apps = {}
    for n, (key, cost) in enumerate(COSTS.items()):
        passed = screening_passed(program_id, n, rng, cost, now)
        if key == "B":  # chose no expert when applying: the agreement's expert is named by amendment (C5)
            passed = passed.model_copy(update={"facts": passed.facts.model_copy(
                update={"expert_name": None, "expert_affiliation": None})})
        selected = ApplicationSelected(program_id=program_id, application_id=passed.application_id,
                                       occurred_at=now, round_id="RND-EXEC-1", selected_at=now, rank=n + 1,
                                       planned_subsidy=_planned(cost), via="round-close")
        apps[key] = (passed, selected)
    return apps


def _planned(cost: int) -> int:
    return min(5_000_000, cost + cost * 10 // 100)


def test_from_selection_to_payment_clawback_and_replay(stack):
    s, program, starts, inputs, groups = stack
    pid, now = program["program_id"], datetime.now(timezone.utc)
    today = local_date(now) + timedelta(days=OFFSET_DAYS)
    apps = selected_apps(pid, now)
    for key, (passed, selected) in apps.items():
        # C's selection comes before its verified parties: the draft waits for both (any order, C2).
        for event in ((selected, passed) if key == "C" else (passed, selected)):
            publish(event)
    desk = ContractsDesk(f"http://127.0.0.1:{PORTS['contracts']}")
    pay = PaymentsDesk(f"http://127.0.0.1:{PORTS['payments']}")
    drafted = {a["application_id"]: a for a in desk.wait_for_agreements(pid, 4)}
    assert len(drafted) == 4
    agreement = {k: drafted[apps[k][0].application_id] for k in apps}
    a, b, c, d = (agreement[k] for k in "ABCD")
    brn = {k: agreement[k]["business_registration_number"] for k in apps}
    assert [agreement[k]["agreed_amount"] for k in "ABCD"] == [5_000_000, 4_400_000, 3_300_000, 2_200_000]
    assert a["term_end"] == program["program_year_end"] and a["term_start"] == local_date(now).isoformat()

    # C9: another company does not even learn the agreement exists; an evaluator has no business here.
    other = desk.http.get(f"/agreements/{a['agreement_id']}", headers=desk.company(brn["B"]))
    assert other.status_code == 404 and errors(other) == [("agreement_id", "C9")]
    assert desk.http.get("/agreements", headers=desk._as(Role.EVALUATOR, "EV-01")).status_code == 403
    assert [x["agreement_id"] for x in desk.call("GET", "/agreements", headers=desk.company(brn["A"]))] == [
        a["agreement_id"]]
    # An application's notices name no agreement: the portal finds it by the application, among the caller's only
    of_a = {"application_id": a["application_id"]}
    assert [x["agreement_id"] for x in desk.call("GET", "/agreements", headers=desk.operator(), params=of_a)] == [
        a["agreement_id"]]
    assert desk.call("GET", "/agreements", headers=desk.company(brn["B"]), params=of_a) == []
    assert desk.http.get("/agreements", headers=desk.operator(), params={"application_id": "A"}).status_code == 422

    # C1: two signatures are not an agreement in force; the third is, once.
    for headers in (desk.company(brn["A"]), desk.expert(brn["A"])):
        view = desk.call("POST", f"/agreements/{a['agreement_id']}/signatures", headers=headers)
    assert view["status"] == "drafted" and view["missing_signatures"] == ["center"]
    assert desk.call("POST", f"/agreements/{a['agreement_id']}/signatures", headers=desk.operator())[
        "status"] == "in-force"
    again = desk.http.post(f"/agreements/{a['agreement_id']}/signatures", headers=desk.company(brn["A"]))
    assert again.status_code == 409 and errors(again) == [("status", "C1")]

    # B has no expert: the expert cannot sign until an amendment names one; the amendment withdraws the
    # company's signature given to the old terms (C5).
    desk.call("POST", f"/agreements/{b['agreement_id']}/signatures", headers=desk.company(brn["B"]))
    nobody = desk.http.post(f"/agreements/{b['agreement_id']}/signatures", headers=desk.expert(brn["B"]))
    assert nobody.status_code == 409 and errors(nobody) == [("expert_name", "C1")]
    # C5 with G1–G3, E4: the expert named later is graded and proven before the amendment takes effect
    naming = {"reason": "참여기업이 전문가를 선정하여 협약서에 기재", "expert_name": "정전문",
              "expert_affiliation": "경기경영컨설팅"}
    unproven = desk.http.post(f"/agreements/{b['agreement_id']}/amendments", headers=desk.operator(), json=naming)
    assert unproven.status_code == 422
    assert sorted(errors(unproven)) == [("expert_evidence", "E4"), ("expert_qualification", "G1")]
    cv = {"document_type": "expert-cv", "file_reference": "docs://contracts/cv.pdf",
          "issued_on": (today - timedelta(days=3)).isoformat()}
    junior = desk.http.post(f"/agreements/{b['agreement_id']}/amendments", headers=desk.operator(), json={
        **naming, "expert_evidence": [cv],
        "expert_qualification": {"highest_degree": "bachelor", "consulting_years": 6, "licences": []}})
    assert junior.status_code == 422 and errors(junior) == [("expert_qualification", "G2")]
    assert not desk.agreement(b["agreement_id"])["expert_name"]  # nothing of the refused changes applied
    amended = desk.call("POST", f"/agreements/{b['agreement_id']}/amendments", headers=desk.operator(), json={
        **naming, "expert_evidence": [cv],
        "expert_qualification": {"highest_degree": "master", "consulting_years": 10, "licences": []}})
    assert amended["expert_name"] == "정전문" and amended["signatures"] == []
    assert amended["amendments"][-1]["changes"]["expert_grade"] == [None, "2"]
    assert desk.sign_all(b)["status"] == "in-force"

    # C5 on an agreement in force: only with the company's and expert's agreement, and within C2.
    bad = desk.http.post(
        f"/agreements/{a['agreement_id']}/amendments",
        headers=desk.operator(),
        json={
            "reason": "기간 연장",
            "term_end": (date.fromisoformat(program["program_year_end"]) + timedelta(days=1)).isoformat(),
        },
    )
    assert bad.status_code == 422 and sorted(errors(bad)) == [("agreed_by", "C5"), ("term_end", "C2")]
    over = desk.http.post(f"/agreements/{a['agreement_id']}/amendments", headers=desk.operator(), json={
        "reason": "증액", "agreed_amount": 5_000_001, "agreed_by": ["company", "expert"]})
    assert over.status_code == 422 and errors(over) == [("agreed_amount", "C2")]

    # C3: the sessions, refused when they break a rule.
    path = f"/agreements/{a['agreement_id']}/sessions"
    plan = session_plan(date.fromisoformat(a["term_start"]), today, 10, 3)
    five = desk.http.post(path, headers=desk.expert(brn["A"]), json={**plan[0], "hours": 5})
    assert five.status_code == 422 and errors(five) == [("hours", "C3")]
    tomorrow = desk.http.post(path, headers=desk.expert(brn["A"]), json={
        **plan[0], "held_on": (today + timedelta(days=1)).isoformat()})
    assert tomorrow.status_code == 422 and errors(tomorrow) == [("held_on", "C3")]
    no_photo = desk.http.post(path, headers=desk.expert(brn["A"]), json={**plan[0], "photo_refs": []})
    assert no_photo.status_code == 422 and errors(no_photo) == [("photo_refs", "C3")]
    early = desk.http.post(f"/agreements/{a['agreement_id']}/report", headers=desk.company(brn["A"]),
                           json={"report_ref": "r.pdf", "log_refs": ["l.pdf"], "fee_evidence_refs": ["f.pdf"]})
    assert early.status_code == 409 and errors(early) == [("sessions", "C3"), ("sessions", "C3")]
    assert desk.log_sessions(a, today) == 13
    fifth_hour = desk.http.post(path, headers=desk.company(brn["A"]), json={**plan[0], "hours": 2})
    assert fifth_hour.status_code == 422 and errors(fifth_hour) == [("hours", "C3")]
    # C3 in days: a fourth hour logged apart on the first day is one more log, not one more day of consulting
    desk.call("POST", path, headers=desk.expert(brn["A"]), json={**plan[0], "hours": 1})
    held = desk.agreement(a["agreement_id"])["sessions_held"]
    assert held == {"on-site": 10, "follow-up": 3, "hours": 37, "logs": 14}

    # C8: returned with reasons, resubmitted, accepted.
    desk.submit_report(a)
    desk.call("POST", f"/agreements/{a['agreement_id']}/report/return", headers=desk.operator(),
              json={"reasons": ["컨설팅 일지 5회차 사진 누락"]})
    desk.submit_report(a)
    accepted = desk.call("POST", f"/agreements/{a['agreement_id']}/report/accept", headers=desk.operator())
    assert accepted["status"] == "completed" and [r["status"] for r in accepted["reports"]] == ["returned", "accepted"]

    # M1: the follow-up owed from the acceptance; answers checked against the program's questions, once.
    follow = desk.call("GET", f"/agreements/{a['agreement_id']}/follow-ups", headers=desk.company(brn["A"]))
    assert [(f["kind"], f["due_on"]) for f in follow["owed"]] == [
        ("survey", WORKING_DAYS.due_date(today, days=30).isoformat()),
        ("outcome-6m", WORKING_DAYS.due_date(today, months=6).isoformat()),
        ("outcome-12m", WORKING_DAYS.due_date(today, months=12).isoformat())]
    survey = f"/agreements/{a['agreement_id']}/follow-ups/survey"
    bad = desk.http.post(survey, headers=desk.company(brn["A"]), json={"answers": {"overall": 6, "expert": 4,
                                                                                  "usefulness": 4, "center": 5}})
    assert bad.status_code == 422 and errors(bad) == [("answers.overall", "M1")]
    answers = {"overall": 5, "expert": 4, "usefulness": 4, "center": 5}
    assert desk.call("POST", survey, headers=desk.company(brn["A"]), json={"answers": answers})["answers"] == answers
    again = desk.http.post(survey, headers=desk.company(brn["A"]), json={"answers": answers})
    assert again.status_code == 409 and errors(again) == [("kind", "M1")]
    other = desk.http.post(survey, headers=desk.company(brn["B"]), json={"answers": answers})
    assert other.status_code == 404  # C9: not B's agreement
    report_m3 = desk.call("GET", f"/programs/{pid}/follow-up", headers=desk.operator())
    assert report_m3["survey"] == {"owed": 1, "answered": 1, "overdue": 0, "mean": {
        "overall": "5.00", "expert": "4.00", "usefulness": "4.00", "center": "5.00"}}

    # C6: C gives up; the restriction runs 365 days from the approval day, inclusive.
    desk.call("POST", f"/agreements/{c['agreement_id']}/give-up", headers=desk.company(brn["C"]),
              json={"reason": "경영 악화로 사업 수행 불가"})
    gave_up = desk.call("POST", f"/agreements/{c['agreement_id']}/give-up/approve", headers=desk.operator(), json={})
    assert gave_up["status"] == "given-up"
    assert gave_up["ended"]["restricted_until"] == (today + timedelta(days=364)).isoformat()
    terminate_give_up = desk.http.post(f"/agreements/{b['agreement_id']}/termination", headers=desk.operator(),
                                       json={"reason": "give-up", "note": "x"})
    assert terminate_give_up.status_code == 422 and errors(terminate_give_up) == [("reason", "C6")]

    # D never signs: flagged to operators past its deadline (14 days; the calendar is 20 days on).
    flagged = desk.call("GET", f"/agreements?program_id={pid}&signature_overdue=true", headers=desk.operator())
    assert [x["agreement_id"] for x in flagged] == [d["agreement_id"]]

    # P1: B's report was not accepted; A files once, with 5,500,000 proven incl. VAT (P2).
    early_request = pay.http.post("/subsidy-requests", headers=pay.company(brn["B"]), json=subsidy_request(
        apps["B"][0].application_id, "B", 4_400_000, account="301-0000-1111-22"))
    assert early_request.status_code == 404 and errors(early_request) == [("application_id", "P1")]
    form = subsidy_request(apps["A"][0].application_id, a["company_name"], 5_500_000, account="301-1234-5678-91")
    # P3 and 서식4: a request received on paper ten days ago, deficient: returned with the reason, it stops
    # counting; the complete one filed today is due 30 days (to a working day) from today, not from then
    on_paper = subsidy_request(apps["A"][0].application_id, a["company_name"], 5_500_000,
                               account="301-1234-5678-91", received_on=today - timedelta(days=10))
    first = pay.poll(lambda: pay.http.post("/subsidy-requests", headers=pay.operator(), json=on_paper),
                     lambda r: r.status_code != 404)
    assert first.status_code == 201, first.text
    first = first.json()
    assert first["due_on"] == WORKING_DAYS.due_date(today - timedelta(days=10), days=30).isoformat()
    unpaid = pay.http.post(f"/payments/{first['payment_id']}/record", headers=pay.operator(),
                           json={"amount": first["amount"]})
    assert unpaid.status_code == 409 and errors(unpaid) == [("grant_decided_on", "P3")]  # 교부결정 first
    returned = pay.return_request(first, ["세금계산서 사본 누락"])
    assert (returned["status"], returned["returned_reasons"]) == ("returned", ["세금계산서 사본 누락"])
    twice = pay.http.post(f"/payments/{first['payment_id']}/return", headers=pay.operator(),
                          json={"reasons": ["다시"]})
    assert twice.status_code == 409 and errors(twice) == [("status", "P3")]
    due = pay.http.post("/subsidy-requests", headers=pay.company(brn["A"]), json=form)
    assert due.status_code == 201, due.text
    due = due.json()
    assert (due["status"], due["request_received_on"]) == ("due", today.isoformat())
    assert (due["amount"], due["breakdown"]["company_share"]) == (5_000_000, 500_000)
    assert due["due_on"] == WORKING_DAYS.due_date(today, days=30).isoformat() and due["account"] == "****7891"
    assert pay.file(form, brn["A"], expect=(409,))["errors"][0]["rule"] == "P1"
    assert pay.http.get(f"/payments/{due['payment_id']}/account", headers=pay.company(brn["A"])).status_code == 403
    assert (
        pay.call("GET", f"/payments/{due['payment_id']}/account", headers=pay.operator())["number"] == "3011234567891"
    )
    columns, sealed = asyncio.run(_stored_payment(due["payment_id"]))
    assert "3011234567891" not in columns and "1234-5678" not in columns and b"3011234567891" not in sealed

    decided = pay.decide_grant(due)
    assert decided["grant_decided_on"] == today.isoformat()
    assert pay.http.post(f"/payments/{due['payment_id']}/return", headers=pay.operator(),
                         json={"reasons": ["늦은 반려"]}).status_code == 409  # decided: adjust instead (P4)
    wrong = pay.http.post(f"/payments/{due['payment_id']}/record", headers=pay.operator(), json={"amount": 5_500_000})
    assert wrong.status_code == 422 and errors(wrong) == [("amount", "P2")]
    paid = pay.record(due)
    assert paid["status"] == "paid"

    # C7 after payment: fraud → the whole subsidy is clawed back; nothing freed for the waitlist (paid out).
    desk.call("POST", f"/agreements/{a['agreement_id']}/termination", headers=desk.operator(),
              json={"reason": "fraud", "note": "허위 계약으로 지원금 수령 확인"})
    clawed = pay.poll(lambda: pay.call("GET", f"/payments/{due['payment_id']}", headers=pay.operator()),
                      lambda p: p["status"] == "clawed-back")
    assert clawed["clawback_amount"] == 5_000_000 and clawed["recovered_amount"] == 0
    assert clawed["recovery_due_on"] == WORKING_DAYS.due_date(today, days=30).isoformat()  # 환수 납부기한
    # a receivable: nothing in the ledger until the money comes back; then the settlement shows it recovered
    owed = pay.call("GET", f"/programs/{pid}/settlement", headers=pay.operator())
    assert (owed["receivable"], owed["total"]["clawed_back"]) == (5_000_000, 0) and owed["balanced"]
    recovered = pay.call("POST", f"/payments/{due['payment_id']}/recoveries", headers=pay.operator(),
                         json={"amount": 5_000_000}, expect=(201,))
    assert (recovered["recovered_amount"], recovered["recovered_on"]) == (5_000_000, today.isoformat())
    # L1–L4: A committed 5,000,000 from the city at signing, paid it, then recovered it; B's 4,400,000 is still
    # committed; C gave up before signing (nothing committed)
    ledger = pay.call("GET", f"/ledger/{apps['A'][0].application_id}", headers=pay.operator())
    assert [(e["source"], e["kind"], e["amount"]) for e in ledger] == [
        ("city", "commitment", 5_000_000), ("city", "payment", 5_000_000), ("city", "clawback", 5_000_000)]
    settled = pay.call("GET", f"/programs/{pid}/settlement", headers=pay.operator())
    assert settled["balanced"] and settled["problems"] == []
    assert settled["sources"] == [{"source": "city", "title": "시비", "budget": program["budget"],
                                   "committed": 9_400_000, "released": 0, "paid": 5_000_000,
                                   "clawed_back": 5_000_000, "net_spent": 0, "outstanding": 4_400_000,
                                   "unspent": program["budget"] - 4_400_000}]

    # P5 and P3 across a restart: an allowance due 30 days after the round's close; payments comes back with
    # its calendar 31 days on and raises it overdue — once, even after another restart.
    publish(EvaluatorAllowanceDue(program_id=pid, occurred_at=now, round_id="RND-EXEC-1", evaluator_id="EV-01",
                                  evaluator_name="김평가", applications_scored=4, amount=80_000))
    allowance = pay.wait_for_payments(pid, lambda ps: any(p["purpose"] == "evaluator-allowance" for p in ps))
    allowance = next(p for p in allowance if p["purpose"] == "evaluator-allowance")
    assert allowance["due_on"] == WORKING_DAYS.due_date(local_date(now), days=30).isoformat()
    assert not allowance["overdue"]
    # P5: an evaluator lists its own allowances (the portal's notice of it links there), never another's
    mine = pay.call("GET", "/payments", headers=pay.evaluator("EV-01"))
    assert [p["payment_id"] for p in mine] == [allowance["payment_id"]]
    assert pay.call("GET", "/payments", headers=pay.evaluator("EV-02")) == []
    s.restart(31, only=("payments",))
    overdue = pay.wait_for_payments(pid, lambda ps: any(p["overdue"] for p in ps))
    assert [p["payment_id"] for p in overdue if p["overdue"]] == [allowance["payment_id"]]
    s.restart(31, only=("payments",))

    counts = {"AgreementSigned": 2, "ParticipationGivenUp": 1, "AgreementTerminated": 1, "ReportAccepted": 1,
              "ReportReturned": 1, "FollowUpReminder": 0, "FollowUpSubmitted": 1, "PaymentDue": 3, "PaymentRecorded": 1,
              "SubsidyClawedBack": 1, "PaymentOverdue": 1, "SubsidyRequestReturned": 1, "GrantDecided": 1,
              "ClawbackRecovered": 1}
    published = by_type(starts, counts)
    assert {k: len(v) for k, v in published.items()} == counts
    signed = {e.application_id: e for e in published["AgreementSigned"]}
    assert set(signed) == {apps["A"][0].application_id, apps["B"][0].application_id}
    returned = published["ReportReturned"][0]  # C8: the reasons reach the company (the portal's notice)
    assert (returned.revision, returned.reasons) == (1, ("컨설팅 일지 5회차 사진 누락",))
    report = published["ReportAccepted"][0]
    assert (report.sessions_held, report.follow_up_sessions_held, report.business_registration_number) == (
        10, 3, brn["A"])
    given = published["ParticipationGivenUp"][0]
    assert (given.freed_amount, given.business_registration_number) == (3_300_000, brn["C"])
    ended = published["AgreementTerminated"][0]
    assert (ended.reason, ended.clawback, ended.freed_amount) == ("fraud", True, 0)
    assert published["SubsidyClawedBack"][0].amount == 5_000_000
    assert published["PaymentOverdue"][0].payment_id == allowance["payment_id"]
    assert all("3011234567891" not in e.model_dump_json() for e in published["PaymentDue"])

    # Replay: both services re-consume their inputs from this test's start with their inboxes emptied.
    before = asyncio.run(snapshot(TABLES))
    s.stop()
    asyncio.run(forget_processed_events(TABLES))
    rewind(inputs)
    s.start()  # contracts 20 days ahead, payments 31, as before the replay
    wait_caught_up(groups)
    time.sleep(1)  # a sweep or relay pass after catching up would show a second emission
    assert asyncio.run(snapshot(TABLES)) == before
    assert {k: len(v) for k, v in by_type(starts, counts).items()} == counts


async def _stored_payment(payment_id: str) -> tuple[str, bytes]:
    """The payment row as text (every column but the sealed one) and the sealed account bytes."""
    conn = await asyncpg.connect(db_url("payments").replace("+asyncpg", ""))
    try:
        row = dict(await conn.fetchrow("SELECT * FROM payments WHERE payment_id = $1", payment_id))
    finally:
        await conn.close()
    sealed = bytes(row.pop("account_ciphertext"))
    return json.dumps(row, default=str, ensure_ascii=False), sealed
