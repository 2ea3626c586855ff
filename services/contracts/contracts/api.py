"""Contracts' HTTP routes. The three parties sign (C1); operators amend (C5), approve give-ups (C6), terminate
(C7) and review result reports (C8); the company and its expert log sessions (C3) and submit the report. Every
agreement is visible only to its parties and the center's operators (C9)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Awaitable, Callable

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field

from contracts import handlers, rules, store
from contracts.rows import AgreementRow, FollowUpRow
from contracts.rules import Party, SessionKind
from contracts.status import AgreementStatus, ReportStatus
from contracts.views import (
    AgreementSummary, AgreementView, FollowUps, FollowUpView, LoggedSession, ProgramFollowUp, Reminded,
    ReportSubmitted, SessionEntry,
)
from sme_runtime.auth import Principal, Role, requires
from sme_runtime.consumer import EventRefused
from sme_runtime.problems import Problem, RuleViolation
from sme_runtime.routes import reader, started, writer
from sme_runtime.views import AuditEntry, Form
from sme_schemas.application import EvidenceDocument, ExpertQualification
from sme_schemas.contracts import TerminationReason

router = APIRouter(tags=["agreements"])

Operator = Annotated[Principal, Depends(requires(Role.OPERATOR))]
Signer = Annotated[Principal, Depends(requires(Role.OPERATOR, Role.COMPANY, Role.EXPERT))]
Party_ = Annotated[Principal, Depends(requires(Role.COMPANY, Role.EXPERT))]
Company = Annotated[Principal, Depends(requires(Role.COMPANY))]
Reader = Annotated[store.ContractsStore, Depends(reader(store.ContractsStore))]
ReadUnit = Annotated[handlers.ContractsUnit, Depends(reader(handlers.unit))]  # its store only: nothing is published
Writer = Annotated[handlers.ContractsUnit, Depends(writer(handlers.unit))]
Config = Annotated[handlers.Contracts, Depends(started("contracts", handlers.Contracts))]
Ref = Annotated[str, Field(min_length=1, max_length=300, description="Reference of a stored file")]


# --- forms ---------------------------------------------------------------------------------------------------

class AmendmentForm(Form):
    reason: str = Field(min_length=1, max_length=2000, description="Why the parties change the agreement (C5)")
    agreed_by: list[Party] = Field(default_factory=list, description="Parties who agreed besides the center (C5)")
    term_end: date | None = Field(None, description="Within the program year (C2)")
    agreed_amount: int | None = Field(None, gt=0, le=2**63 - 1, description="At most the planned subsidy and the "
                                      "cap (C2)")
    # session counts are int columns: a larger number was a 500 (schemathesis)
    minimum_sessions: int | None = Field(None, ge=0, le=1000)
    follow_up_sessions: int | None = Field(None, ge=0, le=1000)
    expert_name: str | None = Field(None, min_length=1, max_length=100, description="A new expert: graded from "
                                    "expert_qualification and proven by expert_evidence before it takes effect "
                                    "(G1–G3, E4)")
    expert_affiliation: str | None = Field(None, min_length=1, max_length=200)
    expert_qualification: ExpertQualification | None = Field(None, description="The new expert's highest degree, "
                                                             "consulting years and licences (G1)")
    expert_evidence: list[EvidenceDocument] = Field(default_factory=list, max_length=10, description="The new "
                                                    "expert's employment certificate or CV (E4), issued within the "
                                                    "evidence age before today (E6)")


class SessionForm(Form):
    held_on: date = Field(description="Day of the session, within the agreement term (C3)")
    hours: int = Field(ge=1, le=24, description="At most the program's hours a day, all sessions of the day (C3)")
    kind: SessionKind = Field(description="on-site sessions and follow-up sessions are counted separately (C3)")
    place: str = Field(min_length=1, max_length=200, examples=["김포시 양촌읍 본사 공장"])
    notes: str = Field(min_length=1, max_length=5000, description="The consulting log (Korean text is fine)")
    photo_refs: list[Ref] = Field(default_factory=list, max_length=20, description="On-site sessions: at least one")


class GiveUpForm(Form):
    reason: str = Field(min_length=1, max_length=2000, examples=["경영 악화로 사업 수행 불가"])


class GiveUpApprovalForm(Form):
    restrict: bool = Field(True, description="Impose the program's participation restriction (C6, X10)")


class TerminationForm(Form):
    reason: TerminationReason = Field(description="C7 reason; fraud, false-evidence and breach-of-law (협약 ⑧-2) "
                                                  "make a paid subsidy recoverable in full")
    note: str = Field(min_length=1, max_length=2000, description="The center's account of it")


class ReportForm(Form):
    report_ref: Ref = Field(description="The result report (결과보고서)")
    log_refs: list[Ref] = Field(min_length=1, max_length=100, description="Consulting logs")
    fee_evidence_refs: list[Ref] = Field(min_length=1, max_length=50, description="Proof the company paid the "
                                         "expert's fee incl. VAT (C4)")


class FollowUpForm(Form):
    answers: dict[Annotated[str, Field(max_length=41)], bool | int | str] = Field(
        max_length=50, description="By the program's question codes: 1–5 per survey item; true/false, a whole "
                                   "number (a count or KRW) or text per outcome question (M1)",
        examples=[{"overall": 5, "expert": 4, "usefulness": 4, "center": 5}])


class ReturnForm(Form):
    reasons: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(min_length=1, max_length=20)


# --- views ---------------------------------------------------------------------------------------------------

def _parties(contracts: handlers.Contracts, a: AgreementRow) -> list[str]:
    """C1: who signs this agreement (the program's version it applied under says whether an expert does)."""
    try:
        expert_party = contracts.program(a.program_id, a.program_version).support.expert_party
    except EventRefused:  # the version is no longer deployed: the three parties of every v1 program
        expert_party = True
    return sorted(p.value for p in rules.parties(expert_party))


def _summary(contracts: handlers.Contracts, a: AgreementRow) -> dict[str, Any]:
    now = contracts.clock()
    return {"agreement_id": a.agreement_id, "application_id": a.application_id, "program_id": a.program_id,
            "business_registration_number": a.brn, "company_name": a.company_name, "expert_name": a.expert_name,
            "parties": _parties(contracts, a),
            "status": a.status, "agreed_amount": a.agreed_amount, "term_start": a.term_start, "term_end": a.term_end,
            "sign_by": a.sign_by, "signed_at": a.signed_at,
            "signature_overdue": a.status == AgreementStatus.DRAFTED and a.sign_by < now}


def summary_view(contracts: handlers.Contracts, a: AgreementRow) -> AgreementSummary:
    return AgreementSummary(**_summary(contracts, a))


async def agreement_view(db: store.ContractsStore, contracts: handlers.Contracts, a: AgreementRow) -> AgreementView:
    sessions = await db.sessions_of(a.agreement_id)
    signatures = await db.signatures(a.agreement_id)
    held = handlers.consulting_sessions(sessions)
    counted = {k.value: rules.consulting_days(held, k) for k in SessionKind}
    summary = _summary(contracts, a)
    return AgreementView(**{**summary, "ceo_name": a.ceo_name, "expert_affiliation": a.expert_affiliation,
            "minimum_sessions": a.minimum_sessions, "follow_up_sessions": a.follow_up_sessions,
            "signatures": [{"party": s.party, "signed_by": s.signed_by, "signed_at": s.signed_at}
                           for s in signatures],
            "missing_signatures": sorted(set(summary["parties"]) - {s.party for s in signatures})
            if a.status == AgreementStatus.DRAFTED else [],
            "sessions_held": {**counted, "hours": sum(s.hours for s in sessions), "logs": len(sessions)},
            "report_problems": [p.as_dict() for p in rules.report_problems(
                held,
                minimum_sessions=a.minimum_sessions, follow_up_sessions=a.follow_up_sessions)],
            "amendments": [{"changes": m.changes, "reason": m.reason, "agreed_by": m.agreed_by,
                            "recorded_by": m.recorded_by, "recorded_at": m.recorded_at}
                           for m in await db.amendments_of(a.agreement_id)],
            "reports": [{"revision": r.revision, "status": r.status, "report_ref": r.report_ref,
                         "submitted_at": r.submitted_at, "reviewed_at": r.reviewed_at,
                         "return_reasons": r.return_reasons} for r in await db.reports_of(a.agreement_id)],
            "give_up": {"requested_at": a.give_up_requested_at, "reason": a.give_up_reason},
            "ended": _ended(a),
            "accepted_at": a.accepted_at})


def _ended(a: AgreementRow) -> dict[str, Any]:
    reason, note = rules.how_it_ended(a.status == AgreementStatus.TERMINATED, a.ended_reason)
    return {"at": a.ended_at, "reason": a.ended_reason, "termination_reason": reason, "note": note,
            "restricted_until": a.restricted_until}


async def _act(uow: handlers.ContractsUnit, contracts: handlers.Contracts,
               action: Callable[..., Awaitable[AgreementRow]], agreement_id: str, principal: Principal,
               **kwargs: Any) -> AgreementView:
    """Run one command in the route's transaction and answer with the agreement as it now stands."""
    a = await action(uow, contracts, agreement_id, principal, **kwargs)
    return await agreement_view(uow.store, contracts, a)


# --- routes ---------------------------------------------------------------------------------------------------

@router.get("/agreements", summary="Agreements: operators see their agencies' (T1); a company or its expert only "
                                  "its own (C9)")
async def list_agreements(principal: Signer, db: Reader, contracts: Config, program_id: str | None = None,
                          status: AgreementStatus | None = None,
                          signature_overdue: bool = Query(False, description="Only those unsigned past their "
                                                                             "deadline (C1)"),
                          application_id: str | None = Query(
                              None, pattern=r"^APP-[0-9A-Z]{26}$",
                              description="Only the agreement of this application (at most one): the selection "
                                          "and payment events name no agreement"),
                          ) -> list[AgreementSummary]:
    brn = None if principal.role is Role.OPERATOR else principal.business_registration_number or "-"
    rows = await db.agreements(program_id=program_id, brn=brn, status=status,
                               programs=principal.visible_programs(), application_id=application_id)
    views = [summary_view(contracts, a) for a in rows]
    return [v for v in views if v.signature_overdue] if signature_overdue else views


@router.get("/agreements/{agreement_id}", summary="One agreement with signatures, sessions, amendments, reports")
async def get_agreement(principal: Signer, uow: ReadUnit, contracts: Config,
                        agreement_id: str) -> AgreementView:
    a = await handlers.visible_agreement(uow, agreement_id, principal)
    return await agreement_view(uow.store, contracts, a)


@router.post("/agreements/{agreement_id}/signatures",
             summary="Sign for your party (operator = center); the third signature puts it in force (C1)")
async def sign(principal: Signer, uow: Writer, contracts: Config, agreement_id: str) -> AgreementView:
    return await _act(uow, contracts, handlers.sign, agreement_id, principal)


@router.post("/agreements/{agreement_id}/amendments", status_code=201,
             summary="Record a change agreed by the parties, with its reason (C5)")
async def amend(operator: Operator, uow: Writer, contracts: Config, agreement_id: str,
                form: AmendmentForm) -> AgreementView:
    changes = form.model_dump(exclude={"reason", "agreed_by", "expert_qualification", "expert_evidence"},
                              exclude_none=True)
    return await _act(uow, contracts, handlers.amend, agreement_id, operator, changes=changes, reason=form.reason,
                      agreed_by=form.agreed_by, expert_qualification=form.expert_qualification,
                      expert_evidence=tuple(form.expert_evidence))


@router.post("/agreements/{agreement_id}/sessions", status_code=201,
             summary="Log a consulting session (C3): on-site or follow-up, ≤ the hours a day, with photos")
async def log_session(principal: Party_, uow: Writer, contracts: Config, agreement_id: str,
                      form: SessionForm) -> LoggedSession:
    session_id = await handlers.log_session(uow, contracts, agreement_id,
                                            principal, **form.model_dump())
    return LoggedSession(session_id=session_id, agreement_id=agreement_id, **form.model_dump())


@router.get("/agreements/{agreement_id}/sessions", summary="The consulting logs of an agreement (C3)")
async def sessions(principal: Signer, uow: ReadUnit, agreement_id: str) -> list[SessionEntry]:
    db = uow.store
    await handlers.visible_agreement(uow, agreement_id, principal)
    rows = await db.sessions_of(agreement_id)
    return [SessionEntry(session_id=s.id, held_on=s.held_on, hours=s.hours, kind=SessionKind(s.kind), place=s.place,
                         notes=s.notes, photo_refs=s.photo_refs, logged_by=s.logged_by, logged_at=s.logged_at)
            for s in rows]


@router.post("/agreements/{agreement_id}/give-up", summary="The company files a give-up (C6)")
async def give_up(company: Company, uow: Writer, contracts: Config, agreement_id: str,
                  form: GiveUpForm) -> AgreementView:
    return await _act(uow, contracts, handlers.request_give_up, agreement_id, company, reason=form.reason)


@router.post("/agreements/{agreement_id}/give-up/approve",
             summary="Approve the give-up: the restriction runs from today (C6, X10); the amount is freed (F5)")
async def approve_give_up(operator: Operator, uow: Writer, contracts: Config, agreement_id: str,
                          form: GiveUpApprovalForm) -> AgreementView:
    return await _act(uow, contracts, handlers.approve_give_up, agreement_id, operator, restrict=form.restrict)


@router.post("/agreements/{agreement_id}/termination", summary="Terminate for a C7 reason")
async def terminate(operator: Operator, uow: Writer, contracts: Config, agreement_id: str,
                    form: TerminationForm) -> AgreementView:
    return await _act(uow, contracts, handlers.terminate, agreement_id, operator, reason=form.reason, note=form.note)


@router.post("/agreements/{agreement_id}/report", status_code=201,
             summary="Submit the result report: refused while the session minimums are not met (C8, C3)")
async def submit_report(company: Company, uow: Writer, contracts: Config, agreement_id: str,
                        form: ReportForm) -> ReportSubmitted:
    revision = await handlers.submit_report(uow, contracts, agreement_id,
                                            company, **form.model_dump())
    return ReportSubmitted(agreement_id=agreement_id, revision=revision, status=ReportStatus.SUBMITTED)


@router.post("/agreements/{agreement_id}/report/accept", summary="Accept the result report (C8 → ReportAccepted)")
async def accept_report(operator: Operator, uow: Writer, contracts: Config,
                        agreement_id: str) -> AgreementView:
    return await _act(uow, contracts, handlers.accept_report, agreement_id, operator)


@router.post("/agreements/{agreement_id}/report/return", summary="Return the result report with reasons (C8)")
async def return_report(operator: Operator, uow: Writer, contracts: Config, agreement_id: str,
                        form: ReturnForm) -> AgreementView:
    return await _act(uow, contracts, handlers.return_report, agreement_id, operator, reasons=form.reasons)


@router.get("/agreements/{agreement_id}/audit", summary="Who did what to the agreement, when and why")
async def audit(operator: Operator, uow: ReadUnit, agreement_id: str) -> list[AuditEntry]:
    db = uow.store
    await handlers.visible_agreement(uow, agreement_id, operator)
    rows = await db.audit_of(agreement_id)
    return [AuditEntry(at=r.at, actor=r.actor, action=r.action, detail=r.detail) for r in rows]


# --- 사후관리 (M1–M3) ------------------------------------------------------------------------------------------

def _follow_up_view(f: FollowUpRow) -> FollowUpView:
    return FollowUpView(kind=f.kind, due_on=f.due_on, answered_at=f.submitted_at, answers=f.answers,
                        reminded=Reminded(due_soon=f.reminded_due_soon_at, overdue=f.reminded_overdue_at))


@router.get("/agreements/{agreement_id}/follow-ups",
            summary="What the company owes after its report (survey, outcome reports) and the questions (M1)")
async def follow_ups(principal: Signer, uow: ReadUnit, contracts: Config,
                     agreement_id: str) -> FollowUps:
    db = uow.store
    a = await handlers.visible_agreement(uow, agreement_id, principal)
    rows = await db.follow_ups_of(agreement_id)
    terms = contracts.program(a.program_id, a.program_version).follow_up
    return FollowUps(agreement_id=agreement_id, owed=[_follow_up_view(f) for f in rows],
                     survey_items=[i.model_dump() for i in terms.survey_items],
                     outcome_questions=[q.model_dump() for q in terms.outcome_questions])


@router.post("/agreements/{agreement_id}/follow-ups/{kind}", status_code=201,
             summary="Answer the satisfaction survey or an outcome report (M1 → FollowUpSubmitted)")
async def answer_follow_up(company: Company, uow: Writer, contracts: Config, agreement_id: str,
                           kind: Annotated[str, Path(pattern=r"^(survey|outcome-([1-9]|1[0-2])m)$")],
                           form: FollowUpForm) -> FollowUpView:
    f = await handlers.submit_follow_up(uow, contracts, agreement_id, company,
                                        kind=kind, answers=form.answers)
    return _follow_up_view(f)


@router.get("/programs/{program_id}/follow-up",
            summary="The program's follow-up: answered and overdue, survey means, outcomes (M3)")
async def program_follow_up(operator: Operator, uow: ReadUnit, contracts: Config,
                            program_id: str) -> ProgramFollowUp:
    if not operator.sees(program_id):  # T1: as if the program were not deployed here (follow_up_report's M3)
        raise RuleViolation(Problem("program_id", "M3", f"no program {program_id!r} here"), status_code=404)
    report = await handlers.follow_up_report(uow, contracts, program_id)
    return ProgramFollowUp(**report)
