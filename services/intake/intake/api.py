"""Intake's HTTP routes: where companies (and operators, for paper applications) act."""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Annotated, Any, Awaitable, Callable, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, BeforeValidator, Field
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake import handlers, metrics, store
from intake.domain import Disposition
from intake.handlers import Submission
from intake.form import ApplicationForm
from intake.rows import ApplicationRow
from sme_runtime.views import Form
from sme_runtime import tracing
from sme_runtime.auth import Principal, Role, requires
from sme_runtime.problems import Problem, RuleViolation
from sme_runtime.routes import Sessions, reader, started, writer
from sme_runtime.rows import known
from sme_schemas.application import ApplicationContent
from sme_programs import ProgramDefinition
from sme_schemas.values import ShortText

log = logging.getLogger("intake.api")
# PostgreSQL's OFFSET is a bigint: a larger one was a 500 (issue 13); no listing is that long anyway.
MAX_OFFSET = 2**31 - 1
router = APIRouter()
CONCURRENT_RETRIES = 3


class ApplicationView(BaseModel):
    application_id: str
    program_id: str
    status: str
    revision: int
    channel: str
    source_system: str | None = Field(None, description="The municipal system that filed it (channel "
                                      "municipal-system), as in its ApplicationFiledByMunicipalSystem")
    external_reference: str | None = Field(None, description="The filing system's own id for it: what its "
                                           "ApplicationFilingResult is keyed by")
    submitted_at: datetime
    updated_at: datetime
    content: dict[str, Any]
    contacts: dict[str, Any] | None
    required_evidence: list[dict[str, Any]] = Field(description="E1–E5 list for this company")
    unmet_evidence: list[dict[str, Any]] = Field(description="Lines no uploaded document satisfies yet")
    disposition: Literal["created", "amended", "unchanged"] | None = None


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class Withdrawal(Form):
    # ApplicationWithdrawn.reason is ShortText or nothing: an empty or blank reason is no reason (it was a 500).
    reason: Annotated[ShortText | None, BeforeValidator(_blank_is_none)] = Field(
        None, description="The company's reason, if it gives one")


Actor = Annotated[Principal, Depends(requires(Role.COMPANY, Role.OPERATOR))]
# The program calls are public announcements: every signed-in person reads them (the portal shows program names to
# experts and evaluators too, and reads them with whoever is signed in when its copy is stale)
Anyone = Annotated[Principal, Depends(requires(*Role))]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
ReadUnit = Annotated[handlers.IntakeUnit, Depends(reader(handlers.unit))]  # its store only: nothing is published
Reader = Annotated[store.IntakeStore, Depends(reader(store.IntakeStore))]
Writer = Annotated[handlers.IntakeUnit, Depends(writer(handlers.unit))]
Config = Annotated[handlers.Intake, Depends(started("intake", handlers.Intake))]


def view(intake: handlers.Intake, row: ApplicationRow, disposition: Disposition | None = None) -> ApplicationView:
    content = ApplicationContent.model_validate(row.content)
    return ApplicationView(
        application_id=row.application_id,
        program_id=row.program_id,
        status=row.status,
        revision=row.revision,
        channel=row.channel,
        source_system=row.source_system,
        external_reference=row.external_reference,
        submitted_at=row.submitted_at,
        updated_at=row.updated_at,
        content=row.content,
        contacts=row.contacts,
        disposition=disposition.done if disposition else None,
        **handlers.evidence_status(content, intake.evidence_lines(row.program_id, row.program_version)),
    )


async def _idempotent(sessions: async_sessionmaker[AsyncSession], intake: handlers.Intake, response: Response,
                      actor: Principal, key: str | None, form: ApplicationForm,
                      use_case: Callable[[handlers.IntakeUnit], Awaitable[Submission]]) -> ApplicationView:
    """Run a submission once per Idempotency-Key; a retried request gets the first answer back. Its own
    transactions, not the route's: a submission whose concurrent twin won the race runs again in a new one."""
    request_hash = hashlib.sha256(form.model_dump_json().encode()).hexdigest()
    for attempt in range(CONCURRENT_RETRIES):
        try:
            async with sessions() as session, session.begin():
                db = store.IntakeStore(session)
                if key:
                    stored = await db.idempotent_response(actor.subject, key)
                    if stored is not None:
                        if stored.request_hash != request_hash:
                            raise RuleViolation(Problem("Idempotency-Key", "A2",
                                                        "this key was used for a different request"), status_code=422)
                        response.status_code = stored.status_code
                        return ApplicationView.model_validate(stored.response)
                submission = await use_case(handlers.unit(session))
                row = submission.row or known(await db.get(submission.application_id),
                                              f"application {submission.application_id}, just filed,")
                result = view(intake, row, submission.disposition)
                response.status_code = 201 if submission.disposition is Disposition.CREATE else 200
                if key:
                    await db.remember_response(actor.subject, key, request_hash=request_hash,
                                               status_code=response.status_code,
                                               response=result.model_dump(mode="json"))
            metrics.record_submission(form.program_id, "web", result.disposition)
            return result
        except IntegrityError:
            # A concurrent twin (double click) won the race for the A2 index or the key; the retry sees its row.
            if attempt == CONCURRENT_RETRIES - 1:
                raise
        except DBAPIError as error:
            # A pooled connection the database dropped (a restart) fails its first statement; the pool is then
            # renewed and the submission runs again (no ping per request: see sme_runtime.db.make_engine).
            if not error.connection_invalidated or attempt == CONCURRENT_RETRIES - 1:
                raise
        except RuleViolation as violation:
            metrics.record_refusal(violation)
            raise
    raise AssertionError("unreachable")


@router.post("/applications", status_code=201, response_model=ApplicationView,
             summary="Submit an application (서식1 + 서식2 + evidence); a second one amends the first (A2)")
async def submit(actor: Actor, form: ApplicationForm, sessions: Sessions, intake: Config, response: Response,
                 idempotency_key: IdempotencyKey = None) -> ApplicationView:
    at = intake.clock()
    filed = await _idempotent(sessions, intake, response, actor, idempotency_key, form,
                              lambda uow: handlers.submit_application(uow, intake, form=form, actor=actor, at=at))
    tracing.APPLICATION_ID.set(filed.application_id)  # reset with the request's trace by TraceRequests
    log.info("application filed over HTTP (revision %s)", filed.revision)
    return filed


@router.put("/applications/{application_id}", response_model=ApplicationView,
            summary="Amend the application before screening starts (A2)")
async def amend(actor: Actor, application_id: str, form: ApplicationForm, sessions: Sessions, intake: Config,
                response: Response, idempotency_key: IdempotencyKey = None) -> ApplicationView:
    at = intake.clock()
    return await _idempotent(sessions, intake, response, actor, idempotency_key, form,
                             lambda uow: handlers.amend_application(uow, intake, application_id=application_id,
                                                                    form=form, actor=actor, at=at))


@router.post("/applications/{application_id}/withdrawal", response_model=ApplicationView,
             summary="Withdraw the application")
async def withdraw(actor: Actor, application_id: str, body: Withdrawal, uow: Writer,
                   intake: Config) -> ApplicationView:
    await handlers.withdraw_application(uow, application_id=application_id, reason=body.reason, actor=actor,
                                        at=intake.clock())
    return view(intake, known(await uow.store.get(application_id), f"application {application_id}, just withdrawn,"))


@router.get("/applications/{application_id}", response_model=ApplicationView,
            summary="Read an application: a company only its own, operators their agencies' (T1)")
async def read(actor: Actor, application_id: str, uow: ReadUnit, intake: Config) -> ApplicationView:
    return view(intake, await handlers.read_application(uow, application_id=application_id, actor=actor))


@router.get("/applications", response_model=list[ApplicationView],
            summary="List applications: a company sees its own, operators their agencies' (T1)")
async def listing(actor: Actor, db: Reader, intake: Config, program_id: str | None = None, status: str | None = None,
                  limit: int = Query(100, ge=1, le=1000),
                  offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> list[ApplicationView]:
    brn = actor.business_registration_number if actor.role is Role.COMPANY else None
    rows = await db.listing(brn=brn, program_id=program_id, status=status, limit=limit, offset=offset,
                            programs=actor.visible_programs())
    return [view(intake, r) for r in rows]


@router.get("/programs", summary="Program calls this intake accepts applications for (public announcements, "
                                  "every agency's)")
async def programs(actor: Anyone, intake: Config) -> list[ProgramDefinition]:
    return list(intake.programs.values())
