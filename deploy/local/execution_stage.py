"""The main job's last stages: agreements, a give-up that promotes the waitlist, the consulting, result reports,
subsidy requests and payments, one payment left overdue, and the program report an operator would recognise.

Consulting takes months; the job compresses them by restarting contracts and payments with their calendars
moved ahead (CONTRACTS_/PAYMENTS_CLOCK_OFFSET_DAYS, refused in production), which also shows that agreements,
sessions and due dates live in the databases and survive a restart."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from deploy.local import polite
from deploy.local.endpoints import CONTRACTS, EVALUATION, KAFKA, LOCAL_DIR, PAYMENTS
from deploy.local.procs import ServiceProcess, service_env
from deploy.local.screening_stage import work_review_queue
from deploy.local.show import heading, pad, width
from deploy.local.waiting import SERVICE_WRITES, Stalled, wait_while_moving
from deploy.sample.evaluation_scenario import EvaluationDesk
from deploy.sample.execution_scenario import ContractsDesk, PaymentsDesk, subsidy_request
from deploy.sample.program_call import cost_at_the_cap
from sme_schemas.periods import local_date

CONSULTING_DAYS = 45  # the calendar moves this far for the consulting (13 sessions, one a day, fit easily)


class ExecutionServices:
    """Contracts and payments processes, each restartable with its calendar moved ahead. `settings` are passed to
    both as <SERVICE>_<NAME> (e.g. {"SWEEP_SECONDS": "1"})."""

    def __init__(self, *, kafka: str, pg_port: str, programs: str, ports: dict[str, int], log_dir,
                 settings: dict[str, str] | None = None) -> None:
        self.kafka, self.pg_port, self.programs, self.ports, self.log_dir = kafka, pg_port, programs, ports, log_dir
        self.settings = {"SWEEP_SECONDS": "1", **(settings or {})}
        self.processes: dict[str, ServiceProcess] = {}
        self.offsets = {service: 0 for service in ports}

    def process(self, service: str) -> ServiceProcess:
        env = service_env(service, kafka=self.kafka, pg_port=self.pg_port, http_port=self.ports[service],
                          programs_path=self.programs)
        prefix = service.upper()
        env.update({f"{prefix}_{name}": value for name, value in self.settings.items()})
        env[f"{prefix}_CLOCK_OFFSET_DAYS"] = str(self.offsets[service])
        return ServiceProcess(service, "serve", env, port=self.ports[service], log=self.log_dir / f"{service}.log")

    def start(self, offset_days: int | None = None) -> list[ServiceProcess]:
        """Both services; with `offset_days` both calendars that far ahead, else each where it was."""
        if offset_days is not None:
            self.offsets = {service: offset_days for service in self.ports}
        self.processes = {s: self.process(s) for s in self.ports}
        for p in self.processes.values():
            p.start(wait=False)
        for p in self.processes.values():
            p.wait_healthy()
        return list(self.processes.values())

    def restart(self, offset_days: int, only: tuple[str, ...] | None = None) -> None:
        for service in only or tuple(self.ports):
            self.offsets[service] = offset_days
            self.processes[service].stop()
            self.processes[service] = self.process(service).start()

    def stop(self) -> None:
        for p in self.processes.values():
            p.stop()


def agreements_drafted(desk: ContractsDesk, program_id: str, budget: dict) -> list[dict]:
    selected = {s["application_id"] for s in budget["selected"]}
    rows = desk.poll(lambda: desk.agreements(program_id),
                     lambda rows: selected <= {a["application_id"] for a in rows}, timeout=60)
    drafted = {a["application_id"] for a in rows}
    if not selected <= drafted:
        raise SystemExit(f"agreements drafted for {len(drafted)} of {len(selected)} selected: "
                         f"missing {sorted(selected - drafted)}")
    # In the companies' order, not the random ids': which one gives up, is paid last … is the same for a --seed
    return sorted(rows, key=lambda a: a["business_registration_number"])


# C5 with G1–G3, E4: an expert named after selection is graded and proven like one named in the application; the
# CV was issued ten days ago in Korea (the services' clock runs at or ahead of the machine's)
NAMED_LATER = {
    "expert_name": "한지정", "expert_affiliation": "김포경영기술지원단",
    "expert_qualification": {"highest_degree": "master", "consulting_years": 10, "licences": []},
    "expert_evidence": [{"document_type": "expert-cv", "file_reference": "docs://contracts/expert-cv-hanjijeong.pdf",
                         "issued_on": (local_date(datetime.now(timezone.utc)) - timedelta(days=10)).isoformat()}],
}


def sign_everything(desk: ContractsDesk, agreements: list[dict], names: dict[str, str]) -> int:
    """The parties sign; an agreement without an expert is completed by amendment first (C5)."""
    signed = 0
    for a in agreements:
        if not a["expert_name"] and "expert" in a["parties"]:
            desk.call("POST", f"/agreements/{a['agreement_id']}/amendments", headers=desk.operator(), json={
                "reason": "참여기업이 선정 후 전문가를 지정하여 협약서에 기재", **NAMED_LATER})
            print(f"  C5 amendment: {names[a['application_id']]} names its expert 한지정 (김포경영기술지원단), "
                  "graded 2 from a master's degree and 10 years of consulting (G1–G3) on a CV (E4)")
        signed += desk.sign_all(a)["status"] == "in-force"
    return signed


def give_up_and_promote(desk: ContractsDesk, evaluation: EvaluationDesk, program_id: str, budget: dict,
                        names: dict[str, str], work_recheck: Callable[[], int]) -> dict:
    """The lowest-ranked selected company with the largest amount gives up; evaluation promotes the waitlist."""
    selected = sorted(budget["selected"], key=lambda s: (-s["planned_subsidy"], -s["rank"]))
    leaving = selected[0]
    aid = f"AGR-{leaving['application_id']}"
    brn = desk.agreement(aid)["business_registration_number"]
    desk.call("POST", f"/agreements/{aid}/give-up", headers=desk.company(brn),
              json={"reason": "대표자 건강 악화로 사업 수행 불가"})
    approved = desk.call("POST", f"/agreements/{aid}/give-up/approve", headers=desk.operator(), json={})
    print(f"{names[leaving['application_id']]} gives up (C6); approved, participation restricted until "
          f"{approved['ended']['restricted_until']} (X10), {leaving['planned_subsidy']:,} KRW freed (F5)")
    before = {s["application_id"] for s in budget["selected"]}

    def after_recheck() -> dict:
        work_recheck()
        return evaluation.budget(program_id)

    def newly_selected(now: dict) -> list[dict]:
        return [s for s in now["selected"] if s["application_id"] not in before]

    try:
        now = wait_while_moving(after_recheck, lambda b: bool(newly_selected(b)) and not b["rechecking"],
                                what="the waitlist promotion", signals=(SERVICE_WRITES,), interval=0.5)
    except Stalled:
        now = evaluation.budget(program_id)
    promoted = newly_selected(now)
    if not promoted and budget["waitlist"]:
        raise SystemExit(f"the give-up promoted nobody from the waitlist: {now}")
    for p in promoted:
        print(f"  waitlist → selected: {names[p['application_id']]} (rank {p['rank']}, "
              f"{p['planned_subsidy']:,} KRW) after its own X11 re-check")
    return now


def consult_and_report(desk: ContractsDesk, agreements: list[dict], today, names: dict[str, str]) -> int:
    """Every agreement in force: the sessions logged by expert and company, the result report, the review."""
    sessions = 0
    in_force = [a for a in agreements if desk.agreement(a["agreement_id"])["status"] == "in-force"]
    for a in in_force:
        sessions += desk.log_sessions(a, today)
    first = in_force[0]
    desk.submit_report(first)
    desk.call("POST", f"/agreements/{first['agreement_id']}/report/return", headers=desk.operator(),
              json={"reasons": ["컨설팅비 지급 증빙(계좌이체확인증) 누락"]})
    print(
        f"  C8: {names[first['application_id']]}'s report returned: "
        "컨설팅비 지급 증빙(계좌이체확인증) 누락; resubmitted"
    )
    for a in in_force:
        desk.submit_report(a)
        desk.call("POST", f"/agreements/{a['agreement_id']}/report/accept", headers=desk.operator())
    terms = desk.agreement(first["agreement_id"])
    required = (f"{terms['minimum_sessions']} on-site with photos + {terms['follow_up_sessions']} follow-up each"
                if terms["minimum_sessions"] or terms["follow_up_sessions"] else
                "the program's terms require none: a build paid by its quote")
    print(f"{sessions} sessions logged for {len(in_force)} agreements ({required}, C3); {len(in_force)} result "
          "reports accepted (C8 → ReportAccepted)")
    return len(in_force)


def pay_advances(pay: PaymentsDesk, desk: ContractsDesk, agreements: list[dict], names: dict[str, str]) -> list[dict]:
    """I1: every company in force requests its advance (선금) and the center pays it."""
    paid = []
    for n, a in enumerate(agreements):
        if desk.agreement(a["agreement_id"])["status"] != "in-force":
            continue
        form = {"application_id": a["application_id"], "account": {
            "bank": "농협은행", "number": f"301-{n:04d}-5678-{n % 90 + 10}", "holder": a["company_name"]}}
        response = pay.poll(lambda: pay.http.post("/advance-requests", headers=pay.company(
            a["business_registration_number"]), json=form), lambda r: r.status_code != 404, timeout=30)
        if response.status_code != 201:
            raise SystemExit(f"advance request of {names[a['application_id']]}: {response.status_code} "
                             f"{response.text}")
        paid.append(pay.record(pay.decide_grant(response.json())))
    print(f"{len(paid)} advances requested, decided and paid: {sum(p['amount'] for p in paid):,} KRW (PaymentDue "
          "with instalment advance, GrantDecided, then PaymentRecorded)")
    return paid


def request_subsidies(pay: PaymentsDesk, desk: ContractsDesk, agreements: list[dict], costs: dict[str, int],
                      names: dict[str, str], program: dict, advanced: set[str]) -> tuple[list[dict], int]:
    """Each company files 서식4 with what it proved it paid (C4); one proves 10% more than the cost at the cap.
    Where the program paid advances, one proves a quarter of its plan: its advance exceeds the subsidy and the
    excess is recovered (I2). Returns the requests and how many recovered an excess advance."""
    completed = [a for a in agreements if desk.agreement(a["agreement_id"])["status"] == "completed"]
    cap = program["support"]["cap"]
    # at the cap if any agreement is (the give-up may have taken it), else the largest
    boundary = next((a for a in completed if a["agreed_amount"] == cap),
                    max(completed, key=lambda a: a["agreed_amount"], default=None))
    at_the_cap = cost_at_the_cap(program) * 11 // 10 * 11 // 10  # VAT on the cost at the cap, then 10% over
    # not the last (left unpaid), not the one at the cap, one that was paid an advance
    short = next((a for a in reversed(completed[:-1]) if a is not boundary and a["application_id"] in advanced),
                 None)
    filed: list[dict] = []
    for n, a in enumerate(completed):
        app = a["application_id"]
        planned = costs[app] + costs[app] // 10
        proven = at_the_cap if a is boundary else planned // 4 if a is short else planned
        form = subsidy_request(app, a["company_name"], proven, account=f"301-{n:04d}-5678-{n % 90 + 10}")
        response = pay.poll(lambda: pay.http.post("/subsidy-requests", headers=pay.company(
            a["business_registration_number"]), json=form), lambda r: r.status_code != 404, timeout=30)
        if response.status_code != 201:
            raise SystemExit(f"subsidy request of {names[app]}: {response.status_code} {response.text}")
        request = response.json()
        if request["status"] == "due" and not any(p.get("returns") for p in filed):
            request = returned_and_filed_again(pay, request, a, form, names[app])
        filed.append(request)
    if boundary:
        b = next(p for p in filed if p["application_id"] == boundary["application_id"])["breakdown"]
        print(f"  P2 over the cap: {names[boundary['application_id']]} proved {b['proven_cost_including_vat']:,} incl. "
              f"VAT → subsidy {b['subsidy']:,}, company share {b['company_share']:,}")
    for p in filed:
        b = p["breakdown"]
        if not b["advance_deducted"]:
            continue
        line = (f"  I2: {names[p['application_id']]} subsidy {b['subsidy']:,} − advance deducted "
                f"{b['advance_deducted']:,} = balance {p['amount']:,}")
        if a_short(p, short):
            advance = pay.call("GET", f"/payments/PAY-ADV-{p['application_id']}", headers=pay.operator())
            line += (f"; the advance of {advance['amount']:,} was more: {advance['clawback_amount']:,} demanded "
                     "back (SubsidyClawedBack)")
        print(line)
    recovered = sum(1 for p in filed if a_short(p, short))
    print(f"{len(filed)} subsidy requests filed (P1); PaymentDue on the bus for each balance owed, due 30 days "
          "after receipt (P3)")
    return filed, recovered


def returned_and_filed_again(pay: PaymentsDesk, request: dict, agreement: dict, form: dict, name: str) -> dict:
    """P3 with 서식4: the first request comes without its tax invoice; the center returns it with the reason and
    the company files it again complete — the 30 days count from that receipt, not the first."""
    returned = pay.return_request(request, ["세금계산서 사본이 첨부되지 않았습니다"])
    again = pay.file(form, agreement["business_registration_number"])
    print(f"  P3: {name}'s request returned ({returned['returned_reasons'][0]}, SubsidyRequestReturned); filed "
          f"again complete on {again['request_received_on']}, due {again['due_on']}")
    return {**again, "returns": 1}


def recover_clawbacks(pay: PaymentsDesk, program_id: str, names: dict[str, str]) -> int:
    """C7/P4, I2, I3: a clawback is demanded with a due date (SubsidyClawedBack); the money comes back and the
    center records it, which is when the ledger counts it recovered (ClawbackRecovered)."""
    owed = [p for p in pay.payments(program_id) if (p["clawback_amount"] or 0) > p["recovered_amount"]]
    for p in owed:
        back = pay.call("POST", f"/payments/{p['payment_id']}/recoveries", headers=pay.operator(),
                        json={"amount": p["clawback_amount"] - p["recovered_amount"]})
        print(f"  환수: {names.get(p['application_id'], p['application_id'])} repaid {back['recovered_amount']:,} KRW "
              f"demanded back by {back['recovery_due_on']} (ClawbackRecovered)")
    return len(owed)


def a_short(payment: dict, short: dict | None) -> bool:
    return short is not None and payment["application_id"] == short["application_id"]


def pay_allowances(pay: PaymentsDesk, program_id: str) -> list[dict]:
    """F7/P5: the evaluators are paid soon after the round closes."""
    due = pay.wait_for_payments(program_id, lambda ps: any(p["purpose"] == "evaluator-allowance" for p in ps))
    paid = [pay.record(p) for p in due if p["purpose"] == "evaluator-allowance" and p["status"] == "due"]
    print(f"{len(paid)} evaluator allowances paid (F7, P5): {sum(p['amount'] for p in paid):,} KRW "
          f"(PaymentDue at the close, PaymentRecorded now)")
    return paid


def pay_all_but_one(pay: PaymentsDesk, filed: list[dict], names: dict[str, str]) -> dict:
    """The center pays every subsidy but the last request filed."""
    decided = [pay.decide_grant(p) for p in filed if p["status"] == "due"]
    print(f"{len(decided)} grants decided and notified (교부결정 통지, GrantDecided)")
    *paying, unpaid = filed
    paid = [pay.record(p) for p in paying]
    print(f"{len(paid)} subsidies paid (PaymentRecorded): {sum(p['amount'] for p in paid):,} KRW; left unpaid: "
          f"{names[unpaid['application_id']]} {unpaid['amount']:,} KRW due {unpaid['due_on']}")
    return unpaid


def days_until_overdue(unpaid: dict, now: datetime) -> int:
    """How far ahead payments' calendar must be for the unpaid request to be overdue: the day after its due date.
    Not a fixed 31 days: P3's 30 days end on the next working day when they end on a weekend or a holiday, so
    the due date moves with the day the demo runs (on 2026-12-06 it fell on 2027-02-22, 32 days after filing)."""
    return (date.fromisoformat(unpaid["due_on"]) - local_date(now)).days + 1


def overdue_after_restart(services: ExecutionServices, pay: PaymentsDesk, program_id: str, unpaid: dict,
                          metrics_url: str, ahead: int) -> dict:
    """Payments restarted with its calendar `ahead` days on (days_until_overdue): the unpaid request overdue."""
    services.restart(ahead, only=("payments",))
    rows = pay.wait_for_payments(program_id, lambda ps: any(p["overdue"] for p in ps), timeout=30)
    overdue = [p for p in rows if p["overdue"]]
    if [p["payment_id"] for p in overdue] != [unpaid["payment_id"]]:
        raise SystemExit(f"expected exactly {unpaid['payment_id']} overdue, got {[p['payment_id'] for p in overdue]}")
    gauge = next(line for line in polite.get(metrics_url, follow_redirects=True).text.splitlines()
                 if line.startswith('sme_payments_open{') and 'overdue="true"' in line and 'subsidy' in line)
    detected = local_date(datetime.fromisoformat(overdue[0]["overdue_at"]))
    print(f"payments restarted with its calendar {ahead - CONSULTING_DAYS} more days on: PaymentOverdue for "
          f"{unpaid['payment_id']} (due {unpaid['due_on']}, raised on {detected} KST, the day after)")
    print(f"  metric {gauge}")
    return overdue[0]


def program_report(desk: ContractsDesk, pay: PaymentsDesk, program_id: str, names: dict[str, str],
                   ranks: dict[str, int]) -> list[str]:
    """Selected companies, their agreements, sessions, amounts agreed, paid and still due."""
    instalments: dict[str, list[dict]] = {}
    for p in pay.payments(program_id):
        if p["purpose"] == "subsidy":
            instalments.setdefault(p["application_id"], []).append(p)
    lines = [f"{'rank':>4}  {pad('company', 18)} {'agreement':<10} {'sessions':>9} {'agreed':>11} {'paid':>11} "
             f"{'due':>11}  due on / note"]
    totals: Counter[str] = Counter()
    for a in sorted(desk.agreements(program_id), key=lambda a: ranks.get(a["application_id"], 999)):
        view, ps = desk.agreement(a["agreement_id"]), instalments.get(a["application_id"], [])
        held = view["sessions_held"]
        # what was paid, net of what came back of a clawback (I2's excess advance), as the ledger counts it
        paid = sum(p["amount"] - p["recovered_amount"] for p in ps if p["status"] == "paid")
        due_ones = [p for p in ps if p["status"] == "due"]
        due = sum(p["amount"] for p in due_ones)
        p = due_ones[0] if due_ones else max(ps, key=lambda p: p["paid_on"] or "", default={})
        ended = view["status"] in ("given-up", "terminated")
        # An ended agreement's amount was released (F5): it is no longer agreed, and the column adds up to its total
        agreed = 0 if ended else a["agreed_amount"]
        note = (f"{p['due_on']}{' OVERDUE' if p['overdue'] else ''}" if due else
                f"paid {p['paid_on']}" if paid else
                f"{a['agreed_amount']:,} released; restricted until {view['ended']['restricted_until']}"
                if view["status"] == "given-up" else f"{a['agreed_amount']:,} released" if ended else "")
        totals.update(agreed=agreed, paid=paid, due=due)
        lines.append(f"{ranks.get(a['application_id'], 0):>4}  {pad(names[a['application_id']], 18)} "
                     f"{view['status']:<10} {held['on-site']:>4}+{held['follow-up']:<4} {agreed:>11,} "
                     f"{paid:>11,} {due:>11,}  {note}")
    lines.append(f"{'':>4}  {pad('total', 18)} {'':<10} {'':>9} {totals['agreed']:>11,} {totals['paid']:>11,} "
                 f"{totals['due']:>11,}")
    allowances = [p for p in pay.payments(program_id) if p["purpose"] == "evaluator-allowance"]
    lines.append(f"evaluator allowances: {len(allowances)} evaluators, "
                 f"{sum(p['amount'] for p in allowances if p['status'] == 'paid'):,} KRW paid, "
                 f"{sum(p['amount'] for p in allowances if p['status'] == 'due'):,} KRW due")
    return lines


def _answers(n: int) -> tuple[dict, dict]:
    """A company's survey and 6-month outcome answers (M1), varied by its number."""
    survey = {"overall": 5 - n % 2, "expert": 4 + (n % 3 == 0), "usefulness": 3 + n % 3, "center": 5}
    applied, won = n % 3 != 2, n % 3 == 0
    outcome = {"applied-to-government-call": applied, "won-government-call": won,
               "government-funding-krw": 50_000_000 * (n + 1) if won else 0, "new-hires": n % 4,
               "notes": "컨설팅 결과를 반영해 공정 표준서를 개정함" if n % 2 else ""}
    return survey, outcome


def _wait_reminded(desk: ContractsDesk, agreements: list[dict], kind: str, reminder: str, count: int) -> int:
    field = "overdue" if reminder == "overdue" else "due_soon"

    def reminded(views: list[dict]) -> int:
        return sum(1 for v in views for f in v["owed"] if f["kind"] == kind and f["reminded"][field])

    views = desk.poll(lambda: [desk.call("GET", f"/agreements/{a['agreement_id']}/follow-ups",
                                         headers=desk.operator()) for a in agreements],
                      lambda views: reminded(views) >= count, timeout=60)
    if reminded(views) != count:
        raise SystemExit(f"{reminded(views)} {reminder} reminders of {kind}, expected {count}")
    return count


def follow_up_stage(services: ExecutionServices, desk: ContractsDesk, agreements: list[dict], names: dict[str, str],
                    offset_days: int, accepted_on) -> tuple[int, int]:
    """사후관리 (M1–M2): the companies answer the survey but one, which is reminded when it passes its due date;
    then, months on, every company is reminded of its 6-month outcome report before it is due and answers it.
    Returns (reminders, answers) for the bus check."""
    done = [a for a in agreements if desk.agreement(a["agreement_id"])["status"] == "completed"]
    owed = desk.call("GET", f"/agreements/{done[0]['agreement_id']}/follow-ups", headers=desk.operator())["owed"]
    print("each completed company owes: " + ", ".join(f"{f['kind']} by {f['due_on']}" for f in owed)
          + " (M1: the survey within 30 days, outcome reports at 6 and 12 months, a year at most)")
    *answering, silent = done
    for n, a in enumerate(answering):
        desk.call("POST", f"/agreements/{a['agreement_id']}/follow-ups/survey",
                  headers=desk.company(a["business_registration_number"]), json={"answers": _answers(n)[0]})
    print(f"{len(answering)} satisfaction surveys answered (FollowUpSubmitted); {names[silent['application_id']]} "
          "does not answer")
    survey_due = next(f["due_on"] for f in owed if f["kind"] == "survey")
    days = (date.fromisoformat(survey_due) - accepted_on).days + 1
    services.restart(offset_days + days, only=("contracts",))
    reminders = _wait_reminded(desk, [silent], "survey", "overdue", 1)
    print(f"contracts restarted {days} days on: FollowUpReminder (overdue) for {names[silent['application_id']]}'s "
          f"survey, due {survey_due} (M2)")
    six = next(f["due_on"] for f in owed if f["kind"] == "outcome-6m")
    days = (date.fromisoformat(six) - accepted_on).days - 3
    services.restart(offset_days + days, only=("contracts",))
    reminders += _wait_reminded(desk, done, "outcome-6m", "due-soon", len(done))
    for n, a in enumerate(done):
        desk.call("POST", f"/agreements/{a['agreement_id']}/follow-ups/outcome-6m",
                  headers=desk.company(a["business_registration_number"]), json={"answers": _answers(n)[1]})
    print(f"contracts restarted {days} days after the reports: {len(done)} FollowUpReminder (due-soon) for the "
          f"6-month outcome reports due {six}; all {len(done)} answered")
    return reminders, len(answering) + len(done)


def follow_up_report(desk: ContractsDesk, program_id: str) -> list[str]:
    """M3: the program's follow-up as contracts reports it."""
    r = desk.call("GET", f"/programs/{program_id}/follow-up", headers=desk.operator())
    survey = r["survey"]
    lines = [f"{r['companies']} companies as of {r['as_of']}: survey {survey['answered']} of {survey['owed']} "
             f"answered, {survey['overdue']} overdue; means "
             + ", ".join(f"{k} {v}" for k, v in survey["mean"].items())]
    for kind in (k for k in r if k.startswith("outcome-")):
        line = r[kind]
        lines.append(f"{kind}: {line['answered']} of {line['owed']} answered, {line['overdue']} overdue; "
                     + ", ".join(f"{k} {v:,}" for k, v in line["answers"].items()))
    return lines


def settlement_report(pay: PaymentsDesk, program_id: str) -> list[str]:
    """L4: the program's settlement by funding source, as payments reports it; the job stops if it does not
    balance."""
    report = pay.call("GET", f"/programs/{program_id}/settlement", headers=pay.operator())
    columns = ("budget", "committed", "released", "paid", "clawed_back", "outstanding", "unspent")
    rows = [*report["sources"], {"source": "", "title": "total", **report["total"]}]
    titled = [(f"{row['title']} {row['source']}".strip(), row) for row in rows]
    first = max(26, *(width(title) + 1 for title, _ in titled))  # a source's whole title, never cut
    lines = [f"{pad('source', first)}" + "".join(f"{c.replace('_', ' '):>14}" for c in columns)]
    for title, row in titled:
        lines.append(pad(title, first) + "".join(f"{row[c]:>14,}" for c in columns))
    lines.append(f"ledger against the payments: paid {report['total']['paid']:,} = {report['paid_recorded']:,}, "
                 f"clawed back {report['total']['clawed_back']:,} = {report['clawed_back_recorded']:,}; "
                 f"budget {report['total']['budget']:,} = net spent {report['total']['net_spent']:,} + outstanding "
                 f"{report['total']['outstanding']:,} + unspent {report['total']['unspent']:,}: "
                 + ("balanced" if report["balanced"] else "NOT BALANCED"))
    if not report["balanced"]:
        raise SystemExit("the settlement does not balance: " + "; ".join(report["problems"]))
    return lines


def service_today(offset_days: int, now) -> object:
    """The calendar day contracts and payments see with their calendars `offset_days` ahead."""
    return local_date(now) + timedelta(days=offset_days)


async def bus_counts(starts: dict, program_id: str, kafka: str) -> Counter:
    """How many of each contracts and payments event the bus carries for this program."""
    from deploy.local.procs import end_offsets, read_topic
    from sme_schemas import unwrap

    counts: Counter[str] = Counter()
    for cls, start in starts.items():
        ends = await end_offsets(cls.topic(), kafka)
        total = sum(end - start.get(p, 0) for p, end in ends.items())
        for record in await read_topic(cls.topic(), kafka, start, timeout=30, until=lambda rs: len(rs) >= total):
            _, event = unwrap(record.headers, record.value, expected=cls)
            counts[cls.__name__] += event.program_id == program_id
    return counts


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
    repaid = recover_clawbacks(pay, pid, names)
    unpaid = pay_all_but_one(pay, [p for p in filed if p["status"] == "due"], names)
    ahead = days_until_overdue(unpaid, now)
    heading(f"{ahead - CONSULTING_DAYS} days later: the unpaid request passes its due date (P3)")
    overdue_after_restart(execution, pay, pid, unpaid, f"{PAYMENTS}/metrics/", ahead)
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
            # P3: one request returned (SubsidyRequestReturned) and filed again (a second PaymentDue); every grant
            # decided (교부결정) before it is paid
            "PaymentDue": advances + balances + allowances + 1, "SubsidyRequestReturned": 1,
            "GrantDecided": advances + balances, "PaymentRecorded": advances + balances - 1 + allowances,
            # I3: the company that gave up had been paid its advance, and returns it; each demand is repaid
            "PaymentOverdue": 1, "SubsidyClawedBack": recovered + (1 if advances else 0), "ClawbackRecovered": repaid,
            "FollowUpReminder": reminders, "FollowUpSubmitted": answers,
            "ReportReturned": 1}  # C8: one report is returned once, then accepted
    wrong = {k: (counts[k], v) for k, v in want.items() if counts[k] != v}
    if wrong:
        raise SystemExit(f"events on the bus differ from what was done (seen, expected): {wrong}")
    paid = {p["application_id"] for p in pay.payments(pid) if p["purpose"] == "subsidy" and p["status"] == "paid"
            and p.get("instalment") != "advance"}
    return {"agreed": len(agreements), "reported": reported, "paid": len(paid)}
