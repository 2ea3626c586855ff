"""The execution of a selected company's project, as its parties and the center's operators do it over HTTP:
signing the agreement (C1), the consulting logged session by session (C3), the result report (C8), the subsidy
request (서식4, P1) and the payment (P3). Used by the main job and the tests."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from deploy.sample.desk import Desk
from sme_runtime.auth import Role

PHOTOS = ["photo/site-{day}-a.jpg", "photo/site-{day}-b.jpg"]


def session_plan(term_start: date, today: date, minimum: int, follow_up: int, *, hours: int = 3) -> list[dict]:
    """One on-site session a day from the term's start, then the follow-ups; never after today (a log records a
    session held)."""
    days = [term_start + timedelta(days=n) for n in range(minimum + follow_up)]
    if days and days[-1] > today:
        raise ValueError(f"{len(days)} sessions from {term_start} need the calendar to reach {days[-1]} (today "
                         f"{today})")
    plan = [{"held_on": d.isoformat(), "hours": hours, "kind": "on-site", "place": "본사 생산현장",
             "notes": f"{n + 1}회차 현장 컨설팅: 공정 진단, 개선 과제 도출 및 실행 점검",
             "photo_refs": [p.format(day=d.isoformat()) for p in PHOTOS]} for n, d in enumerate(days[:minimum])]
    plan += [{"held_on": d.isoformat(), "hours": 2, "kind": "follow-up", "place": "본사 회의실",
              "notes": f"사후관리 {n + 1}회차: 개선 결과 확인", "photo_refs": []}
             for n, d in enumerate(days[minimum:])]
    return plan


def subsidy_request(application_id: str, company_name: str, proven_cost: int, *, account: str,
                    received_on: date | None = None) -> dict[str, Any]:
    form = {"application_id": application_id, "proven_cost_including_vat": proven_cost,
            "documents": {k: f"docs/{application_id}/{k.removesuffix('_ref')}.pdf" for k in (
                "quote_ref", "transaction_statement_ref", "tax_invoice_ref", "deposit_receipt_ref",
                "bankbook_copy_ref")},
            "account": {"bank": "농협은행", "number": account, "holder": company_name}}
    if received_on:
        form["received_on"] = received_on.isoformat()
    return form


class ContractsDesk(Desk):
    """The center's operators, the companies and their experts at the contracts service."""

    def expert(self, brn: str) -> dict[str, str]:
        """The expert's token names the engagement: the business number of the company that engaged them (C9)."""
        return self._as(Role.EXPERT, f"expert:{brn}", brn)

    def agreements(self, program_id: str) -> list[dict]:
        return self.call("GET", f"/agreements?program_id={program_id}", headers=self.operator())

    def wait_for_agreements(self, program_id: str, count: int, timeout: float = 60) -> list[dict]:
        return self.poll(lambda: self.agreements(program_id), lambda rows: len(rows) >= count, timeout)

    def agreement(self, agreement_id: str) -> dict:
        return self.call("GET", f"/agreements/{agreement_id}", headers=self.operator())

    def sign_all(self, agreement: dict) -> dict:
        """Company, expert (where the program's agreement has one), then the center: the last signature puts it
        in force (C1)."""
        brn = agreement["business_registration_number"]
        signers = [self.company(brn)] + ([self.expert(brn)] if "expert" in agreement["parties"] else [])
        view = {}
        for headers in (*signers, self.operator()):
            view = self.call("POST", f"/agreements/{agreement['agreement_id']}/signatures", headers=headers)
        return view

    def log_sessions(self, agreement: dict, today: date) -> int:
        brn, view = agreement["business_registration_number"], self.agreement(agreement["agreement_id"])
        plan = session_plan(date.fromisoformat(view["term_start"]), today, view["minimum_sessions"],
                            view["follow_up_sessions"])
        for n, entry in enumerate(plan):
            who = self.company(brn) if n % 2 else self.expert(brn)
            self.call("POST", f"/agreements/{agreement['agreement_id']}/sessions", headers=who, json=entry)
        return len(plan)

    def submit_report(self, agreement: dict) -> dict:
        aid = agreement["agreement_id"]
        return self.call("POST", f"/agreements/{aid}/report", headers=self.company(agreement[
            "business_registration_number"]), json={"report_ref": f"reports/{aid}/result.pdf",
                                                     "log_refs": [f"reports/{aid}/logs.pdf"],
                                                     "fee_evidence_refs": [f"reports/{aid}/fee-receipt.pdf"]})


class PaymentsDesk(Desk):
    """Companies filing subsidy requests and operators recording payments at the payments service."""

    def payments(self, program_id: str) -> list[dict]:
        return self.call("GET", f"/payments?program_id={program_id}", headers=self.operator())

    def wait_for_payments(self, program_id: str, done, timeout: float = 60) -> list[dict]:
        return self.poll(lambda: self.payments(program_id), done, timeout)

    def file(self, form: dict, brn: str | None = None, *, expect: tuple[int, ...] = (201,)) -> dict:
        """A company files its own (brn) or an operator enters one received on paper (brn None)."""
        return self.call("POST", "/subsidy-requests", headers=self.company(brn) if brn else self.operator(),
                         json=form, expect=expect)

    def decide_grant(self, payment: dict) -> dict:
        """교부결정 통지: the complete request checked, the grant decided and notified before the payment."""
        return self.call("POST", f"/payments/{payment['payment_id']}/grant-decision", headers=self.operator())

    def return_request(self, payment: dict, reasons: list[str]) -> dict:
        """P3: a deficient 서식4 back to the company; its days stop until it is filed complete."""
        return self.call("POST", f"/payments/{payment['payment_id']}/return", headers=self.operator(),
                         json={"reasons": reasons})

    def record(self, payment: dict, paid_on: date | None = None) -> dict:
        body = {"amount": payment["amount"], **({"paid_on": paid_on.isoformat()} if paid_on else {})}
        return self.call("POST", f"/payments/{payment['payment_id']}/record", headers=self.operator(), json=body)
