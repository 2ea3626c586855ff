"""The center staff's pages: the manual-review queue and its rulings, the lookups waiting per registry, rounds
(committee, closing with its progress, the ranking table), agreements and reports, payments due and overdue, dead
letters of every service, and the program report as a page, CSV and XLSX."""
from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from portal import forms, labels, report as program_report, store
from portal.services import Person, ServiceUnavailable, Services
from sme_runtime.routes import Transactions
from portal.web import (
    Jobs, now, PortalServices, posted, render, see_other, services_of, signed_in, Tables, User,
)
from sme_schemas.catalog import SERVICES as CATALOG_SERVICES

router = APIRouter()
log = logging.getLogger("portal.operator")
SERVICES = tuple(s for s in CATALOG_SERVICES if s != "portal")  # the services whose dead letters operators see
RECHECK_WAIT_SECONDS = 180


@router.get("/operator")
async def overview(request: Request, services: PortalServices) -> Response:
    user = await signed_in(request, "operator")
    reviews = await services.get(user.person, "screening", "/reviews")
    waiting = await services.get(user.person, "screening", "/lookups/waiting")
    payments = await services.get(user.person, "payments", "/payments")
    dead = {s: len(await services.get(user.person, s, "/dead-letters")) for s in SERVICES}
    return await render(request, "operator.html", reviews=reviews, waiting=waiting, dead=dead,
                        due=[p for p in payments if p["status"] == "due"],
                        overdue=[p for p in payments if p["status"] == "due" and p["overdue"]],
                        programs=await services.programs(user.person))


# --- screening ----------------------------------------------------------------------------------------------

@router.get("/operator/reviews")
async def reviews(request: Request) -> Response:
    return await _reviews_page(request, await signed_in(request, "operator"), {})


async def _reviews_page(request: Request, user: User, errors: dict, status_code: int = 200) -> Response:
    found = await services_of(request).get(user.person, "screening", "/reviews")
    return await render(request, "reviews.html", status_code, reviews=found, errors=errors)


@router.post("/operator/reviews/{application_id}/ruling")
async def ruling(request: Request, services: PortalServices, application_id: str) -> Response:
    user, form = await posted(request, "operator")
    body = {"decision": str(form.get("decision", "")), "reason": str(form.get("reason", "")).strip(),
            "purpose": str(form.get("purpose", "screening"))}
    answer = await services.call(user.person, "screening", "POST", f"/reviews/{application_id}/rulings", json=body)
    if answer.ok:
        return see_other("/operator/reviews")
    return await _reviews_page(request, user, {application_id: forms.field_errors(answer.problems)}, 422)


# --- rounds -------------------------------------------------------------------------------------------------

@router.get("/operator/rounds")
async def rounds(request: Request, services: PortalServices) -> Response:
    user = await signed_in(request, "operator")
    programs = await services.programs(user.person)
    return await render(request, "rounds.html", rounds=await services.get(user.person, "evaluation", "/rounds"),
                        programs=programs, program_names=_names(programs), problems=[])


def _names(programs: list[dict]) -> dict[str, str]:
    return {p["program_id"]: p["name"] for p in programs}


@router.post("/operator/rounds")
async def open_round(request: Request, services: PortalServices) -> Response:
    user, form = await posted(request, "operator")
    body = {"program_id": str(form.get("program_id", "")), "call_id": str(form.get("call_id", "")).strip() or None}
    answer = await services.call(user.person, "evaluation", "POST", "/rounds", json=body)
    if answer.ok:
        return see_other(f"/operator/rounds/{answer.body['round_id']}")
    programs = await services.programs(user.person)
    return await render(request, "rounds.html", 422, rounds=await services.get(user.person, "evaluation", "/rounds"),
                        programs=programs, program_names=_names(programs),
                        problems=[forms.field_errors(answer.problems)])


@router.get("/operator/rounds/{round_id}")
async def round_page(request: Request, round_id: str) -> Response:
    return await _round_page(request, round_id, [])


async def _round_page(request: Request, round_id: str, problems: list, status_code: int = 200) -> Response:
    user = await signed_in(request, "operator")
    services: Services = services_of(request)
    found = await services.get(user.person, "evaluation", f"/rounds/{round_id}")
    pool = await services.get(user.person, "evaluation", "/evaluators")
    ranked = sorted((a for a in found["applications"] if a.get("rank")), key=lambda a: a["rank"])
    names = _names(await services.programs(user.person))
    # Evaluators by name, as staff call them (issue 32: ids stood beside the names)
    evaluators = {e["evaluator_id"]: e["name"] for e in pool} | {m["evaluator_id"]: m["name"]
                                                                 for m in found["committee"]}
    return await render(request, "round.html", status_code, round=found, pool=pool, ranked=ranked,
                        evaluators=evaluators, problems=problems,
                        round_name=labels.round_name(round_id, found["program_id"], names))


@router.post("/operator/rounds/{round_id}/committee")
async def seat_committee(request: Request, services: PortalServices, round_id: str) -> Response:
    user, form = await posted(request, "operator")
    members = [{"evaluator_id": key.removeprefix("seat."), "role": str(value)} for key, value in form.items()
               if key.startswith("seat.") and value in ("chair", "member", "secretary")]
    answer = await services.call(user.person, "evaluation", "PUT", f"/rounds/{round_id}/committee",
                                                   json={"members": members})
    if answer.ok:
        return see_other(f"/operator/rounds/{round_id}")
    return await _round_page(request, round_id, [forms.field_errors(answer.problems)], 422)


@router.post("/operator/rounds/{round_id}/close")
async def close_round(request: Request, services: PortalServices, tables: Tables, jobs: Jobs,
                      round_id: str) -> Response:
    """Closing runs as a job: ranking and selection (F1–F4), then the X11 re-checks of the selected, which take
    as long as the registries do. The page that follows shows each step."""
    user, _ = await posted(request, "operator")
    job_id = "job_" + secrets.token_urlsafe(12)
    async with tables.writing() as db:
        await db.start_job(job_id=job_id, kind="close-round", title=f"{round_id} 심사 마감",
                           account_id=user.account_id, at=now())
        await db.job_step(job_id, f"{user.display_name}님이 마감을 시작했습니다", now())
    task = asyncio.create_task(_close(services, tables, user.person, round_id, job_id))
    jobs.add(task)
    task.add_done_callback(jobs.discard)
    return see_other(f"/operator/jobs/{job_id}")


async def _close(services: Services, tables: Transactions[store.PortalStore], person: Person, round_id: str,
                 job_id: str) -> None:
    async def step(text: str, status: str | None = None, link: str | None = None) -> None:
        async with tables.writing() as db:
            await db.job_step(job_id, text, now(), status=status, link=link)

    link = f"/operator/rounds/{round_id}"
    try:
        before = await services.get(person, "evaluation", f"/rounds/{round_id}")
        if before["close_blocked_by"]:
            reasons = "; ".join(forms.close_reasons(before))
            await step(f"마감할 수 없습니다: {reasons}", "failed", link)
            return
        await step(f"평가 {len(before['applications'])}건의 점수를 모아 순위를 계산합니다")
        answer = await services.call(person, "evaluation", "POST", f"/rounds/{round_id}/close")
        if not answer.ok:
            reasons = "; ".join(forms.plain_message(p["message"]) for p in answer.problems)
            await step(f"마감하지 못했습니다: {reasons}", "failed", link)
            return
        await step(f"예산 안에서 선정 후보를 정했습니다: {_counts(answer.body)}")
        said = None
        for _ in range(RECHECK_WAIT_SECONDS):
            current = await services.get(person, "evaluation", f"/rounds/{round_id}")
            rechecking = {a["application_id"] for a in current["applications"] if a["status"] == "rechecking"}
            if not rechecking:
                await step(f"선정 전 재확인(제재·중복·신용)이 끝났습니다: {_counts(current)}", "done", link)
                return
            queued = {r["application_id"] for r in await services.get(person, "screening", "/reviews")
                      if r["purpose"].startswith("recheck") and r["application_id"] in rechecking}
            if queued == rechecking:  # only people can move it now: say where, and stop watching
                await step(f"선정 전 재확인 {len(queued)}건은 담당자 판단이 필요합니다. 검토 대기 화면에서 판단하면 "
                           f"선정이 확정됩니다: {_counts(current)}", "done", "/operator/reviews")
                return
            if said != (len(rechecking), len(queued)):
                said = (len(rechecking), len(queued))
                await step(f"선정 전 재확인(제재·중복·신용) 결과를 기다립니다: {len(rechecking)}건 남음"
                           + (f" (그중 {len(queued)}건은 담당자 검토 대기)" if queued else ""))
            await asyncio.sleep(1)
        await step("재확인 결과가 아직 오지 않았습니다. 외부 조회 대기 화면을 확인하세요", "failed", link)
    except ServiceUnavailable as exc:
        await step(f"{exc.service} 서비스가 응답하지 않아 멈췄습니다. 다시 시도하세요", "failed", link)
    except Exception:  # noqa: BLE001 - the page must say it stopped, whatever stopped it
        log.exception("closing %s failed", round_id)
        await step("예기치 않은 오류로 멈췄습니다 (로그 참조)", "failed", link)


def _counts(round_view: dict) -> str:
    statuses = [a["status"] for a in round_view["applications"]]
    return (f"선정 {statuses.count('selected')}, 재확인 중 {statuses.count('rechecking')}, "
            f"예비 {statuses.count('waitlisted')}, 최저점 미달 {statuses.count('below-pass-mark')}")


@router.get("/operator/jobs/{job_id}")
async def job_page(request: Request, tables: Tables, job_id: str) -> Response:
    user = await signed_in(request, "operator")
    async with tables.reading() as db:
        found = await db.job(job_id)
    if found is None or found.account_id != user.account_id:  # one's own work only (T1: never another agency's)
        return await render(request, "error.html", 404, title="작업을 찾을 수 없습니다", message=job_id[:40])
    return await render(request, "job.html", job=found)


# --- agreements and payments --------------------------------------------------------------------------------

@router.get("/operator/payments")
async def payments(request: Request) -> Response:
    return await _payments_page(request, await signed_in(request, "operator"), {})


async def _payments_page(request: Request, user: User, problems: dict, status_code: int = 200) -> Response:
    services = services_of(request)
    found = await services.get(user.person, "payments", "/payments")
    names = {p["program_id"]: p["name"] for p in await services.programs(user.person)}
    return await render(request, "payments.html", status_code, payments=found, problems=problems,
                        program_names=names)


def _won(form: Any) -> Any:
    """An amount as typed ('5,000,000'): the integer, or what was typed, for payments to name the field."""
    amount = str(form.get("amount", "")).replace(",", "").strip()
    return int(amount) if amount.isdigit() else amount


async def _payment_action(request: Request, payment_id: str, action: str, body: Any | None = None,
                          user: User | None = None) -> Response:
    """One operator action on a payment at the payments service; back to the list, or the list with its errors."""
    if user is None:
        user, _ = await posted(request, "operator")
    services: Services = services_of(request)
    answer = await services.call(user.person, "payments", "POST", f"/payments/{payment_id}/{action}", json=body)
    if answer.ok:
        return see_other("/operator/payments")
    return await _payments_page(request, user, {payment_id: forms.field_errors(answer.problems)}, 422)


@router.post("/operator/payments/{payment_id}/record")
async def record_payment(request: Request, payment_id: str) -> Response:
    user, form = await posted(request, "operator")
    return await _payment_action(request, payment_id, "record", {"amount": _won(form)}, user)


@router.post("/operator/payments/{payment_id}/grant-decision")
async def decide_grant(request: Request, payment_id: str) -> Response:
    """교부결정 통지: the operator checked the complete 서식4 and decides the grant before paying it."""
    return await _payment_action(request, payment_id, "grant-decision")


@router.post("/operator/payments/{payment_id}/recoveries")
async def record_recovery(request: Request, payment_id: str) -> Response:
    """C7/P4: clawback money came back to the center's account; the ledger counts it recovered now."""
    user, form = await posted(request, "operator")
    return await _payment_action(request, payment_id, "recoveries", {"amount": _won(form)}, user)


@router.post("/operator/payments/{payment_id}/return")
async def return_request(request: Request, payment_id: str) -> Response:
    """P3: a deficient 서식4 goes back with the reasons, one a line; its 30 days start again when filed complete."""
    user, form = await posted(request, "operator")
    reasons = [line.strip() for line in str(form.get("reasons", "")).splitlines() if line.strip()]
    return await _payment_action(request, payment_id, "return", {"reasons": reasons}, user)


@router.post("/operator/payments/{payment_id}/adjustments")
async def adjust_payment(request: Request, payment_id: str) -> Response:
    """P4: the amount or the due date changed, with the reason (a late or incomplete obligation)."""
    user, form = await posted(request, "operator")
    body: dict[str, Any] = {"reason": str(form.get("reason", "")).strip()}
    if str(form.get("amount", "")).strip():
        body["amount"] = _won(form)
    if str(form.get("due_on", "")).strip():
        body["due_on"] = str(form.get("due_on")).strip()
    return await _payment_action(request, payment_id, "adjustments", body, user)


@router.get("/operator/dead-letters")
async def dead_letters(request: Request, services: PortalServices) -> Response:
    user = await signed_in(request, "operator")
    found = {s: await services.get(user.person, s, "/dead-letters") for s in SERVICES}
    return await render(request, "dead_letters.html", dead=found)


# --- the program report -------------------------------------------------------------------------------------

async def _report(request: Request, user: User, program_id: str) -> tuple[dict, list[program_report.ReportRow]]:
    services: Services = services_of(request)
    programs = await services.programs(user.person)
    program = next((p for p in programs if p["program_id"] == program_id), {"program_id": program_id,
                                                                             "name": program_id})
    agreements = [await services.get(user.person, "contracts", f"/agreements/{a['agreement_id']}")
                  for a in await services.get(user.person, "contracts", "/agreements", program_id=program_id)]
    paid = await services.get(user.person, "payments", "/payments", program_id=program_id)
    ranked = await services.get(user.person, "evaluation", "/applications", program_id=program_id)
    ranks = {a["application_id"]: a["rank"] for a in ranked if a.get("rank")}
    return program, program_report.rows(agreements, paid, ranks)


@router.get("/operator/report")
async def report_page(request: Request, program_id: str) -> Response:
    """The program report with its settlement by funding source (정산, L1–L4) and its follow-up (사후관리, M3)."""
    user = await signed_in(request, "operator")
    program, rows = await _report(request, user, program_id)
    services: Services = services_of(request)
    # Another agency's program has, for this caller, neither (T1): its report is empty, not an error
    settlement = await services.call(user.person, "payments", "GET", f"/programs/{program_id}/settlement")
    follow_up = await services.call(user.person, "contracts", "GET", f"/programs/{program_id}/follow-up")
    return await render(request, "report.html", program=program, rows=rows, totals=program_report.totals(rows),
                        generated=now(), settlement=settlement.body if settlement.ok else None,
                        follow_up=program_report.follow_up_lines(follow_up.body, program) if follow_up.ok else [])


@router.get("/operator/report.csv")
async def report_csv(request: Request, program_id: str) -> Response:
    program, rows = await _report(request, await signed_in(request, "operator"), program_id)
    return Response(program_report.as_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_file(program_id)}.csv"'})


@router.get("/operator/report.xlsx")
async def report_xlsx(request: Request, program_id: str) -> Response:
    program, rows = await _report(request, await signed_in(request, "operator"), program_id)
    return Response(program_report.as_xlsx(rows, f"{program['name']} — 사업 결과 현황"),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{_file(program_id)}.xlsx"'})


def _file(program_id: str) -> str:
    return "report-" + "".join(c for c in program_id if c.isalnum() or c == "-")[:80]
