"""The main job: the whole system on this machine, a sample program call flowing through it, stage by stage.

Run through deploy/local/main-job.sh, which installs and starts what is needed first."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import httpx

from deploy.local.prometheus import RULES, LocalPrometheus
from deploy.local.procs import (
    REGISTRIES, ROOT, ServiceProcess, end_offsets, evaluation_env, headers_of, intake_env, publish_event, read_topic,
    registry_processes, retire_refused_demo_calls, screening_env, screening_processes, signer,
)
from deploy.local.portal_stage import DEMO_PASSWORD, PortalStage, use_keys
from deploy.local.show import clip, instant, pad
from deploy.local.execution_stage import (
    CONSULTING_DAYS, UNPAID_DAYS, ExecutionServices, agreements_drafted, bus_counts, consult_and_report,
    follow_up_report, follow_up_stage, give_up_and_promote, overdue_after_restart, pay_advances, pay_all_but_one,
    pay_allowances, program_report, request_subsidies, service_today, settlement_report, sign_everything,
)
from deploy.sample.evaluation_scenario import (
    COMMITTEE, EXTERNALS, EvaluationDesk, committee_qualities, declared_conflict, evaluator_pool, ranking_table,
    score_sheet,
)
from deploy.sample.execution_scenario import ContractsDesk, PaymentsDesk
from deploy.sample.program_call import SOS_2024, demo_program, demo_program_id, sample_forms
from deploy.sample.screening_scenario import (
    NATIONAL, NATIONAL_PROJECTS, PLANTED, adjust_forms, expected, national_corpus, registry_dataset)
from intake.form import ApplicationForm, to_content
from sme_runtime.auth import Role, mint_token
from sme_schemas.catalog import produced_by
from sme_schemas.intake import ApplicationFiledByMunicipalSystem, ApplicationSubmitted
from sme_schemas.program import ProgramDefinition

LOCAL_DIR = Path(os.environ.get("SME_LOCAL_DIR", ROOT / ".local"))
KAFKA = f"127.0.0.1:{os.environ.get('SME_KAFKA_PORT', '9092')}"
PG_PORT = os.environ.get("SME_PG_PORT", "5432")
INTAKE_PORT = int(os.environ.get("SME_INTAKE_PORT", "8001"))
SCREENING_PORT = int(os.environ.get("SME_SCREENING_PORT", "8002"))
EVALUATION_PORT = int(os.environ.get("SME_EVALUATION_PORT", "8003"))
EXECUTION_PORTS = {"contracts": int(os.environ.get("SME_CONTRACTS_PORT", "8004")),
                   "payments": int(os.environ.get("SME_PAYMENTS_PORT", "8005"))}
WORKER_PORTS = {r: int(os.environ.get("SME_WORKER_PORT_BASE", "8012")) + i for i, r in enumerate(REGISTRIES)}
PROMETHEUS_PORT = int(os.environ.get("SME_PROMETHEUS_PORT", "9090"))
PORTAL_PORT = int(os.environ.get("SME_PORTAL_PORT", "8000"))
SMTP_PORT = int(os.environ.get("SME_SMTP_PORT", "8025"))
REGISTRY_PORTS = {r: int(os.environ.get("SME_REGISTRY_PORT_BASE", "8101")) + i for i, r in enumerate(REGISTRIES)}
BASE = f"http://127.0.0.1:{INTAKE_PORT}"
SCREENING = f"http://127.0.0.1:{SCREENING_PORT}"
EVALUATION = f"http://127.0.0.1:{EVALUATION_PORT}"
CONTRACTS = f"http://127.0.0.1:{EXECUTION_PORTS['contracts']}"
PAYMENTS = f"http://127.0.0.1:{EXECUTION_PORTS['payments']}"


def token(role: Role, brn: str | None = None) -> dict[str, str]:
    subject = f"company:{brn}" if brn else "operator:center-staff"
    return {"Authorization": "Bearer " + mint_token(signer(), subject=subject, role=role, brn=brn)}


def heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 74 - len(text)))


def national_index(export: Path) -> Path:
    """The duplicate-projects lookup's prior-project index, built from the national registry export with the
    command a center runs on a real export."""
    folder = LOCAL_DIR / "national-index"
    run = subprocess.run([sys.executable, "-m", "screening", "similarity", "index", "--in", str(export),
                          "--out", str(folder)], capture_output=True, text=True, check=True)
    report = json.loads(run.stdout)
    print(f"national prior-project index: {report['projects']:,} projects (NTIS, SMTECH, GSTEP-PMS export "
          f"{export.name}) indexed in {report['seconds']}s, {report['bytes'] / 1e6:.0f} MB → {folder}")
    return folder


def start_services(program_dir: Path, registry_data: Path, execution: ExecutionServices,
                   similarity_index: Path) -> list[ServiceProcess]:
    programs = execution.programs
    registries = list(registry_processes(registry_data, REGISTRY_PORTS, LOCAL_DIR / "logs").values())
    intake = ServiceProcess("intake", "serve", intake_env(kafka=KAFKA, pg_port=PG_PORT, http_port=INTAKE_PORT,
                                                          programs_path=programs), port=INTAKE_PORT,
                            log=LOCAL_DIR / "logs" / "intake.log")
    screening = screening_processes(
        screening_env(kafka=KAFKA, pg_port=PG_PORT, http_port=SCREENING_PORT, programs_path=programs,
                      registry_ports=REGISTRY_PORTS), worker_ports=WORKER_PORTS, log_dir=LOCAL_DIR / "logs",
        extra_env={"SCREENING_SIMILARITY_INDEX": str(similarity_index)})
    evaluation = ServiceProcess("evaluation", "serve", evaluation_env(
        kafka=KAFKA, pg_port=PG_PORT, http_port=EVALUATION_PORT, programs_path=programs), port=EVALUATION_PORT,
        log=LOCAL_DIR / "logs" / "evaluation.log")
    services = [*registries, intake, *screening, evaluation]
    for service in services:
        service.start(wait=False)
    for service in services:
        service.wait_healthy()
    execution.start()
    for r, port in REGISTRY_PORTS.items():
        print(f"registry  {r:<19} http://127.0.0.1:{port}  (local stand-in; data {registry_data.name})")
    print(f"intake    http://127.0.0.1:{INTAKE_PORT}/docs")
    print(f"screening http://127.0.0.1:{SCREENING_PORT}/docs   lookup workers on ports "
          + ", ".join(str(p) for p in WORKER_PORTS.values()) + f"   logs {LOCAL_DIR / 'logs'}")
    print(f"evaluation http://127.0.0.1:{EVALUATION_PORT}/docs")
    print(f"contracts {CONTRACTS}/docs   payments {PAYMENTS}/docs")
    return services


def submit_call(forms: list[dict]) -> tuple[list[str], list[float]]:
    """Every company submits its own application over HTTP; returns ids and latencies (ms)."""
    ids, latencies = [], []
    with httpx.Client(base_url=BASE, timeout=30) as client:
        for i, form in enumerate(forms):
            brn = form["company"]["business_registration_number"]
            started = time.perf_counter()
            response = client.post("/applications", json=form,
                                   headers={**token(Role.COMPANY, brn), "Idempotency-Key": f"main-job-{brn}"})
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            body = response.json()
            ids.append(body["application_id"])
            unmet = ", ".join(u["purpose"] for u in body["unmet_evidence"] if u["mandatory"])
            print(f"{i + 1:>3} {body['application_id']}  {pad(form['company']['name'], 20)} "
                  f"{body['disposition']:<9} {'evidence missing: ' + unmet if unmet else 'evidence complete'}")
    return ids, latencies


def show_refusals(forms: list[dict]) -> None:
    """What a company sees when it gets something wrong: every field, with its rule."""
    form = json.loads(json.dumps(forms[0]))
    brn = form["company"]["business_registration_number"]
    again = httpx.post(f"{BASE}/applications", json=forms[0],
                       headers={**token(Role.COMPANY, brn), "Idempotency-Key": f"main-job-{brn}"})
    print(f"double click (same Idempotency-Key): HTTP {again.status_code}, same id {again.json()['application_id']}")
    form["company"]["business_registration_number"] = brn[:9] + str((int(brn[9]) + 1) % 10)
    form["declarations"]["consent_to_data_use"] = False
    form["consulting"]["cost_excluding_vat"] = -1
    bad = httpx.post(f"{BASE}/applications", json=form, headers=token(Role.OPERATOR))
    print(f"a form with three mistakes: HTTP {bad.status_code}")
    for error in bad.json()["errors"]:
        print(f"    {error['rule']:<3} {error['field']}: {error['message']}")
    closed = dict(forms[1], program_id="gimpo-sos-2024")
    closed["consulting"] = dict(closed["consulting"], planned_completion_on="2024-10-31")
    late = httpx.post(f"{BASE}/applications", json=closed, headers=token(Role.OPERATOR))
    print(f"applying to the closed 2024 call: HTTP {late.status_code} {late.json()['errors'][0]['rule']} "
          f"{clip(late.json()['errors'][0]['message'], 90)}")


async def forward_from_municipal_system(form: dict) -> None:
    """Another municipal system (민원 창구) forwards a paper application as an event."""
    now = datetime.now(timezone.utc)
    event = ApplicationFiledByMunicipalSystem(
        program_id=form["program_id"], occurred_at=now, source_system="gimpo-minwon",
        external_reference=f"MW-{now:%Y%m%d}-{form['company']['business_registration_number'][-4:]}",
        content=to_content(ApplicationForm.model_validate(form), consent_at=now))
    await publish_event(event, KAFKA, source="/gimpo/minwon")
    print(f"gimpo-minwon forwarded {form['company']['name']} as {event.topic()}")


def wait_for_application(form: dict, timeout: float = 30) -> dict:
    # Matched on the business registration number: company names repeat from one run of the job to the next.
    brn = form["company"]["business_registration_number"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for app in httpx.get(f"{BASE}/applications?program_id={form['program_id']}&limit=1000",
                             headers=token(Role.OPERATOR)).json():
            if app["content"]["company"]["business_registration_number"] == brn:
                return app
        time.sleep(0.3)
    raise TimeoutError(f"{form['company']['name']} did not arrive through the municipal channel")


def bus_summary(start: dict[int, int], ids: set[str]) -> None:
    records = asyncio.run(read_topic(ApplicationSubmitted.topic(), KAFKA, start, timeout=60,
                                     until=lambda rs: {r.key.decode() for r in rs} >= ids))
    ours = [r for r in records if r.key.decode() in ids]
    ce_ids = {headers_of(r)["ce_id"] for r in ours}
    types = Counter(headers_of(r)["ce_type"] for r in ours)
    print(
        f"{ApplicationSubmitted.topic()}: {len(ours)} events for {len(ids)} applications, {len(ce_ids)} distinct ce_id"
    )
    for ce_type, n in types.items():
        print(f"    ce_type {ce_type}: {n}")
    missing = ids - {r.key.decode() for r in ours}
    if missing:
        raise SystemExit(f"MISSING on the bus: {sorted(missing)}")


def stage_table(apps: list[dict]) -> None:
    by_status = Counter(a["status"] for a in apps)
    by_channel = Counter(a["channel"] for a in apps)
    incomplete = sum(1 for a in apps if any(u["mandatory"] for u in a["unmet_evidence"]))
    print(f"{'stage':<12}{'result':<48}")
    print(f"{'intake':<12}{len(apps)} applications: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items()))
          + " | " + ", ".join(f"{k} {v}" for k, v in sorted(by_channel.items())))
    print(f"{'':<12}{incomplete} with required evidence missing at submission")


def screened(program_id: str, ids: set[str], timeout: float = 120) -> dict[str, dict]:
    """Screening's view of our applications once none waits on a registry any more (this call's program only:
    the local database also keeps earlier calls and benchmarks)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = {a["application_id"]: a for a in httpx.get(f"{SCREENING}/applications?program_id={program_id}"
                                                          "&limit=5000", headers=token(Role.OPERATOR)).json()
                if a["application_id"] in ids}
        if len(rows) == len(ids) and not any(a["status"] == "screening" for a in rows.values()):
            return rows
        if time.monotonic() > deadline:
            raise SystemExit(f"screening did not settle: {Counter(a['status'] for a in rows.values())}, "
                             f"{len(ids) - len(rows)} not seen")
        time.sleep(0.5)


def _rules(row: dict) -> list[str]:
    decision = row.get("decision") or {}
    key = {"rejected": "findings", "manual-review": "questions", "supplement-requested": "documents"}.get(row["status"])
    return sorted({f["rule"] for f in decision.get(key, [])}) if key else []


def screening_summary(rows: dict[str, dict], names: dict[str, str], expect: dict[str, tuple[str, str]]) -> None:
    """Counts by outcome and by rule, then each application that did not simply pass, with its reason."""
    by_outcome = Counter(r["status"] for r in rows.values())
    by_rule = Counter(f"{r['status']} {rule}" for r in rows.values() for rule in _rules(r))
    print("by outcome: " + ", ".join(f"{k} {v}" for k, v in sorted(by_outcome.items())))
    print("by rule:    " + ", ".join(f"{k} {v}" for k, v in sorted(by_rule.items())))
    mismatches = 0
    for app_id, row in sorted(rows.items(), key=lambda kv: names[kv[0]]):
        want = expect.get(row["business_registration_number"], ("passed", ""))
        ok = row["status"] == want[0] and (not want[1] or want[1] in _rules(row))
        mismatches += not ok
        if row["status"] == "passed" and ok:
            continue
        decision = row["decision"] or {}
        first = (decision.get("findings") or decision.get("questions") or decision.get("documents") or [{}])[0]
        reason = first.get("detail") or "/".join(first.get("any_of", [])) + f" ({first.get('problem', '')})"
        print(
            f"  {'  ' if ok else '!!'} {pad(names[app_id], 20)} {row['status']:<21} {','.join(_rules(row)):<7} "
            f"{clip(reason, 96)}"
        )
    if mismatches:
        raise SystemExit(f"{mismatches} applications were screened differently from the planted records")


def work_review_queue(names: dict[str, str], *, recheck: bool = False) -> int:
    """Center staff judge what the rules referred to them; each ruling is recorded and publishes the same events.
    With `recheck`, the questions an X11 re-check raised (purpose recheck:<request id>)."""
    queue = [item for item in httpx.get(f"{SCREENING}/reviews", headers=token(Role.OPERATOR)).json()
             if item["application_id"] in names and item["purpose"].startswith("recheck:") == recheck]
    if queue or not recheck:
        print(f"{len(queue)} applications of this call wait for an operator" + (" (X11 re-check)" if recheck else ""))
    for item in queue:
        rules = sorted({q["rule"] for q in item["questions"]})
        exclude = bool({"X4", "X6"} & set(rules))  # the demo staff confirm these two, clear the rest
        reason = ("대표자 성명 허위 기재 확인 (사업자등록증 대조)" if "X4" in rules else
                  "컨설팅 내용이 공고된 지원분야와 상이함" if "X6" in rules else
                  "유사 과제와 대상 공정·목표가 달라 중복 아님 (위원회 검토)" if "D3" in rules else
                  "사업자등록증명 원본으로 계속사업자임을 확인")
        response = httpx.post(f"{SCREENING}/reviews/{item['application_id']}/rulings", headers=token(Role.OPERATOR),
                              json={"decision": "exclude" if exclude else "clear", "reason": reason,
                                    "purpose": item["purpose"]})
        response.raise_for_status()
        print(f"  {names[item['application_id']]:<16} {','.join(rules):<7} {'exclude' if exclude else 'clear':<8}"
              f"→ {response.json()['status']:<9} ({reason})")
    return len(queue)


def supplement(app_id: str, form: dict) -> None:
    """The company uploads the missing certificate through intake; screening re-evaluates the new revision."""
    brn = form["company"]["business_registration_number"]
    have = {d["document_type"] for d in form["evidence"]}
    today = datetime.now(timezone.utc).date().isoformat()
    added = [{"document_type": t, "issued_on": today, "file_reference": f"docs://intake/supplement/{brn}/{t}.pdf"}
             for t in ("local-tax-payment-certificate",) if t not in have]
    response = httpx.put(f"{BASE}/applications/{app_id}", headers=token(Role.COMPANY, brn),
                         json={**form, "evidence": form["evidence"] + added})
    response.raise_for_status()
    deadline = time.monotonic() + 60
    while (row := httpx.get(f"{SCREENING}/applications/{app_id}", headers=token(Role.OPERATOR)).json())[
            "revision"] < response.json()["revision"] or row["status"] in ("supplement-requested", "screening"):
        if time.monotonic() > deadline:
            raise SystemExit(f"screening did not take up the supplement of {app_id}: {row['status']}")
        time.sleep(0.3)
    print(f"  {form['company']['name']} adds {', '.join(a['document_type'] for a in added)} (revision "
          f"{row['revision']}) → screening: {row['status']}")


def evaluate(program: dict, forms: list[dict], rows: dict[str, dict], names: dict[str, str]) -> dict:
    """Committee formed, evaluators' scores entered, round closed, the selected re-checked (X11) and notified."""
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
    desk.register_pool(pool)
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
    deadline = time.monotonic() + 90
    while (budget := desk.budget(pid))["rechecking"] and time.monotonic() < deadline:
        # The re-check repeats the lookups (X11): a borderline duplicate comes back to an operator.
        work_review_queue(names, recheck=True)
        time.sleep(0.5)
    if budget["rechecking"] or budget["committed"] > budget["budget"]:
        raise SystemExit(f"selection did not settle within the budget: {budget}")
    print(f"X11 re-check by screening, then notified: {len(budget['selected'])} selected "
          f"({budget['committed']:,} of {budget['budget']:,} KRW), {len(budget['waitlist'])} on the waitlist, "
          f"{budget['available']:,} KRW free")
    return {**budget, "evaluated": len(closed["applications"])}


def execute(program: dict, forms: list[dict], rows: dict[str, dict], names: dict[str, str], budget: dict,
            execution: ExecutionServices, starts: dict) -> dict[str, int]:
    """Agreements, a give-up, the consulting, reports, subsidies, payments, one overdue, and the report."""
    pid, now = program["program_id"], datetime.now(timezone.utc)
    desk, pay = ContractsDesk(CONTRACTS), PaymentsDesk(PAYMENTS)
    ranks = {s["application_id"]: s["rank"] for s in budget["selected"] + budget["waitlist"]}
    heading("contracts: three-party agreements (서식3)")
    agreements = agreements_drafted(desk, pid, budget)
    print(f"{len(agreements)} agreements drafted from ApplicationSelected with the parties screening verified; "
          f"term {agreements[0]['term_start']} – {agreements[0]['term_end']} (C2)")
    signed = sign_everything(desk, agreements, names)
    parties = "center, company and expert" if program["support"].get("expert_party", True) else "center and company"
    print(f"{signed} agreements in force: {parties} each signed (C1 → AgreementSigned)")
    heading("payments: evaluator allowances")
    pay_allowances(pay, pid)
    advanced: set[str] = set()
    if program.get("payment_schedule", {}).get("advance_percent"):
        percent = program["payment_schedule"]["advance_percent"]
        heading(f"payments: advances (선금, {percent}% of the agreed amount, I1)")
        advanced = {p["application_id"] for p in pay_advances(pay, desk, agreements, names)}
    advances = len(advanced)
    heading("contracts: a give-up promotes the waitlist (C6, F5)")
    budget = give_up_and_promote(desk, EvaluationDesk(EVALUATION), pid, budget, names,
                                    lambda: work_review_queue(names, recheck=True))
    ranks.update({s["application_id"]: s["rank"] for s in budget["selected"]})
    agreements = agreements_drafted(desk, pid, budget)
    signed = sign_everything(desk, [a for a in agreements if a["status"] == "drafted"], names)
    print(f"  {signed} new agreement in force")
    heading(f"{CONSULTING_DAYS} days on: the consulting (C3) and the result reports (C8)")
    print(f"contracts and payments restart with their calendars {CONSULTING_DAYS} days ahead (demo only): "
          f"today is {service_today(CONSULTING_DAYS, now)} for them")
    execution.restart(CONSULTING_DAYS)
    reported = consult_and_report(desk, agreements, service_today(CONSULTING_DAYS, now), names)
    heading("payments: subsidy requests (서식4) and payments (P1–P4)")
    by_brn = {f["company"]["business_registration_number"]: f for f in forms}
    costs = {a: by_brn[r["business_registration_number"]]["consulting"]["cost_excluding_vat"] for a, r in rows.items()}
    filed, recovered = request_subsidies(pay, desk, agreements, costs, names, program, advanced)
    unpaid = pay_all_but_one(pay, [p for p in filed if p["status"] == "due"], names)
    heading(f"{UNPAID_DAYS} days later: the unpaid request passes its due date (P3)")
    overdue_after_restart(execution, pay, pid, unpaid, f"{PAYMENTS}/metrics/")
    heading("follow-up (사후관리): the satisfaction survey and the outcome reports (M1–M3)")
    reminders, answers = follow_up_stage(execution, desk, agreements, names, CONSULTING_DAYS,
                                         service_today(CONSULTING_DAYS, now))
    for line in follow_up_report(desk, pid):
        print("  " + line)
    sections = {f"program report: {program['name']}": program_report(desk, pay, pid, names, ranks),
                "settlement (정산) by funding source (L1–L4)": settlement_report(pay, pid)}
    for title, lines in sections.items():
        heading(title)
        print("\n".join("  " + line for line in lines))
    saved = LOCAL_DIR / "reports" / f"{pid}.txt"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text("".join(f"{title}\n" + "".join(f"  {line}\n" for line in lines)
                             for title, lines in sections.items()), encoding="utf-8")
    print(f"(the program report and the settlement are also in {saved})")
    counts = asyncio.run(bus_counts(starts, pid, KAFKA))
    print("on the bus for this call: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v))
    allowances = sum(1 for p in pay.payments(pid) if p["purpose"] == "evaluator-allowance")
    balances = sum(1 for p in filed if p["status"] == "due")
    want = {"AgreementSigned": len(agreements), "ParticipationGivenUp": 1, "ReportAccepted": reported,
            "PaymentDue": advances + balances + allowances, "PaymentRecorded": advances + balances - 1 + allowances,
            # I3: the company that gave up had been paid its advance, and returns it
            "PaymentOverdue": 1, "SubsidyClawedBack": recovered + (1 if advances else 0),
            "FollowUpReminder": reminders, "FollowUpSubmitted": answers,
            "ReportReturned": 1}  # C8: one report is returned once, then accepted
    wrong = {k: (counts[k], v) for k, v in want.items() if counts[k] != v}
    if wrong:
        raise SystemExit(f"events on the bus differ from what was done (seen, expected): {wrong}")
    paid = {p["application_id"] for p in pay.payments(pid) if p["purpose"] == "subsidy" and p["status"] == "paid"
            and p.get("instalment") != "advance"}
    return {"agreed": len(agreements), "reported": reported, "paid": len(paid)}


def show_portal(portal: PortalStage, program_id: str, *, expert_party: bool) -> None:
    """The portal's address and a demonstration account per role, with what each can look at."""
    heading("the portal: sign in as each role")
    agreements = httpx.get(f"{CONTRACTS}/agreements", params={"program_id": program_id},
                           headers=token(Role.OPERATOR)).json()
    chosen = next(a for a in agreements if a["status"] in ("completed", "in-force"))
    evaluator_id, evaluator_name = EXTERNALS[0][0], EXTERNALS[0][1]
    accounts = portal.demo_accounts((chosen["business_registration_number"], chosen["company_name"]),
                                    (evaluator_id, evaluator_name), expert=expert_party)
    mails = portal.mails_settled()
    print(f"{portal.url}  — every account's password: {DEMO_PASSWORD} (demonstration accounts on this machine)")
    for role, login, what in accounts:
        print(f"  {pad(role, 20)} {login:<14} {what}")
    print(f"notices e-mailed to the local mail server so far: {mails} ({LOCAL_DIR / 'mail'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--companies", type=int, default=30)
    parser.add_argument("--program", type=Path, default=SOS_2024, help="the program definition whose terms the "
                        "sample call runs under (default: SOS 2024), e.g. "
                        "deploy/programs/gimpo-smart-factory-2026.json")
    parser.add_argument("--keep-running", action="store_true", help="leave the services up afterwards")
    parser.add_argument("--seed", type=int, default=None, help="draw the sample companies from this seed (default: "
                        "the clock, a new call each run); the same seed on fresh databases prints the same report "
                        "(on databases a run used, its give-up's participation restriction, X10, excludes that "
                        "company the second time)")
    args = parser.parse_args()
    # Every process appends its spans here (sme_runtime.telemetry); with OTEL_EXPORTER_OTLP_ENDPOINT set they go
    # to that collector as well.
    os.environ.setdefault("SME_TRACE_FILE", str(LOCAL_DIR / "logs" / "spans.jsonl"))
    now = datetime.now(timezone.utc)
    # Each run is a call of its own, so a second run on the same databases starts with the whole budget.
    program = demo_program(now, program_id=demo_program_id(args.program, now), source=args.program)
    program_dir = LOCAL_DIR / "programs"
    program_dir.mkdir(parents=True, exist_ok=True)
    retire_refused_demo_calls(program_dir)
    (program_dir / f"{program['program_id']}.json").write_text(json.dumps(program, ensure_ascii=False, indent=2))
    seed = args.seed if args.seed is not None else int(now.timestamp())
    forms = adjust_forms(sample_forms(program, now.date(), count=args.companies + 1, seed=seed), now.date())
    web_forms, paper_form = forms[:-1], forms[-1]
    export = LOCAL_DIR / "national-projects.jsonl"
    national_corpus(forms, export)
    registry_data = LOCAL_DIR / "registry-data.json"
    registry_data.write_text(json.dumps(registry_dataset(
        forms, datetime.fromisoformat(program["announcement_date"]).date(), now.date()), ensure_ascii=False))

    heading(f"program call {program['program_id']}: {program['name']}")
    print(f"sample companies drawn with --seed {seed} (the same seed draws the same companies)")
    print(f"window {instant(program['window']['opens_at'])} – {instant(program['window']['closes_at'])}, budget "
          f"{program['budget']:,} KRW, cap {program['support']['cap']:,} KRW per company")
    support = program["support"]
    print(f"terms of {args.program.name}: {support['ratio_percent']}% of the cost"
          + (f", the company paying at least {support['company_share_percent_of_subsidy']}% of the subsidy"
             if support.get("company_share_percent_of_subsidy") else "")
          + f", at least {support['minimum_sessions']} sessions, region {program['region_city']}"
          + (f", industries {', '.join(program['eligibility']['industries'])}"
             if program.get("eligibility", {}).get("industries") else "")
          + (f", advance {program['payment_schedule']['advance_percent']}%"
             if program.get("payment_schedule", {}).get("advance_percent") else ", one payment after the report"))
    print("funding: " + ", ".join(f"{f['title']} {f['amount']:,}" for f in program.get("funding") or [
        {"title": "시비", "amount": program["budget"]}]))
    heading("starting services")
    # The services verify tokens with the portal's public key (JWKS); no service holds anything that could mint one
    use_keys(LOCAL_DIR / "keys")
    execution = ExecutionServices(kafka=KAFKA, pg_port=PG_PORT, programs=f"{ROOT / 'deploy/programs'}:{program_dir}",
                                  ports=EXECUTION_PORTS, log_dir=LOCAL_DIR / "logs")
    starts = {cls: asyncio.run(end_offsets(cls.topic(), KAFKA)) for cls in (*produced_by("contracts"),
                                                                             *produced_by("payments"))}
    services = start_services(program_dir, registry_data, execution, national_index(export))
    prometheus = LocalPrometheus({"intake": INTAKE_PORT, "screening": SCREENING_PORT, "evaluation": EVALUATION_PORT,
                                  **EXECUTION_PORTS, **{f"screening-worker-{r}": p for r, p in WORKER_PORTS.items()},
                                  "portal": PORTAL_PORT},
                                 LOCAL_DIR / "prometheus", PROMETHEUS_PORT).start()
    print(f"prometheus {prometheus.url} (Debian's package) scraping every service, rules {RULES.name}")
    portal = PortalStage(kafka=KAFKA, pg_port=PG_PORT, port=PORTAL_PORT, smtp_port=SMTP_PORT, local_dir=LOCAL_DIR,
                         urls={"intake": BASE, "screening": SCREENING, "evaluation": EVALUATION,
                               "contracts": CONTRACTS, "payments": PAYMENTS})
    services += portal.start()
    print(f"portal    {portal.url}   (web pages for companies, experts, evaluators and staff; its notices by e-mail "
          f"to a local mail server on :{SMTP_PORT}, kept in {LOCAL_DIR / 'mail'}; tokens signed with "
          f"{LOCAL_DIR / 'keys' / 'signing-key.pem'}, verified by every service with its JWKS)")
    try:
        start = asyncio.run(end_offsets(ApplicationSubmitted.topic(), KAFKA))
        heading(f"intake: {len(web_forms)} companies apply over HTTP")
        call_started = time.monotonic()
        ids, latencies = submit_call(web_forms)
        print(f"latency ms: p50 {statistics.median(latencies):.1f}, max {max(latencies):.1f}")
        heading("intake: what a company sees when something is wrong")
        show_refusals(web_forms)
        heading("intake: an application forwarded by another municipal system")
        asyncio.run(forward_from_municipal_system(paper_form))
        paper = wait_for_application(paper_form)
        print(f"accepted as {paper['application_id']} (channel {paper['channel']})")
        heading("on the bus (CloudEvents, Kafka binary mode)")
        bus_summary(start, set(ids) | {paper["application_id"]})
        heading("program call, stage by stage")
        apps = [
            a
            for a in httpx.get(
                f"{BASE}/applications?program_id={program['program_id']}&limit=1000", headers=token(Role.OPERATOR)
            ).json()
            if a["application_id"] in set(ids) | {paper["application_id"]}
        ]
        stage_table(apps)
        names = {a["application_id"]: a["content"]["company"]["name"] for a in apps}
        heading("screening: eligibility, exclusions, evidence, expert grade, four registries")
        print(f"this call's registries hold records on {len(PLANTED)} of the companies, and {len(NATIONAL)} plans "
              f"resemble some of the {NATIONAL_PROJECTS:,} national prior projects")
        rows = screened(program["program_id"], set(names))
        still_waiting = sum(1 for r in rows.values() if (r.get("decision") or {}).get("waiting_on"))
        print(f"all {len(rows)} settled {time.monotonic() - call_started:.1f}s after the first application was sent "
              f"({still_waiting} still waiting on a registry)")
        screening_summary(rows, names, expected(forms, national=True, program=program))
        waiting = httpx.get(f"{SCREENING}/lookups/waiting", headers=token(Role.OPERATOR)).json()
        print(f"waiting on registries now: {waiting['applications_waiting']}")
        heading("screening: operators work the manual-review queue")
        work_review_queue(names)
        heading("screening: a company supplements its missing document (E6)")
        by_brn = {f["company"]["business_registration_number"]: f for f in forms}
        for app_id, row in rows.items():
            form = by_brn[row["business_registration_number"]]
            if row["status"] == "supplement-requested" and "E1" in _rules(row):
                supplement(app_id, form)
                break
        heading("screening: where the call stands")
        final = screened(program["program_id"], set(names))
        by_outcome = Counter(r["status"] for r in final.values())
        print("by outcome: " + ", ".join(f"{k} {v}" for k, v in sorted(by_outcome.items())))
        by_rule = Counter(rule for r in final.values() if r["status"] == "rejected" for rule in _rules(r))
        print("rejected by rule: " + ", ".join(f"{k} {v}" for k, v in sorted(by_rule.items())))
        deadlines = sorted(
            {instant(r["supplement_deadline"]) for r in final.values() if r["status"] == "supplement-requested"}
        )
        print(
            f"supplements still open: {by_outcome.get('supplement-requested', 0)}, deadline {', '.join(deadlines)} "
            "(no supplement by then rejects as incomplete, E6)"
        )
        heading("evaluation: document scores, the committee and its conflicts (F6), scoring")
        budget = evaluate(program, forms, final, names)
        done = execute(program, forms, final, names, budget, execution, starts)
        up, targets, rules = prometheus.report()
        print(f"prometheus {prometheus.url}: {up} of {targets} targets up, {rules} alert rules loaded")
        show_portal(portal, program["program_id"], expert_party=program["support"].get("expert_party", True))
        print(f"\nmain job done: {len(apps)} applications accepted, published and screened; {budget['evaluated']} "
              f"evaluated; {done['agreed']} agreed; {done['reported']} carried out and reported; {done['paid']} paid")
    finally:
        if not args.keep_running:
            for service in services:
                service.stop()
            execution.stop()
            prometheus.stop()
            print("the services, the portal and Prometheus are stopped now: the addresses above answer again with "
                  "`bash deploy/local/main-job.sh --keep-running`")
        else:
            print(f"still running (--keep-running): the portal http://127.0.0.1:{PORTAL_PORT}, the services' /docs "
                  f"and Prometheus {prometheus.url}; `bash deploy/local/status.sh` lists them (each a `python -m "
                  "<service> serve` process to stop when done)")


if __name__ == "__main__":
    main()
