"""The company's pages: its applications and their timelines, the application form (서식1 + 서식2) with intake's
own field-by-field errors, evidence uploads and supplements, and the files it uploaded."""
from __future__ import annotations

import secrets
from datetime import datetime
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.datastructures import FormData, UploadFile

from portal import forms, labels, uploads
from portal.web import (
    now, PortalServices, posted, render, see_other, services_of, Settings, settings_of, signed_in,
    Tables, tables_of, User,
)

router = APIRouter()


async def keep_upload(request: Request, user: User, upload: UploadFile, *, purpose: str = "evidence",
                      agreement_id: str | None = None) -> uploads.Stored:
    settings = settings_of(request)
    stored = await uploads.keep(upload, settings.upload_dir, settings.upload_max_bytes)
    async with tables_of(request).writing() as db:
        await db.add_upload(upload_id=stored.upload_id, account_id=user.account_id, brn=user.brn,
                            filename=stored.filename, media_type=stored.media_type,
                            size_bytes=stored.size_bytes, sha256=stored.sha256, at=now(), purpose=purpose,
                            agreement_id=agreement_id)
    return stored


async def _programs(request: Request, user: User) -> list[dict]:
    return await services_of(request).programs(user.person)


@router.get("/company")
async def dashboard(request: Request, services: PortalServices, tables: Tables) -> Response:
    user = await signed_in(request, "company")
    applications = await services.get(user.person, "intake", "/applications", limit=100)
    every_program = await _programs(request, user)
    applied = {a["program_id"] for a in applications if a["status"] not in ("rejected", "withdrawn")}
    programs = [p for p in every_program if accepting_now(p, now())]
    async with tables.reading() as db:
        recent = await db.notices_for(user.recipients, limit=5)
        statuses = await db.statuses([a["application_id"] for a in applications])
    return await render(request, "company.html", applications=applications, recent=recent, statuses=statuses,
                        program_names={p["program_id"]: p["name"] for p in every_program},
                        programs=[p for p in programs if p["program_id"] not in applied])


def accepting_now(program: dict, at: datetime) -> bool:
    """A3/K1: a program whose window (or one of its calls' windows) is open now."""
    windows = [c["window"] for c in program.get("calls") or []] or [program["window"]]
    return any(datetime.fromisoformat(w["opens_at"]) <= at < datetime.fromisoformat(w["closes_at"])
               for w in windows)


def _program(programs: list[dict], program_id: str | None) -> dict | None:
    return next((p for p in programs if p["program_id"] == program_id), None)


@router.get("/applications/new")
async def new_application(request: Request, program_id: str) -> Response:
    user = await signed_in(request, "company")
    program = _program(await _programs(request, user), program_id)
    if program is None:
        return await render(request, "error.html", 404, title="공고를 찾을 수 없습니다", message=program_id)
    values = {"company.business_registration_number": user.brn, "company.name": user.display_name}
    return await _form(request, program, values, {}, [])


async def _form(request: Request, program: dict, values: dict, errors: dict, kept: list[dict],
                status_code: int = 200) -> Response:
    shown = set(forms.labels_for(program)) | {f"program_fields.{q['code']}"
                                              for q in program.get("application_fields") or []}
    shown |= {f"evidence.{i}" for i in range(forms.EVIDENCE_ROWS)} | {
        f"evidence.{i}.{part}" for i in range(forms.EVIDENCE_ROWS) for part in ("document_type", "issued_on",
                                                                               "file_reference")}
    return await render(request, "application_form.html", status_code, program=program,
                        sections=forms.sections_for(program), field_labels=forms.labels_for(program),
                        values=values, errors=errors, general=forms.unplaced(errors, shown), kept=kept,
                        rows=range(forms.EVIDENCE_ROWS), submission_key=secrets.token_urlsafe(16),
                        documents=labels.DOCUMENT)


async def evidence_rows(request: Request, user: User, form: FormData, errors: dict[str, str]) -> list[dict]:
    """The evidence lines of a posted form: each newly uploaded file kept (a refused file named in `errors`),
    each file kept by an earlier attempt carried over, so a correction never asks for a file again."""
    rows = []
    for i in range(forms.EVIDENCE_ROWS):
        document_type = str(form.get(f"evidence.{i}.document_type", "")).strip()
        issued_on = str(form.get(f"evidence.{i}.issued_on", "")).strip()
        file, reference = form.get(f"evidence.{i}.file"), str(form.get(f"evidence.{i}.kept", "")).strip()
        if isinstance(file, UploadFile) and file.filename:
            try:
                reference = (await keep_upload(request, user, file)).reference
            except uploads.UploadRefused as refused:
                errors[f"evidence.{i}.file_reference"] = labels.cited(str(refused), "E1")
                reference = ""
        if reference and uploads.upload_id_of(reference) is None:
            reference = ""  # only the portal's own references are carried over
        if document_type or issued_on or reference:
            rows.append({"document_type": document_type, "issued_on": issued_on, "file_reference": reference,
                         "filename": await _filename(request, reference)})
    return rows


async def _filename(request: Request, reference: str) -> str:
    upload_id = uploads.upload_id_of(reference)
    if upload_id is None:
        return ""
    async with tables_of(request).reading() as db:
        row = await db.upload(upload_id)
    return row.filename if row else ""


def _evidence_json(rows: list[dict]) -> list[dict]:
    return [{k: r[k] for k in ("document_type", "issued_on", "file_reference")} for r in rows]


@router.post("/applications/new")
async def submit(request: Request) -> Response:
    user, form = await posted(request, "company")
    program = _program(await _programs(request, user), str(form.get("program_id", "")))
    if program is None:
        return await render(request, "error.html", 404, title="공고를 찾을 수 없습니다", message="program_id")
    errors: dict[str, str] = {}
    rows = await evidence_rows(request, user, form, errors)
    multi = {name: [str(v) for v in form.getlist(name)] for name in forms.MULTI}
    body = forms.application_json(form, multi, program, _evidence_json(rows))
    values = {k: v for k, v in form.items() if isinstance(v, str)} | multi
    if errors:  # a refused file: nothing is sent until every file is acceptable
        return await _form(request, program, values, errors, rows, 422)
    answer = await _post_application(request, user, body, str(form.get("submission_key", "")))
    if not answer.ok:
        return await _form(request, program, values, forms.field_errors(answer.problems), rows, 422)
    return see_other(f"/applications/{answer.body['application_id']}")


async def _post_application(request: Request, user: User, body: dict, key: str):
    # The same key on a double click or a resent form: intake answers the first submission again (A2)
    return await services_of(request).call(user.person, "intake", "POST", "/applications", json=body,
                                                 idempotency_key=key[:100] or None)


@router.get("/applications/{application_id}")
async def application(request: Request, services: PortalServices, tables: Tables, application_id: str) -> Response:
    user = await signed_in(request, "company", "operator")
    found = await services.get(user.person, "intake", f"/applications/{application_id}")
    return await _application_page(request, tables, user, found, errors={})


async def _application_page(request: Request, tables: Tables, user: User, found: dict, *, errors: dict[str, str],
                            status_code: int = 200) -> Response:
    """The application with its one status (every service's events, portal.progress) and its timeline."""
    async with tables.reading() as db:
        timeline = await db.timeline(found["application_id"])
        status = (await db.statuses([found["application_id"]])).get(found["application_id"])
    program = _program(await _programs(request, user), found["program_id"])
    return await render(request, "application.html", status_code, application=found, timeline=timeline,
                        status=status, program_name=program["name"] if program else "", rows=range(3),
                        documents=labels.DOCUMENT, errors=errors, general=errors)


@router.post("/applications/{application_id}/evidence")
async def supplement(request: Request, services: PortalServices, tables: Tables, application_id: str) -> Response:
    """E6: the company adds documents; intake takes the form again with the longer evidence list."""
    user, form = await posted(request, "company")
    found = await services.get(user.person, "intake", f"/applications/{application_id}")
    errors: dict[str, str] = {}
    added = await evidence_rows(request, user, form, errors)
    answer = None
    if not errors and added:
        evidence = [*found["content"]["evidence"], *_evidence_json(added)]
        answer = await services.call(user.person, "intake", "PUT", f"/applications/{application_id}",
                                     json=forms.resubmission(found, evidence))
        if answer.ok:
            return see_other(f"/applications/{application_id}")
        errors = forms.field_errors(answer.problems)
    elif not added and not errors:
        errors["evidence"] = labels.cited("올릴 서류를 고르세요", "E6")
    return await _application_page(request, tables, user, found, errors=errors, status_code=422)


@router.get("/files/{upload_id}")
async def download(request: Request, tables: Tables, settings: Settings, upload_id: str) -> Response:
    """A file the person uploaded, or (operators, and the company's expert) one of their company's."""
    user = await signed_in(request)
    try:
        path = uploads.path_of(settings.upload_dir, upload_id)
    except uploads.UploadRefused:
        return await render(request, "error.html", 404, title="파일을 찾을 수 없습니다", message=upload_id[:80])
    async with tables.reading() as db:
        row = await db.upload(upload_id)
    if row is None or not path.exists() or not (
            user.role == "operator" or row.account_id == user.account_id
            or (user.brn is not None and row.brn and row.brn.strip() == user.brn)):
        return await render(request, "error.html", 404, title="파일을 찾을 수 없습니다", message=upload_id[:80])
    return FileResponse(path, media_type=row.media_type, filename=row.filename,
                        content_disposition_type="attachment")

