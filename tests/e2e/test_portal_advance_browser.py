"""An advance (선금, I1) and its balance (잔금, I2) in a real browser: the city business agency's sandbox-pilot program
pays half the agreed amount once the agreement is signed and the rest after the report. Intake, contracts, payments
and the portal run as their own processes on the suite's Kafka and PostgreSQL; the company files through its own
system, and its screening and selection arrive on the bus as screening and evaluation publish them (those services'
own pages are the SOS and smart-factory flows of test_portal_browser.py). In Chromium: the two parties sign (the
program names no expert party), the signing notice lands on the advance request, the company asks for it, the
agency's operator decides and pays it, the company reports, files 서식4 and is paid the balance with the advance
deducted — each step on the company's status and timeline, every notice opening a readable page (issue 32)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import httpx
import pytest

from deploy.local.execution_stage import ExecutionServices
from deploy.local.procs import ServiceProcess, intake_env, publish_event
from deploy.sample.evaluation_scenario import screening_passed
from deploy.sample.program_call import demo_program, sample_forms
from sme_programs import ProgramDefinition
from sme_runtime.auth import Role
from sme_schemas.evaluation import ApplicationSelected
from sme_schemas.periods import KST
from tests.e2e.portal_pages import (
    ARTIFACTS, LOGS, PORTAL, PORTS, account, chromium, every_notice_opens, file_subsidy_request, follow_notice,
    portal_settings, shot, sign_in, signing_keys, submit_report, today_in_korea, token,
)
from tests.support import KAFKA, ROOT, TEST_ENV, consumer_groups, screening_groups, start_groups_at_end, wait_for

SANDBOX_PILOT = ROOT / "deploy" / "programs" / "seoul-sba-sandbox-pilot-2022.json"
PROGRAM_ID = "seoul-sba-demo"


@pytest.fixture(scope="module")
def stack(infrastructure, programs_dir, tmp_path_factory):
    from tests.integration.conftest import reset_databases

    reset_databases()
    groups = screening_groups()  # intake's among them
    for service in ("contracts", "payments", "portal"):
        groups.update(consumer_groups(service))
    asyncio.run(start_groups_at_end(groups))  # an earlier run's events are not this run's
    program = demo_program(datetime.now(KST), program_id=PROGRAM_ID, source=SANDBOX_PILOT)
    (programs_dir / f"{PROGRAM_ID}.json").write_text(json.dumps(program, ensure_ascii=False), "utf-8")
    form = sample_forms(program, today_in_korea(), count=1, seed=41)[0]
    programs = f"{ROOT / 'deploy/programs'}:{programs_dir}"
    common = {"kafka": KAFKA, "pg_port": TEST_ENV["SME_PG_PORT"], "programs_path": programs}
    with contextlib.ExitStack() as running:
        keys = running.enter_context(signing_keys(tmp_path_factory.mktemp("keys")))
        portal_env = portal_settings(common, keys, tmp_path_factory.mktemp("uploads"))
        processes = [
            ServiceProcess("intake", "serve", {**intake_env(http_port=PORTS["intake"], **common),
                                               "INTAKE_ENVIRONMENT": "test"},
                           port=PORTS["intake"], log=LOGS / "advance-intake.log"),
            ServiceProcess("portal", "serve", portal_env, port=PORTS["portal"], log=LOGS / "advance-portal.log"),
        ]
        execution = ExecutionServices(kafka=KAFKA, pg_port=TEST_ENV["SME_PG_PORT"], programs=programs,
                                      ports={"contracts": PORTS["contracts"], "payments": PORTS["payments"]},
                                      log_dir=LOGS)
        for p in processes:
            running.callback(p.stop)
            p.start(wait=False)
        for p in processes:
            p.wait_healthy()
        running.callback(execution.stop)
        execution.start()
        brn = form["company"]["business_registration_number"]
        account(portal_env, "company", form["company"]["name"], "pm@pilot.example", brn=brn)
        account(portal_env, "operator", "박담당", "park@sba.example", login="sba-park", agencies=(program["agency"],))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        yield {"program": program, "form": form}


@pytest.fixture(scope="module")
def browser(stack):
    with chromium() as launched:
        yield launched


def file_through_its_own_system(form: dict) -> str:
    brn = form["company"]["business_registration_number"]
    filed = httpx.post(f"http://127.0.0.1:{PORTS['intake']}/applications", json=form,
                       headers={**token(Role.COMPANY, f"company:{brn}", brn=brn), "Idempotency-Key": f"pilot-{brn}"})
    assert filed.status_code == 201, filed.text
    return filed.json()["application_id"]


def screened_and_selected(program: dict, form: dict, application_id: str) -> int:
    """Screening's pass and the round's selection, published as those services publish them; the planned subsidy
    (F4) of the company's plan."""
    now, cost = datetime.now(timezone.utc), form["consulting"]["cost_excluding_vat"]
    passed = screening_passed(program["program_id"], 1, random.Random(41), cost, now)
    company = form["company"]
    facts = passed.facts.model_copy(update={
        "company_name": company["name"], "business_registration_number": company["business_registration_number"],
        "ceo_name": company["ceo_name"]})
    passed = passed.model_copy(update={"application_id": application_id, "facts": facts})
    planned = ProgramDefinition.model_validate(program).support.planned_subsidy(cost)
    selected = ApplicationSelected(program_id=program["program_id"], application_id=application_id, occurred_at=now,
                                   round_id="RND-PILOT-1", selected_at=now, rank=1, planned_subsidy=planned,
                                   via="round-close")
    for event, source in ((passed, "/sme/screening"), (selected, "/sme/evaluation")):
        publish(event, source)
    return planned


def publish(event, source: str) -> None:
    """On a thread of its own: the browser's driver runs an event loop on this one."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, publish_event(event, KAFKA, source=source)).result()


def test_an_advance_is_asked_for_decided_and_paid_and_the_balance_deducts_it_i1_i2(stack, browser, tmp_path):
    program, form = stack["program"], stack["form"]
    percent = program["payment_schedule"]["advance_percent"]
    assert percent > 0, "the sandbox pilot pays an advance"
    brn, name = form["company"]["business_registration_number"], form["company"]["name"]
    company = sign_in(browser, brn)
    application_id = file_through_its_own_system(form)
    application_url = f"{PORTAL}/applications/{application_id}"

    def reached(stage: str) -> bool:
        company.goto(application_url)
        return stage in company.inner_text(".timeline")

    wait_for(lambda: reached("신청 접수"), what="the portal to learn of the application")
    agreed = screened_and_selected(program, form, application_id)
    operator_token = token(Role.OPERATOR, "operator:setup", agencies=(program["agency"],))
    wait_for(lambda: httpx.get(f"http://127.0.0.1:{PORTS['contracts']}/agreements", headers=operator_token).json(),
             what="contracts to draft the agreement")

    # C1: this program's agreement has two parties, the agency and the company (no expert party)
    agreement_url = follow_notice(company, "selected", "pilot-company-selected-notice")
    facts = company.inner_text("dl.facts")
    assert "전문가" not in facts and "이 사업은 정한 횟수가 없습니다" in facts, facts
    company.click("form[action$='/sign'] button")
    company.wait_for_load_state()
    operator = sign_in(browser, "sba-park")
    operator.goto(agreement_url)
    operator.click("form[action$='/sign'] button")
    operator.wait_for_load_state()
    assert "협약 체결" in operator.inner_text("dl.facts")

    # I1: the signing notice lands on the advance request; the company asks for its share into its account
    assert follow_notice(company, "agreement-signed", "pilot-company-signed-notice") == agreement_url
    assert f"협약금액의 {percent}%를 선금으로" in company.inner_text("#advance + form")
    company.fill("#advance-bank", "신한은행")
    company.fill("#advance-number", "110-123-456789")
    company.click("form[action$='/advance-request'] button")
    company.wait_for_load_state()
    advance = agreed * percent // 100
    assert company.locator("#advance").count() == 0  # asked once; the form is gone
    assert re.search(rf"보조금 선금 {advance:,}원 — 지급 예정", company.inner_text("#payments + ul")), \
        company.inner_text("#payments + ul")
    wait_for(lambda: reached("보조금 지급 예정"), what="the advance's PaymentDue on the company's timeline")
    assert company.inner_text("#status").startswith("수행 · 선금 지급 예정")

    # The agency's operator is told of the request, lands on its row, decides the grant (교부결정) and records the
    # payment, in the browser
    assert follow_notice(operator, "payment-due", "pilot-operator-advance-notice").endswith("/operator/payments")
    row = operator.locator("tr", has_text=name).filter(has_text="보조금 선금")
    assert f"{advance:,}원" in row.inner_text()
    row.locator("form.grant button").click()
    operator.wait_for_load_state()
    wait_for(lambda: reached("교부결정"), what="the advance's grant decision on the company's timeline")
    operator.locator("tr", has_text=name).filter(has_text="보조금 선금").locator("form.record button").click()
    operator.wait_for_load_state()
    shot(operator, "pilot-operator-advance-paid")
    wait_for(lambda: reached("지급 완료"), what="the advance's payment on the company's timeline")
    assert company.inner_text("#status") == "수행 · 선금 지급 완료 · 사업 수행 중"
    shot(company, "pilot-company-advance-paid")

    # The report (no minimum of sessions here, C3), accepted; its notice lands on 서식4 for the balance
    submit_report(company, agreement_url, tmp_path)
    operator.goto(agreement_url)
    operator.click("form[action$='/report/accept'] button")
    operator.wait_for_load_state()
    assert follow_notice(company, "report-accepted", "pilot-company-report-accepted-notice") == agreement_url

    # I2: the company proved enough cost for the whole agreed amount (company share 20% of the subsidy included),
    # so the balance is the agreed amount less the advance paid
    share = program["support"]["company_share_percent_of_subsidy"]
    file_subsidy_request(company, agreed * (100 + share) // 100 + 1, tmp_path, bank="신한은행", number="110-123-456789")
    balance = agreed - advance
    assert re.search(rf"보조금 잔금 {balance:,}원 — 지급 예정", company.inner_text("#payments + ul")), \
        company.inner_text("#payments + ul")
    wait_for(lambda: operator.goto(f"{PORTAL}/notifications") and operator.locator(
        "li[data-kind='payment-due']").count() == 2, what="the balance's request notice to the operator")
    follow_notice(operator, "payment-due", "pilot-operator-balance-notice")
    operator.locator("tr", has_text=name).filter(has_text="보조금 잔금").locator("form.grant button").click()
    operator.wait_for_load_state()
    row = operator.locator("tr", has_text=name).filter(has_text="보조금 잔금")
    assert f"{balance:,}원" in row.inner_text()
    row.locator("form.record button").click()
    operator.wait_for_load_state()
    shot(operator, "pilot-operator-balance-paid")

    def paid_in_full() -> bool:
        company.goto(application_url)
        return company.inner_text("#status") == "지급 · 보조금 지급 완료"

    wait_for(paid_in_full, what="the balance's payment as the company's status")
    company.goto(agreement_url)
    paid = company.inner_text("#payments + ul")
    assert f"보조금 선금 {advance:,}원 — 지급 완료" in paid and f"보조금 잔금 {balance:,}원 — 지급 완료" in paid, paid
    shot(company, "pilot-company-paid")
    assert every_notice_opens(company, "company") >= 7  # 접수, 선정, 체결, 선금 예정·교부·지급, 보고 승인, 잔금…
    assert every_notice_opens(operator, "operator") == 2  # the two requests
