"""Evaluation's HTTP routes. Operators keep the evaluator pool, open rounds, seat committees and close rounds;
evaluators see only the applications assigned to them without a conflict (F6), declare, and score (S1)."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from evaluation import handlers, store
from evaluation.committee import Kind, SeatRole
from evaluation.handlers import decimal
from evaluation.rounds import RoundView, ScoreShortfall
from evaluation.rows import CandidateRow
from evaluation.scoring import publish
from evaluation.status import CandidateStatus, RoundStatus
from evaluation.views import (
    ApplicationDetail, ApplicationForEvaluator, ApplicationInRound, ApplicationToReview, ApplicationToScore, Budget,
    Declared, EmploymentView, EvaluatorView, Listed, RoundDetail, RoundSummary, Scored,
)
from sme_runtime.views import Form
from sme_runtime.auth import Principal, Role, requires
from sme_runtime.problems import Problem, RuleViolation
from sme_runtime.routes import reader, started, writer
from sme_schemas.values import AgencyId, BusinessRegistrationNumber

router = APIRouter()


Operator = Annotated[Principal, Depends(requires(Role.OPERATOR))]
EvaluatorOnly = Annotated[Principal, Depends(requires(Role.EVALUATOR))]
OperatorOrEvaluator = Annotated[Principal, Depends(requires(Role.OPERATOR, Role.EVALUATOR))]
Reader = Annotated[store.EvaluationStore, Depends(reader(store.EvaluationStore))]
ReadUnit = Annotated[handlers.EvaluationUnit, Depends(reader(handlers.unit))]  # its store only: nothing is published
Writer = Annotated[handlers.EvaluationUnit, Depends(writer(handlers.unit))]
Config = Annotated[handlers.Evaluation, Depends(started("evaluation", handlers.Evaluation))]


# --- forms ---------------------------------------------------------------------------------------------------

# A name or a field of expertise is words: blank ones made pool records no one could search or read (issue 31)
Words = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class EmploymentForm(Form):
    brn: BusinessRegistrationNumber = Field(description="Employer's business registration number (F6)")
    name: Words
    since: date | None = None
    until: date | None = Field(None, description="Last day; empty while employed there")

    @model_validator(mode="after")
    def _in_order(self) -> "EmploymentForm":
        if self.since and self.until and self.until < self.since:
            raise PydanticCustomError("F6", "until ({until}) is before since ({since})",
                                      {"until": self.until.isoformat(), "since": self.since.isoformat()})
        return self


class EvaluatorForm(Form):
    name: Words = Field(max_length=100, examples=["최평가"])
    affiliation: Words = Field(examples=["김포대학교 산업경영학과"])
    kind: Kind = Field(Kind.EXTERNAL, description="external evaluator, or center staff (secretary only, unpaid)")
    fields: list[Words] = Field(default_factory=list, max_length=20, description="Fields of expertise",
                                examples=[["공정개선", "품질관리"]])
    employers: list[EmploymentForm] = Field(default_factory=list, max_length=30,
                                            description="Present and past employers, for conflict detection (F6)")
    agency: AgencyId | None = Field(None, description="T1: the agency whose pool the evaluator joins; one of yours, "
                                    "by default your only one")


class RoundForm(Form):
    program_id: str = Field(examples=["gimpo-sos-2024"])
    call_id: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9-]{0,30}$", description="K1: the call whose "
                                "applications join; default the last call whose window has opened")


class SeatForm(Form):
    evaluator_id: str
    role: SeatRole


class CommitteeForm(Form):
    members: list[SeatForm] = Field(min_length=1, max_length=20, description="3–7 external evaluators with one "
                                    "chair, and optionally center staff as secretary")


class DeclarationForm(Form):
    conflicted: bool = Field(description="F6: related to, competing with, or worked for the applicant")
    relation: str | None = Field(None, max_length=100, examples=["친인척", "최근 3년 내 자문"])
    detail: str | None = Field(None, max_length=2000)


class ScoreForm(Form):
    levels: dict[str, int] = Field(description="S1: item code → one of its levels (see the committee sheet)",
                                   examples=[{"motive-and-need": 12, "program-fit": 15, "capability-and-will": 8}])


# --- evaluator pool ------------------------------------------------------------------------------------------

@router.put("/evaluators/{evaluator_id}", tags=["evaluator pool"],
            responses={201: {"description": "Added to the pool (200: an existing record updated)"}},
            summary="Add an evaluator to the pool, or update their record (employers feed conflict detection, F6)")
async def register(operator: Operator, uow: Writer, evaluation: Config, form: EvaluatorForm, response: Response,
                   evaluator_id: str = Path(pattern=r"^[A-Za-z0-9-]{2,40}$", examples=["EV-007"])) -> EvaluatorView:
    created = await handlers.register_evaluator(
        uow, evaluation, evaluator_id=evaluator_id, name=form.name,
        affiliation=form.affiliation, kind=form.kind, fields=form.fields,
        employers=[e.model_dump(mode="json") for e in form.employers], operator=operator.subject,
        agency=_pool_agency(operator, form.agency))
    response.status_code = 201 if created else 200
    return EvaluatorView(evaluator_id=evaluator_id, agency=_pool_agency(operator, form.agency),
                         **form.model_dump(exclude={"agency"}))


def _pool_agency(operator: Principal, named: str | None) -> str:
    """T1: the pool an operator registers into: the one named, if it is theirs, or their only agency's."""
    if named is not None and named not in operator.agencies or named is None and len(operator.agencies) != 1:
        raise RuleViolation(Problem("agency", "T1", "name one of your agencies: "
                                    + ", ".join(sorted(operator.agencies))), status_code=403 if named else 422)
    return named or next(iter(operator.agencies))


@router.get("/evaluators", tags=["evaluator pool"], summary="The evaluator pool of your agencies, optionally by "
                                                            "field of expertise (T1)")
async def pool(operator: Operator, db: Reader, field: str | None = None) -> list[EvaluatorView]:
    rows = await db.evaluators(agencies=sorted(operator.agencies))
    return [EvaluatorView(evaluator_id=e.evaluator_id, agency=e.agency, name=e.name, affiliation=e.affiliation,
                          kind=Kind(e.kind), fields=e.fields,
                          employers=[EmploymentView.model_validate(job) for job in e.employers])
            for e in rows if field is None or field in e.fields]


# --- rounds --------------------------------------------------------------------------------------------------

@router.post("/rounds", status_code=201, tags=["rounds"],
             summary="Open a round of a program; the applications that passed screening join it")
async def open_round(operator: Operator, uow: Writer, evaluation: Config, form: RoundForm) -> RoundDetail:
    if not operator.sees(form.program_id):
        raise RuleViolation(Problem("program_id", "T1", f"{form.program_id!r} is no program of your agencies"),
                            status_code=404)
    round_id = await handlers.open_round(uow, evaluation,
                                         program_id=form.program_id, operator=operator.subject,
                                         call_id=form.call_id)
    return await _round(uow, evaluation, round_id)


@router.get("/rounds", tags=["rounds"], summary="Rounds of your agencies' programs (T1): all of them (operators), "
                                                "or those an evaluator sits on")
async def all_rounds(actor: OperatorOrEvaluator, db: Reader) -> list[RoundSummary]:
    seated = None if actor.role is Role.OPERATOR else actor.subject
    found = await db.rounds(seated=seated, programs=actor.visible_programs())
    return [RoundSummary(round_id=r.round_id, program_id=r.program_id, status=RoundStatus(r.status),
                         opened_at=r.opened_at,
                         closed_at=r.closed_at) for r in found]


@router.put("/rounds/{round_id}/committee", tags=["rounds"],
            summary="Seat the committee (3–7 external evaluators, one chair; center staff only as secretary)")
async def committee(operator: Operator, uow: Writer, evaluation: Config, round_id: str,
                    form: CommitteeForm) -> RoundDetail:
    await _round_seen_by(uow, round_id, operator)
    await handlers.form_committee(uow, evaluation, round_id=round_id,
                                  members=[(m.evaluator_id, m.role) for m in form.members],
                                  operator=operator.subject)
    return await _round(uow, evaluation, round_id)


@router.get("/rounds/{round_id}", tags=["rounds"],
            summary="A round: committee, each application's evaluators and scores, flags, and what blocks closing")
async def round_detail(operator: Operator, uow: ReadUnit, evaluation: Config,
                       round_id: str) -> RoundDetail:
    await _round_seen_by(uow, round_id, operator)
    return await _round(uow, evaluation, round_id)


@router.post("/rounds/{round_id}/close", tags=["rounds"],
             summary="Close the round: rank (F1–F3), select within budget (F4), ask X11 re-checks, owe allowances (F7)")
async def close(operator: Operator, uow: Writer, evaluation: Config, round_id: str) -> RoundDetail:
    await _round_seen_by(uow, round_id, operator)
    await handlers.close_round(uow, evaluation, round_id=round_id,
                               operator=operator.subject)
    return await _round(uow, evaluation, round_id)


# --- evaluators' work ------------------------------------------------------------------------------------------

@router.get("/rounds/{round_id}/applications", tags=["scoring"],
            summary="Applications of the round: an evaluator sees only those assigned without a conflict (F6)")
async def round_applications(actor: OperatorOrEvaluator, uow: ReadUnit, evaluation: Config,
                             round_id: str) -> list[ApplicationForEvaluator | ApplicationInRound]:
    await _round_seen_by(uow, round_id, actor)
    view, rows = await _view(uow, evaluation, round_id)
    visible = [c for c in rows if actor.role is Role.OPERATOR or view.may_see(actor.subject, c.application_id)]
    shown = ApplicationForEvaluator if actor.role is Role.EVALUATOR else ApplicationInRound
    return [shown(**_for_evaluator(c, view, actor)) for c in visible]


@router.get("/rounds/{round_id}/applications/{application_id}", tags=["scoring"],
            summary="One application as the evaluator scores it: verified facts, the plan, the committee sheet")
async def round_application(actor: OperatorOrEvaluator, uow: ReadUnit, evaluation: Config, round_id: str,
                            application_id: str) -> ApplicationToScore | ApplicationToReview:
    await _round_seen_by(uow, round_id, actor)
    view, rows = await _view(uow, evaluation, round_id)
    found = next((c for c in rows if c.application_id == application_id), None)
    if found is None or (actor.role is Role.EVALUATOR and not view.may_see(actor.subject, application_id)):
        raise RuleViolation(Problem("application_id", "F6", f"no application {application_id} assigned to you in "
                                    "this round"), status_code=404)
    program = evaluation.program(found.program_id)
    shown = ApplicationToScore if actor.role is Role.EVALUATOR else ApplicationToReview
    return shown(**_for_evaluator(found, view, actor), facts=found.facts,
                 committee_sheet=program.committee_score.model_dump(mode="json")
                 | {"raw_max": program.committee_score.raw_max})


@router.put("/rounds/{round_id}/applications/{application_id}/declaration", tags=["scoring"],
            summary="Declare a conflict of interest with this application, or that there is none (F6)")
async def declaration(evaluator: EvaluatorOnly, uow: Writer, evaluation: Config, round_id: str, application_id: str,
                      form: DeclarationForm) -> Declared:
    await _round_seen_by(uow, round_id, evaluator)
    await handlers.declare(uow, evaluation, round_id=round_id,
                           application_id=application_id, evaluator_id=evaluator.subject,
                           conflicted=form.conflicted, relation=form.relation, detail=form.detail)
    return Declared(application_id=application_id, evaluator_id=evaluator.subject, **form.model_dump())


@router.put("/rounds/{round_id}/applications/{application_id}/score", tags=["scoring"],
            summary="Score the application: one level per item (S1); the raw and normalised totals come back (S2)")
async def give_score(evaluator: EvaluatorOnly, uow: Writer, evaluation: Config, round_id: str, application_id: str,
                     form: ScoreForm) -> Scored:
    await _round_seen_by(uow, round_id, evaluator)
    sheet = await handlers.score(uow, evaluation, round_id=round_id,
                                 application_id=application_id, evaluator_id=evaluator.subject,
                                 levels=form.levels)
    return Scored(application_id=application_id, evaluator_id=evaluator.subject, levels=form.levels,
                  raw_total=sheet.raw_total, normalised=str(publish(sheet.normalised)))


# --- applications and budget (operators) ------------------------------------------------------------------------

@router.get("/applications", tags=["applications"], summary="Applications in evaluation (operators)")
async def applications(operator: Operator, db: Reader, program_id: str | None = None,
                       status: CandidateStatus | None = None,
                       limit: int = Query(500, ge=1, le=5000)) -> list[Listed]:
    rows = await db.listing(program_id=program_id, status=status, limit=limit,
                            programs=operator.visible_programs())
    return [Listed.model_validate({**asdict(r), "qualitative": decimal(r.qualitative), "final": decimal(r.final)})
            for r in rows]


@router.get("/applications/{application_id}", tags=["applications"],
            summary="One application: document score breakdown (Q1–Q7), every evaluator's sheet, result, audit")
async def application(operator: Operator, db: Reader, application_id: str) -> ApplicationDetail:
    c = await db.candidate(application_id)
    if c is None or not operator.sees(c.program_id):  # T1: another agency's does not exist for the caller
        raise RuleViolation(Problem("application_id", "S3", f"no application {application_id} in evaluation"),
                            status_code=404)
    trail = await db.audit_of(application_id=application_id)
    sheets = [s for s in await db.scores(c.round_id)
              if s.application_id == application_id] if c.round_id else []
    return ApplicationDetail.model_validate({
            "application_id": c.application_id, "program_id": c.program_id, "round_id": c.round_id,
            "company_name": c.company_name, "status": c.status, "expert_grade": c.expert_grade,
            "quantitative": c.quantitative, "quantitative_breakdown": c.quantitative_detail,
            "qualitative": decimal(c.qualitative), "qualitative_raw": decimal(c.qualitative_raw),
            "final": decimal(c.final), "rank": c.rank, "outcome": c.outcome, "planned_subsidy": c.planned_subsidy,
            "selected_via": c.selected_via, "selected_at": c.selected_at,
            "scores": [{"evaluator_id": s.evaluator_id, "levels": s.levels, "raw_total": s.raw_total,
                        "normalised": decimal(s.normalised), "submitted_at": s.submitted_at,
                        "revisions": s.revisions} for s in sheets],
            "audit": [{"at": a.at, "actor": a.actor, "action": a.action, "detail": a.detail} for a in trail]})


@router.get("/programs/{program_id}/budget", tags=["applications"],
            summary="The budget of a program: committed to the selected, free, and the waitlist (F4, F5)")
async def budget(operator: Operator, db: Reader, evaluation: Config, program_id: str) -> Budget:
    program = evaluation.programs.get(program_id)
    if program is None or not operator.sees(program_id):
        raise RuleViolation(Problem("program_id", "A3", f"no program {program_id!r}"), status_code=404)
    calls = program.program_calls()
    committed = {c.call_id: await db.committed_budget(program_id, c.call_id) for c in calls}
    rows = await db.listing(program_id=program_id, status=None, limit=5000)
    by = lambda st: [{"application_id": r.application_id, "company_name": r.company_name, "rank": r.rank,  # noqa: E731
                      "planned_subsidy": r.planned_subsidy, "call_id": r.call_id} for r in rows if r.status == st]
    budget = sum(c.budget for c in calls)
    return Budget.model_validate({"program_id": program_id, "budget": budget, "committed": sum(committed.values()),
            "available": budget - sum(committed.values()), "selected": by(CandidateStatus.SELECTED),
            "rechecking": by(CandidateStatus.RECHECKING), "waitlist": by(CandidateStatus.WAITLISTED),
            "calls": [{"call_id": c.call_id, "title": c.title, "window": c.window.model_dump(mode="json"),
                       "budget": c.budget, "committed": committed[c.call_id],
                       "available": c.budget - committed[c.call_id]} for c in calls]})


# --- helpers ------------------------------------------------------------------------------------------------------

async def _round_seen_by(uow: handlers.EvaluationUnit, round_id: str, actor: Principal) -> None:
    """T1: a round of another agency's program is, for this caller, no round at all."""
    r = await handlers.find_round(uow, round_id)
    if not actor.sees(r.program_id):
        raise RuleViolation(Problem("round_id", "S3", f"no round {round_id}"), status_code=404)


async def _view(uow: handlers.EvaluationUnit, evaluation: handlers.Evaluation,
                round_id: str) -> tuple[RoundView, list[CandidateRow]]:
    db = uow.store
    r = await handlers.find_round(uow, round_id)
    view = await handlers.round_view(uow, evaluation, r)
    rows = [c for c in await db.candidates_of_round(round_id)
            if c.application_id in {a.application_id for a in view.applicants}]
    return view, rows


def _shortfall(f: ScoreShortfall) -> dict[str, Any]:
    return {**asdict(f), "excluded": [{"evaluator_id": e, "reason": why} for e, why in f.excluded]}


def _for_evaluator(c, view, actor: Principal) -> dict[str, Any]:
    facts = c.facts
    mine = actor.role is Role.EVALUATOR
    out = {"application_id": c.application_id, "company_name": c.company_name,
           "consulting_field": facts.get("consulting_field"), "quantitative": c.quantitative,
           "quantitative_breakdown": c.quantitative_detail}
    if mine:
        out["declared"] = next((d.conflicted for d in view.declarations if d.evaluator_id == actor.subject
                                and d.application_id == c.application_id), None)
        score = view.scores.get((actor.subject, c.application_id))
        out["my_raw_total"] = score.raw_total if score else None
    return out


async def _round(uow: handlers.EvaluationUnit, evaluation: handlers.Evaluation, round_id: str) -> RoundDetail:
    db = uow.store
    r = await handlers.find_round(uow, round_id)
    view = await handlers.round_view(uow, evaluation, r)
    rows = await db.candidates_of_round(round_id)
    owed = await db.allowances(round_id)
    conflicts = view.conflicts()
    applications = []
    for c in rows:
        shown = c.status == CandidateStatus.IN_ROUND or r.status == RoundStatus.CLOSED
        assigned = view.assigned(c.application_id, conflicts) if shown else []
        applications.append({
            "application_id": c.application_id, "company_name": c.company_name, "status": c.status,
            "assigned_evaluators": assigned, "valid_scores": len(view.valid_scores(c.application_id, conflicts)),
            "conflicts": [{"evaluator_id": x.evaluator_id, "reason": x.reason, "detail": x.detail}
                          for (e, a), xs in conflicts.items() if a == c.application_id for x in xs],
            "quantitative": c.quantitative, "qualitative": decimal(c.qualitative),
            "qualitative_raw": decimal(c.qualitative_raw), "final": decimal(c.final), "rank": c.rank,
            "outcome": c.outcome, "planned_subsidy": c.planned_subsidy})
    return RoundDetail.model_validate({
            "round_id": r.round_id, "program_id": r.program_id, "call_id": r.call_id, "status": r.status,
            "opened_at": r.opened_at,
            "closed_at": r.closed_at,
            "committee": [{"evaluator_id": s.evaluator.evaluator_id, "name": s.evaluator.name, "role": s.role,
                           "kind": s.evaluator.kind, "fields": list(s.evaluator.fields)} for s in view.seats],
            "short_of_evaluators": view.short_of_evaluators() if r.status == RoundStatus.OPEN else [],
            "close_blocked_by": [p.as_dict() for p in view.close_problems()] if r.status == RoundStatus.OPEN else [],
            "score_shortfalls": [_shortfall(f) for f in view.score_shortfalls()] if r.status == RoundStatus.OPEN
            else [],
            "applications": applications,
            "allowances": [{"evaluator_id": a.evaluator_id, "applications_scored": a.applications_scored,
                            "amount": a.amount} for a in owed]})
