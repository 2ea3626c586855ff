"""Screening's HTTP routes: the operators' manual-review queue, the state of each application (with the rules
and evidence behind it, so staff can answer a company's 'why'), and what waits on which registry."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from screening import handlers, store
from screening.status import ScreeningStatus
from screening.views import ApplicationView, Listed, RegistryWait, Waiting
from sme_runtime.views import Form
from sme_runtime.auth import Principal, Role, requires
from sme_runtime.problems import Problem, RuleViolation
from sme_runtime.routes import reader, started, writer
from sme_schemas.values import RuleId

router = APIRouter()


Operator = Annotated[Principal, Depends(requires(Role.OPERATOR))]
OperatorOrCompany = Annotated[Principal, Depends(requires(Role.OPERATOR, Role.COMPANY))]
Reader = Annotated[store.ScreeningStore, Depends(reader(store.ScreeningStore))]
Writer = Annotated[handlers.ScreeningUnit, Depends(writer(handlers.unit))]
Config = Annotated[handlers.Screening, Depends(started("screening", handlers.Screening))]


class RulingForm(Form):
    """An operator's judgement of the open questions of one application."""

    decision: Literal["clear", "exclude"] = Field(description="clear: the concern does not hold; exclude: reject")
    rules: list[RuleId] | None = Field(None, description="Questions ruled on; default all open ones. X4 or X6 may "
                                       "be named to exclude on the operator's own finding", examples=[["D3"]])
    reason: str = Field(min_length=5, max_length=2000, description="Why, in words the company can be told",
                        examples=["유사 과제와 목표·대상 공정이 달라 중복이 아님 (위원회 검토)"])
    purpose: str = Field("screening", pattern=r"^(screening|recheck:.+)$",
                         description="'screening', or 'recheck:<request id>' for an X11 re-check question")


class Review(BaseModel):
    application_id: str
    purpose: str
    program_id: str
    company_name: str | None
    questions: list[dict[str, Any]]
    since: datetime


@router.get("/reviews", response_model=list[Review], tags=["manual review"],
            summary="The manual-review queue: what operators must judge (X4, X6, D3, unsettled lookups)")
async def reviews(operator: Operator, db: Reader) -> list[Review]:
    rows = await db.open_reviews(programs=operator.visible_programs())
    return [Review(application_id=r.application_id, purpose=r.purpose, program_id=r.program_id,
                   company_name=r.company_name, questions=(r.decision or {}).get("questions", []), since=r.since)
            for r in rows]


@router.post("/reviews/{application_id}/rulings", tags=["manual review"],
             summary="Rule on an application's open questions; recorded with operator, time and reason")
async def rule(operator: Operator, uow: Writer, screening: Config, application_id: str,
               form: RulingForm) -> ApplicationView:
    await handlers.rule_on(uow, screening, application_id=application_id,
                           purpose=form.purpose, exclude=form.decision == "exclude",
                           rules=tuple(form.rules) if form.rules else None, reason=form.reason,
                           operator=operator)
    return await _application(uow.store, application_id)


@router.get("/applications/{application_id}", tags=["applications"],
            summary="Screening state of one application: outcome, rules and evidence, lookups, audit trail")
async def application(actor: OperatorOrCompany, db: Reader, application_id: str) -> ApplicationView:
    found = await _application(db, application_id)
    if not actor.sees(found.program_id) or (
            actor.role is Role.COMPANY and found.business_registration_number != actor.business_registration_number):
        raise _not_found(application_id)  # C9, T1: another's application does not exist for this caller
    return found


@router.get("/applications", tags=["applications"], summary="Applications in screening (operators)")
async def applications(operator: Operator, db: Reader, program_id: str | None = None,
                       status: ScreeningStatus | None = None,
                       limit: int = Query(200, ge=1, le=5000)) -> list[Listed]:
    rows = await db.listing(program_id=program_id, status=status, limit=limit,
                            programs=operator.visible_programs())
    return [Listed(application_id=r.application_id, program_id=r.program_id, company_name=r.company_name,
                   business_registration_number=r.brn, revision=r.revision, status=ScreeningStatus(r.status),
                   submitted_at=r.submitted_at, decided_at=r.decided_at, decided_by=r.decided_by,
                   supplement_deadline=r.supplement_deadline, decision=r.decision) for r in rows]


@router.get("/lookups/waiting", tags=["lookups"],
            summary="How many applications wait on each registry, and the oldest wait")
async def waiting(operator: Operator, db: Reader) -> Waiting:
    by_registry = await db.waiting_by_registry(programs=operator.visible_programs())
    return Waiting(registries={r: RegistryWait(applications=w.applications, lookups=w.lookups,
                                               oldest_requested_at=w.oldest_requested_at)
                               for r, w in by_registry.items()},
                   applications_waiting=sum(w.applications for w in by_registry.values()))


async def _application(db: store.ScreeningStore, application_id: str) -> ApplicationView:
    row = await db.get(application_id)
    if row is None:
        raise _not_found(application_id)
    lookups = await db.lookups_of(application_id)
    trail = await db.audit_of(application_id)
    return ApplicationView.model_validate({"application_id": row.application_id, "program_id": row.program_id,
            "business_registration_number": row.brn, "revision": row.revision, "status": row.status,
            "submitted_at": row.submitted_at, "decided_at": row.decided_at, "decided_by": row.decided_by,
            "supplement_deadline": row.supplement_deadline, "decision": row.decision,
            "lookups": [{"purpose": lk.purpose, "registry": lk.registry, "requested_at": lk.requested_at,
                         "answered_at": lk.answered_at, "verdict": lk.verdict, "findings": lk.findings,
                         "attempts": lk.attempts, "superseded": lk.superseded} for lk in lookups],
            "audit": [{"at": a.at, "actor": a.actor, "action": a.action, "detail": a.detail} for a in trail]})


def _not_found(application_id: str) -> RuleViolation:
    return RuleViolation(Problem("application_id", "C9", f"no application {application_id} in screening"),
                         status_code=404)
