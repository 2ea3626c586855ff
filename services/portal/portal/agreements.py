"""Agreements for their parties: the company and its expert sign (C1), the expert logs sessions with photos (C3),
company and expert write the result report together — the expert uploads drafts, the company submits (C8) — and
the company files the subsidy request (서식4, P1); operators sign for the center and accept or return reports."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from portal import forms, uploads
from portal.company import keep_upload
from portal.services import Services
from portal.web import PortalServices, posted, render, see_other, services_of, signed_in, tables_of, User

router = APIRouter()
PARTIES = ("company", "expert", "operator")
SUBSIDY_DOCUMENTS = (("quote_ref", "견적서"), ("transaction_statement_ref", "거래명세서"),
                     ("tax_invoice_ref", "세금계산서"),
                     ("deposit_receipt_ref", "입금증(전문가에게 지급한 증빙)"), ("bankbook_copy_ref", "통장 사본"))


@router.get("/agreements")
async def listing(request: Request, services: PortalServices) -> Response:
    user = await signed_in(request, *PARTIES)
    found = await services.get(user.person, "contracts", "/agreements")
    payments = [] if user.role == "expert" else await services.get(user.person, "payments", "/payments")
    names = {p["program_id"]: p["name"] for p in await services.programs(user.person)}
    return await render(request, "agreements.html", agreements=found, payments=payments, program_names=names)


async def _page(request: Request, user: User, agreement_id: str, problems: list | None = None,
                status_code: int = 200) -> Response:
    services: Services = services_of(request)
    found = await services.get(user.person, "contracts", f"/agreements/{agreement_id}")
    logs = await services.get(user.person, "contracts", f"/agreements/{agreement_id}/sessions")
    async with tables_of(request).reading() as db:
        drafts = await db.uploads_of_agreement(agreement_id, "report-draft")
    payments = [] if user.role == "expert" else [
        p for p in await services.get(user.person, "payments", "/payments")
        if p["application_id"] == found["application_id"]]
    party = {"company": "company", "expert": "expert", "operator": "center"}[user.role]
    # M1: what the company owes after its report (the follow-up notices link here); its expert owes none
    follow_ups = None if user.role == "expert" else await services.get(
        user.person, "contracts", f"/agreements/{agreement_id}/follow-ups")
    program = next((p for p in await services.programs(user.person) if p["program_id"] == found["program_id"]), {})
    advance_percent = (program.get("payment_schedule") or {}).get("advance_percent") or 0
    return await render(request, "agreement.html", status_code, agreement=found, logs=logs, drafts=drafts,
                        payments=payments, party=party, problems=problems or [], documents=SUBSIDY_DOCUMENTS,
                        uploads=uploads, follow_ups=follow_ups, advance_percent=advance_percent,
                        words=forms.agreement_words(program))


@router.get("/agreements/{agreement_id}")
async def agreement(request: Request, agreement_id: str) -> Response:
    user = await signed_in(request, *PARTIES)
    return await _page(request, user, agreement_id)


@router.get("/applications/{application_id}/agreement")
async def agreement_of(request: Request, services: PortalServices, application_id: str) -> Response:
    """Where an application's notices about its agreement and payments link (the selection and the payment events
    name no agreement): its agreement's page, the notice's #part kept by the browser; the list while contracts has
    not drafted it yet."""
    user = await signed_in(request, *PARTIES)
    found = await services.get(user.person, "contracts", "/agreements", application_id=application_id)
    return see_other(f"/agreements/{found[-1]['agreement_id']}" if found else "/agreements")


async def _act(request: Request, user: User, agreement_id: str, service: str, path: str, body: dict | None = None
               ) -> Response:
    answer = await services_of(request).call(user.person, service, "POST", path, json=body)
    if answer.ok:
        return see_other(f"/agreements/{agreement_id}")
    return await _page(request, user, agreement_id, [forms.field_errors(answer.problems)], 422)


@router.post("/agreements/{agreement_id}/sign")
async def sign(request: Request, agreement_id: str) -> Response:
    user, _ = await posted(request)
    return await _act(request, user, agreement_id, "contracts", f"/agreements/{agreement_id}/signatures")


async def _files(request: Request, user: User, form: FormData, name: str, agreement_id: str, purpose: str
                 ) -> tuple[list[str], list[dict]]:
    references, problems = [], []
    for item in form.getlist(name):
        if isinstance(item, UploadFile) and item.filename:
            try:
                references.append((await keep_upload(request, user, item, purpose=purpose,
                                                     agreement_id=agreement_id)).reference)
            except uploads.UploadRefused as refused:
                problems.append({name: f"{item.filename}: {refused}"})
    return references, problems


@router.post("/agreements/{agreement_id}/sessions")
async def log_session(request: Request, agreement_id: str) -> Response:
    user, form = await posted(request, "expert", "company")
    photos, problems = await _files(request, user, form, "photos", agreement_id, "session-photo")
    if problems:
        return await _page(request, user, agreement_id, problems, 422)
    body = {k: str(form.get(k, "")).strip() for k in ("held_on", "hours", "kind", "place", "notes")}
    return await _act(request, user, agreement_id, "contracts", f"/agreements/{agreement_id}/sessions",
                      {**body, "photo_refs": photos})


@router.post("/agreements/{agreement_id}/report-draft")
async def report_draft(request: Request, services: PortalServices, agreement_id: str) -> Response:
    """The expert's (or company's) draft of the result report, kept for the company to submit."""
    user, form = await posted(request, "expert", "company")
    await services.get(user.person, "contracts", f"/agreements/{agreement_id}")  # theirs (C9)
    _, problems = await _files(request, user, form, "draft", agreement_id, "report-draft")
    if problems:
        return await _page(request, user, agreement_id, problems, 422)
    return see_other(f"/agreements/{agreement_id}")


@router.post("/agreements/{agreement_id}/report")
async def submit_report(request: Request, agreement_id: str) -> Response:
    user, form = await posted(request, "company")
    report, problems = await _files(request, user, form, "report", agreement_id, "report")
    draft = str(form.get("draft", ""))
    if not report and uploads.upload_id_of(draft):
        report = [draft]
    logs, more = await _files(request, user, form, "logs", agreement_id, "report-log")
    fees, most = await _files(request, user, form, "fees", agreement_id, "report-fee")
    if problems or more or most:
        return await _page(request, user, agreement_id, problems + more + most, 422)
    body = {"report_ref": report[0] if report else "", "log_refs": logs, "fee_evidence_refs": fees}
    return await _act(request, user, agreement_id, "contracts", f"/agreements/{agreement_id}/report", body)


@router.post("/agreements/{agreement_id}/report/accept")
async def accept_report(request: Request, agreement_id: str) -> Response:
    user, _ = await posted(request, "operator")
    return await _act(request, user, agreement_id, "contracts", f"/agreements/{agreement_id}/report/accept")


@router.post("/agreements/{agreement_id}/report/return")
async def return_report(request: Request, agreement_id: str) -> Response:
    user, form = await posted(request, "operator")
    reasons = [line.strip() for line in str(form.get("reasons", "")).splitlines() if line.strip()]
    return await _act(request, user, agreement_id, "contracts", f"/agreements/{agreement_id}/report/return",
                      {"reasons": reasons})


@router.post("/agreements/{agreement_id}/advance-request")
async def advance_request(request: Request, services: PortalServices, agreement_id: str) -> Response:
    """I1: once signed, the company of a program that pays an advance (선금) asks for it into its account."""
    user, form = await posted(request, "company")
    found = await services.get(user.person, "contracts", f"/agreements/{agreement_id}")
    body = {"application_id": found["application_id"],
            "account": {k: str(form.get(f"account.{k}", "")).strip() for k in ("bank", "number", "holder")}}
    return await _act(request, user, agreement_id, "payments", "/advance-requests", body)


@router.post("/agreements/{agreement_id}/give-up")
async def give_up(request: Request, agreement_id: str) -> Response:
    """C6: the company files its give-up with the reason; the center approves it."""
    user, form = await posted(request, "company")
    return await _act(request, user, agreement_id, "contracts", f"/agreements/{agreement_id}/give-up",
                      {"reason": str(form.get("reason", "")).strip()})


@router.post("/agreements/{agreement_id}/give-up/approve")
async def approve_give_up(request: Request, agreement_id: str) -> Response:
    """C6, X10: the center approves a filed give-up, with the participation restriction unless it lifts it."""
    user, form = await posted(request, "operator")
    return await _act(request, user, agreement_id, "contracts", f"/agreements/{agreement_id}/give-up/approve",
                      {"restrict": form.get("restrict") == "yes"})


@router.post("/agreements/{agreement_id}/termination")
async def terminate(request: Request, agreement_id: str) -> Response:
    """C7: the center ends the agreement for one of the guideline's reasons, with its account of it."""
    user, form = await posted(request, "operator")
    return await _act(request, user, agreement_id, "contracts", f"/agreements/{agreement_id}/termination",
                      {"reason": str(form.get("reason", "")), "note": str(form.get("note", "")).strip()})


@router.post("/agreements/{agreement_id}/amendments")
async def amend(request: Request, agreement_id: str) -> Response:
    """C5: a change the parties agreed, recorded by the center with its reason."""
    user, form = await posted(request, "operator")
    return await _act(request, user, agreement_id, "contracts", f"/agreements/{agreement_id}/amendments",
                      forms.amendment(form))


@router.post("/agreements/{agreement_id}/follow-ups/{kind}")
async def answer_follow_up(request: Request, services: PortalServices, agreement_id: str, kind: str) -> Response:
    """M1: the company answers the satisfaction survey or an outcome report (the notice's link lands here)."""
    user, form = await posted(request, "company")
    owed = await services.get(user.person, "contracts", f"/agreements/{agreement_id}/follow-ups")
    answers, problems = forms.follow_up_answers(form, kind, owed["survey_items"], owed["outcome_questions"])
    if problems:
        return await _page(request, user, agreement_id, [problems], 422)
    answer = await services.call(user.person, "contracts", "POST", f"/agreements/{agreement_id}/follow-ups/{kind}",
                                 json={"answers": answers})
    if answer.ok:
        return see_other(f"/agreements/{agreement_id}#follow-up")
    return await _page(request, user, agreement_id, [forms.field_errors(answer.problems)], 422)


@router.post("/agreements/{agreement_id}/subsidy-request")
async def subsidy_request(request: Request, services: PortalServices, agreement_id: str) -> Response:
    """서식4: the proven cost, the five documents and the account (P1); payments computes the amount (P2)."""
    user, form = await posted(request, "company")
    found = await services.get(user.person, "contracts", f"/agreements/{agreement_id}")
    documents: dict[str, str] = {}
    problems: list[dict] = []
    for name, _label in SUBSIDY_DOCUMENTS:
        refs, refused = await _files(request, user, form, name, agreement_id, "subsidy-request")
        documents[name], problems = (refs[0] if refs else ""), problems + refused
    if problems:
        return await _page(request, user, agreement_id, problems, 422)
    cost = str(form.get("proven_cost_including_vat", "")).replace(",", "").strip()
    body = {"application_id": found["application_id"], "documents": documents,
            "proven_cost_including_vat": int(cost) if cost.isdigit() else cost,
            "account": {k: str(form.get(f"account.{k}", "")).strip() for k in ("bank", "number", "holder")}}
    return await _act(request, user, agreement_id, "payments", "/subsidy-requests", body)
