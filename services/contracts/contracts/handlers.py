"""Contracts' effects: agreements drafted from selections, the three signatures (C1), amendments (C5), sessions
(C3), give-up (C6), termination (C7), the result report (C8) and the follow-up after it (사후관리, M1–M3). Each
function runs in the caller's transaction and writes its events to the outbox there."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable


from contracts import follow_up, metrics, rules, store
from contracts.rows import AgreementRow, FollowUpRow, ReportRow, SessionRow
from contracts.rules import ConsultingSession, Party, SessionKind
from contracts.status import OPEN, AgreementStatus, ReportStatus
from sme_runtime.auth import Principal
from sme_runtime.consumer import program_of_event
from sme_runtime.problems import Problem, RuleViolation
from sme_runtime.rows import known
from sme_runtime.unit import EventHandler, Unit, units
from sme_schemas import Envelope
from sme_schemas.contracts import (
    CLAWBACK_REASONS, AgreementSigned, AgreementTerminated, FollowUpReminder, FollowUpSubmitted, ParticipationGivenUp,
    ReportAccepted, ReportReturned, TerminationReason,
)
from sme_schemas.application import EvidenceDocument, ExpertQualification
from sme_schemas.evaluation import ApplicationSelected
from sme_schemas.grade import grade_label
from sme_schemas.periods import local_date
from sme_programs import ProgramDefinition
from sme_schemas.screening import ScreeningPassed

SOURCE = "/sme/contracts"  # CloudEvents source: /sme/<service>, as every service


# One transaction's store and outbox, as the consumers and the routes give it to the use cases (tests: a fake)
unit = units(store.ContractsStore, source=SOURCE)
ContractsUnit = Unit[store.ContractsStore]
Handler = EventHandler[store.ContractsStore]


@dataclass
class Contracts:
    programs: dict[str, ProgramDefinition]
    clock: Callable[[], datetime]
    signature_days: int = 14  # drafted → signed by the three parties, else flagged to operators

    def program(self, program_id: str, version: int | None = None) -> ProgramDefinition:
        """The version the application applied under (V1)."""
        return program_of_event(self.programs, program_id, version)


def agreement_id_of(application_id: str) -> str:
    """One agreement per selected application; derived, so a replay drafts the same one."""
    return f"AGR-{application_id}"


# --- events in ------------------------------------------------------------------------------------------------

def on_screening_passed(contracts: Contracts) -> Handler:
    async def handle(uow: ContractsUnit, envelope: Envelope, event: ScreeningPassed) -> None:
        contracts.program(event.program_id)
        f = event.facts
        await uow.store.lock_application(event.application_id)
        await uow.store.upsert_parties(
            application_id=event.application_id, program_id=event.program_id, revision=event.revision,
            brn=f.business_registration_number, company_name=f.company_name, ceo_name=f.ceo_name,
            expert_name=f.expert_name, expert_affiliation=f.expert_affiliation,
            consulting_cost=f.consulting_cost_excluding_vat)
        await draft_when_ready(uow, contracts, event.application_id)

    return handle


def on_application_selected(contracts: Contracts) -> Handler:
    async def handle(uow: ContractsUnit, envelope: Envelope, event: ApplicationSelected) -> None:
        program = contracts.program(event.program_id, event.program_version)
        await uow.store.lock_application(event.application_id)
        await uow.store.insert_selection(application_id=event.application_id, program_id=event.program_id,
                                         round_id=event.round_id, planned_subsidy=event.planned_subsidy,
                                         selected_at=event.selected_at, via=event.via, program_version=program.version)
        await draft_when_ready(uow, contracts, event.application_id)

    return handle


def consulting_sessions(rows: Iterable[SessionRow]) -> list[ConsultingSession]:
    """The consulting sessions (C3) of stored session rows, as the rules count them."""
    return [ConsultingSession(s.held_on, s.hours, SessionKind(s.kind)) for s in rows]


async def draft_when_ready(uow: ContractsUnit, contracts: Contracts, application_id: str) -> None:
    """C2: the draft needs the selection (amount) and the verified parties, whichever event comes second. Every
    value comes from the events, so a replay in any order drafts the identical agreement."""
    selected, parties = await uow.store.selection(application_id), await uow.store.parties(application_id)
    if selected is None or parties is None:
        return
    program = contracts.program(selected.program_id, selected.program_version)
    term_start = local_date(selected.selected_at)
    agreement_id = agreement_id_of(application_id)
    problems = rules.term_problems(term_start, program.program_year_end, selected.planned_subsidy, program,
                                   selected.planned_subsidy)
    if problems:
        await uow.store.audit(at=selected.selected_at, actor="rules", action="not-drafted",
                              agreement_id=agreement_id, application_id=application_id,
                              detail={"problems": [p.as_dict() for p in problems]})
        return
    drafted = await uow.store.insert_agreement(
        agreement_id=agreement_id, application_id=application_id, program_id=selected.program_id,
        program_version=program.version,
        brn=parties.brn, company_name=parties.company_name, ceo_name=parties.ceo_name,
        expert_name=parties.expert_name, expert_affiliation=parties.expert_affiliation, term_start=term_start,
        term_end=program.program_year_end, agreed_amount=selected.planned_subsidy,
        minimum_sessions=program.support.minimum_sessions, follow_up_sessions=program.support.follow_up_sessions,
        status=AgreementStatus.DRAFTED, drafted_at=selected.selected_at,
        sign_by=program.working_calendar().deadline(selected.selected_at, days=contracts.signature_days))
    if drafted:
        metrics.DRAFTED.inc()
        await uow.store.audit(at=selected.selected_at, actor="rules", action="drafted",
                              agreement_id=agreement_id, application_id=application_id,
                              detail={"via": selected.via, "agreed_amount": selected.planned_subsidy})


# --- who may do what ------------------------------------------------------------------------------------------

async def visible_agreement(uow: ContractsUnit, agreement_id: str, principal: Principal, *,
                            lock: bool = False) -> AgreementRow:
    """C9: the agreement, or 404 for anyone who is not a party or an operator (not even its existence shows);
    T1: nor for another agency's staff or experts."""
    a = await uow.store.agreement(agreement_id, lock=lock)
    if a is None or not principal.sees(a.program_id) or not rules.visible_to(
            principal.role, principal.business_registration_number, a.brn):
        raise RuleViolation(Problem("agreement_id", "C9", f"no agreement {agreement_id} visible to you"),
                            status_code=404)
    return a


def _require_status(a: AgreementRow, allowed: tuple[str, ...], rule: str, doing: str) -> None:
    if a.status not in allowed:
        raise RuleViolation(Problem("status", rule, f"agreement {a.agreement_id} is {a.status}; {doing} needs it "
                                    f"{' or '.join(allowed)}"), status_code=409)


# --- C1 signatures --------------------------------------------------------------------------------------------

async def sign(uow: ContractsUnit, contracts: Contracts, agreement_id: str, principal: Principal) -> AgreementRow:
    """The caller signs for their party; the third signature puts the agreement in force and emits
    AgreementSigned, exactly once."""
    a = await visible_agreement(uow, agreement_id, principal, lock=True)
    _require_status(a, (AgreementStatus.DRAFTED,), "C1", "signing")
    party = rules.party_of(principal.role)
    if party is None:
        raise RuleViolation(Problem("Authorization", "C1", "only the center, the company and its expert sign"),
                            status_code=403)
    expert_party = contracts.program(a.program_id, a.program_version).support.expert_party
    if party is Party.EXPERT and not expert_party:
        raise RuleViolation(Problem("Authorization", "C1", "this program's agreement has two parties, the center "
                                    "and the company; no expert signs (support.expert_party)"), status_code=403)
    if party is Party.EXPERT and not a.expert_name:
        raise RuleViolation(Problem("expert_name", "C1", "the company has not named its expert; an operator "
                                    "records the expert by amendment (C5) first"), status_code=409)
    now = contracts.clock()
    if await uow.store.sign(agreement_id, party.value, principal.subject, now):
        await uow.store.audit(at=now, actor=principal.subject, action="signed", agreement_id=agreement_id,
                              application_id=a.application_id, detail={"party": party.value})
    signed = [Party(s.party) for s in await uow.store.signatures(agreement_id)]
    if rules.in_force(signed, expert_party):
        await uow.store.update_agreement(agreement_id, status=AgreementStatus.IN_FORCE, signed_at=now)
        await uow.publish(AgreementSigned(
            program_id=a.program_id, program_version=a.program_version, occurred_at=now,
            application_id=a.application_id, agreement_id=agreement_id, signed_at=now,
            term_start=a.term_start, term_end=a.term_end, agreed_amount=a.agreed_amount,
            minimum_sessions=a.minimum_sessions, follow_up_sessions=a.follow_up_sessions,
            company_name=a.company_name, expert_name=a.expert_name,
            business_registration_number=a.brn))
        metrics.SIGNED.inc()
    return await uow.store.written_agreement(agreement_id)


# --- C5 amendments --------------------------------------------------------------------------------------------

AMENDABLE = ("term_end", "agreed_amount", "minimum_sessions", "follow_up_sessions", "expert_name",
             "expert_affiliation")


async def amend(uow: ContractsUnit, contracts: Contracts, agreement_id: str, principal: Principal, *,
                changes: dict[str, Any], reason: str, agreed_by: list[Party],
                expert_qualification: ExpertQualification | None = None,
                expert_evidence: tuple[EvidenceDocument, ...] = ()) -> AgreementRow:
    """C5: a change by mutual agreement, recorded with its reason. Before the agreement is in force, signatures
    already given were given to other terms and are withdrawn; once in force, the company and the expert must
    have agreed. A new expert is graded (G1–G3) and proven (E4) before the change takes effect."""
    a = await visible_agreement(uow, agreement_id, principal, lock=True)
    _require_status(a, OPEN, "C5", "an amendment")
    program = contracts.program(a.program_id, a.program_version)
    # C1: an agreement is drafted from its selection only
    selected = known(await uow.store.selection(a.application_id), f"the selection of agreement {agreement_id}")
    changed = {k: v for k, v in changes.items() if v is not None and v != getattr(a, k)}
    if not changed:
        raise RuleViolation(Problem("changes", "C5", "nothing differs from the agreement as it stands"))
    after = {k: changed.get(k, getattr(a, k)) for k in AMENDABLE}
    problems = rules.term_problems(a.term_start, after["term_end"], after["agreed_amount"], program,
                                   selected.planned_subsidy)
    for field in ("minimum_sessions", "follow_up_sessions"):
        least = getattr(program.support, field)
        if after[field] < least:
            problems.append(Problem(field, "C3", f"{after[field]} is below the program's {least}"))
    if a.status == AgreementStatus.IN_FORCE and not {Party.COMPANY, Party.EXPERT} <= set(agreed_by):
        problems.append(Problem("agreed_by", "C5", "an agreement in force changes only with the company's and "
                                "the expert's agreement"))
    now = contracts.clock()
    recorded = {k: [getattr(a, k), v] for k, v in changed.items()}
    if "expert_name" in changed and program.support.expert_party:
        expert_problems, assessment = rules.new_expert_problems(expert_qualification, expert_evidence, program,
                                                                local_date(now))
        problems += expert_problems
        if assessment is not None:
            recorded["expert_grade"] = [None, grade_label(assessment.grade)]
            recorded["expert_evidence"] = [None, [d.file_reference for d in expert_evidence]]
    if problems:
        raise RuleViolation(*problems)
    await uow.store.update_agreement(agreement_id, **changed)
    await uow.store.add_amendment(agreement_id=agreement_id, changes=recorded, reason=reason,
                                  agreed_by=sorted({p.value for p in agreed_by} | {Party.CENTER.value}),
                                  recorded_by=principal.subject, at=now)
    withdrawn = await uow.store.clear_signatures(agreement_id) if a.status == AgreementStatus.DRAFTED else 0
    await uow.store.audit(at=now, actor=principal.subject, action="amended", agreement_id=agreement_id,
                          application_id=a.application_id,
                          detail={"changes": list(changed), "reason": reason, "signatures_withdrawn": withdrawn})
    return await uow.store.written_agreement(agreement_id)


# --- C3 sessions ----------------------------------------------------------------------------------------------

async def log_session(uow: ContractsUnit, contracts: Contracts, agreement_id: str, principal: Principal, *,
                      held_on: date, hours: int, kind: SessionKind, place: str, notes: str,
                      photo_refs: list[str]) -> int:
    a = await visible_agreement(uow, agreement_id, principal, lock=True)
    _require_status(a, (AgreementStatus.IN_FORCE,), "C3", "logging a session")
    program = contracts.program(a.program_id, a.program_version)
    logged = consulting_sessions(await uow.store.sessions_of(agreement_id))
    problems = rules.session_problems(ConsultingSession(held_on, hours, kind, len(photo_refs)), logged,
                                      term_start=a.term_start, term_end=a.term_end,
                                      max_hours_per_day=program.support.max_hours_per_day,
                                      today=local_date(contracts.clock()))
    if problems:
        raise RuleViolation(*problems)
    now = contracts.clock()
    session_id = await uow.store.add_session(agreement_id=agreement_id, held_on=held_on, hours=hours,
                                             kind=kind.value, place=place, notes=notes, photo_refs=photo_refs,
                                             logged_by=principal.subject, logged_at=now)
    metrics.SESSIONS.labels(kind.value).inc()
    return session_id


# --- C6 give-up, C7 termination -------------------------------------------------------------------------------

async def request_give_up(uow: ContractsUnit, contracts: Contracts, agreement_id: str, principal: Principal, *,
                          reason: str) -> AgreementRow:
    a = await visible_agreement(uow, agreement_id, principal, lock=True)
    _require_status(a, OPEN, "C6", "a give-up")
    now = contracts.clock()
    await uow.store.update_agreement(agreement_id, give_up_requested_at=now, give_up_reason=reason)
    await uow.store.audit(at=now, actor=principal.subject, action="give-up-filed", agreement_id=agreement_id,
                          application_id=a.application_id, detail={"reason": reason})
    return await uow.store.written_agreement(agreement_id)


async def approve_give_up(uow: ContractsUnit, contracts: Contracts, agreement_id: str, principal: Principal, *,
                          restrict: bool) -> AgreementRow:
    """C6: from the approval day the company may be restricted for the program's number of days (X10 in
    screening); the agreed amount is freed for the waitlist (F5 in evaluation)."""
    a = await visible_agreement(uow, agreement_id, principal, lock=True)
    _require_status(a, OPEN, "C6", "approving a give-up")
    if a.give_up_requested_at is None:
        raise RuleViolation(Problem("give_up", "C6", "the company has not filed a give-up"), status_code=409)
    program, now = contracts.program(a.program_id, a.program_version), contracts.clock()
    until = rules.restricted_until(local_date(now), program.give_up_restriction_days) if restrict else None
    freed = rules.freed_on_leaving(a.agreed_amount, a.accepted_at is not None)
    await uow.store.update_agreement(agreement_id, status=AgreementStatus.GIVEN_UP, ended_at=now,
                                     ended_reason=a.give_up_reason, restricted_until=until)
    await uow.store.audit(at=now, actor=principal.subject, action="give-up-approved",
                          agreement_id=agreement_id, application_id=a.application_id,
                          detail={"restricted_until": until, "freed_amount": freed})
    await uow.publish(ParticipationGivenUp(
        program_id=a.program_id, program_version=a.program_version, occurred_at=now,
        application_id=a.application_id, agreement_id=agreement_id,
        business_registration_number=a.brn, approved_at=now, restricted_until=until, freed_amount=freed))
    metrics.ENDED.labels(AgreementStatus.GIVEN_UP).inc()
    return await uow.store.written_agreement(agreement_id)


async def terminate(uow: ContractsUnit, contracts: Contracts, agreement_id: str, principal: Principal, *,
                    reason: TerminationReason, note: str) -> AgreementRow:
    """C7: the center ends the agreement; fraud or false evidence make a paid subsidy recoverable (payments)."""
    if reason is TerminationReason.GIVE_UP:
        raise RuleViolation(Problem("reason", "C6", "a give-up is filed by the company and approved "
                                    "(POST …/give-up, then …/give-up/approve), not terminated"))
    a = await visible_agreement(uow, agreement_id, principal, lock=True)
    _require_status(a, (*OPEN, AgreementStatus.COMPLETED), "C7", "a termination")
    now = contracts.clock()
    clawback = reason in CLAWBACK_REASONS
    freed = rules.freed_on_leaving(a.agreed_amount, a.accepted_at is not None)
    await uow.store.update_agreement(agreement_id, status=AgreementStatus.TERMINATED, ended_at=now,
                                     ended_reason=rules.termination_record(reason, note))
    await uow.store.audit(at=now, actor=principal.subject, action="terminated", agreement_id=agreement_id,
                          application_id=a.application_id,
                          detail={"reason": reason.value, "note": note, "clawback": clawback, "freed_amount": freed})
    await uow.publish(AgreementTerminated(
        program_id=a.program_id, program_version=a.program_version, occurred_at=now,
        application_id=a.application_id, agreement_id=agreement_id,
        terminated_at=now, reason=reason, clawback=clawback, freed_amount=freed))
    metrics.ENDED.labels(AgreementStatus.TERMINATED).inc()
    return await uow.store.written_agreement(agreement_id)


# --- C8 result report -----------------------------------------------------------------------------------------

async def submit_report(uow: ContractsUnit, contracts: Contracts, agreement_id: str, principal: Principal, *,
                        report_ref: str, log_refs: list[str], fee_evidence_refs: list[str]) -> int:
    a = await visible_agreement(uow, agreement_id, principal, lock=True)
    _require_status(a, (AgreementStatus.IN_FORCE,), "C8", "a result report")
    reports = await uow.store.reports_of(agreement_id)
    if reports and reports[-1].status == ReportStatus.SUBMITTED:
        raise RuleViolation(Problem("report", "C8", f"revision {reports[-1].revision} waits for the center's "
                                    "review"), status_code=409)
    held = consulting_sessions(await uow.store.sessions_of(agreement_id))
    problems = rules.report_problems(held, minimum_sessions=a.minimum_sessions,
                                     follow_up_sessions=a.follow_up_sessions)
    if problems:
        raise RuleViolation(*problems, status_code=409)
    now, revision = contracts.clock(), len(reports) + 1
    await uow.store.add_report(agreement_id=agreement_id, revision=revision, report_ref=report_ref,
                               log_refs=log_refs, fee_evidence_refs=fee_evidence_refs, submitted_by=principal.subject,
                               at=now)
    await uow.store.audit(at=now, actor=principal.subject, action="report-submitted",
                          agreement_id=agreement_id, application_id=a.application_id, detail={"revision": revision})
    return revision


async def _report_waiting(uow: ContractsUnit, a: AgreementRow) -> ReportRow:
    reports = await uow.store.reports_of(a.agreement_id)
    if not reports or reports[-1].status != ReportStatus.SUBMITTED:
        raise RuleViolation(Problem("report", "C8", "no result report waits for review"), status_code=409)
    return reports[-1]


async def accept_report(uow: ContractsUnit, contracts: Contracts, agreement_id: str,
                        principal: Principal) -> AgreementRow:
    """C8 → P1: the report is accepted; payments may now take the company's subsidy request."""
    a = await visible_agreement(uow, agreement_id, principal, lock=True)
    _require_status(a, (AgreementStatus.IN_FORCE,), "C8", "accepting a report")
    report = await _report_waiting(uow, a)
    now = contracts.clock()
    held = consulting_sessions(await uow.store.sessions_of(agreement_id))
    await uow.store.review_report(agreement_id, report.revision, status=ReportStatus.ACCEPTED, by=principal.subject,
                                   at=now)
    await uow.store.update_agreement(agreement_id, status=AgreementStatus.COMPLETED, accepted_at=now)
    await uow.store.audit(
        at=now, actor=principal.subject, action="report-accepted", agreement_id=agreement_id,
        application_id=a.application_id, detail={"revision": report.revision})
    await uow.publish(ReportAccepted(
        program_id=a.program_id, program_version=a.program_version, occurred_at=now,
        application_id=a.application_id, agreement_id=agreement_id,
        accepted_at=now, agreed_amount=a.agreed_amount,
        sessions_held=rules.consulting_days(held, SessionKind.ON_SITE),
        follow_up_sessions_held=rules.consulting_days(held, SessionKind.FOLLOW_UP),
        business_registration_number=a.brn))
    metrics.REPORTS.labels(ReportStatus.ACCEPTED).inc()
    program = contracts.program(a.program_id, a.program_version)
    for kind, due_on in follow_up.obligations(program.follow_up, local_date(now), program.working_calendar()):
        await uow.store.owe_follow_up(agreement=a, kind=kind, due_on=due_on)
    return await uow.store.written_agreement(agreement_id)


async def return_report(uow: ContractsUnit, contracts: Contracts, agreement_id: str, principal: Principal, *,
                        reasons: list[str]) -> AgreementRow:
    """C8: corrections asked for, with reasons; the company submits a new revision."""
    a = await visible_agreement(uow, agreement_id, principal, lock=True)
    report = await _report_waiting(uow, a)
    now = contracts.clock()
    await uow.store.review_report(agreement_id, report.revision, status=ReportStatus.RETURNED, by=principal.subject,
                                  at=now, reasons=reasons)
    await uow.store.audit(at=now, actor=principal.subject, action="report-returned",
                          agreement_id=agreement_id, application_id=a.application_id,
                          detail={"revision": report.revision, "reasons": reasons})
    await uow.publish(ReportReturned(
        program_id=a.program_id, program_version=a.program_version, occurred_at=now,
        application_id=a.application_id, agreement_id=agreement_id, returned_at=now, revision=report.revision,
        reasons=tuple(reasons)))
    metrics.REPORTS.labels(ReportStatus.RETURNED).inc()
    return await uow.store.written_agreement(agreement_id)


# --- 사후관리: the survey and the outcome reports (M1–M3) ---------------------------------------------------------

async def submit_follow_up(uow: ContractsUnit, contracts: Contracts, agreement_id: str, principal: Principal, *,
                           kind: str, answers: dict[str, follow_up.Answer]) -> FollowUpRow:
    """M1: the company answers what it owes, once; each problem names the question. A late answer is taken."""
    a = await visible_agreement(uow, agreement_id, principal)
    owed = await uow.store.follow_up(agreement_id, kind, lock=True)
    if owed is None:
        raise RuleViolation(Problem("kind", "M1", f"{agreement_id} owes no {kind!r}: the follow-up starts when the "
                                    "result report is accepted"), status_code=404)
    if owed.submitted_at is not None:
        raise RuleViolation(Problem("kind", "M1", f"{kind} was answered on {local_date(owed.submitted_at)}"),
                            status_code=409)
    problems = follow_up.answer_problems(contracts.program(a.program_id, a.program_version).follow_up, kind, answers)
    if problems:
        raise RuleViolation(*problems)
    now = contracts.clock()
    await uow.store.answer_follow_up(agreement_id, kind, answers=answers, by=principal.subject, at=now)
    await uow.store.audit(at=now, actor=principal.subject, action="follow-up-submitted",
                          agreement_id=agreement_id, application_id=a.application_id,
                          detail={"kind": kind, "late": local_date(now) > owed.due_on})
    await uow.publish(FollowUpSubmitted(
        program_id=a.program_id, program_version=a.program_version, occurred_at=now, application_id=a.application_id,
        agreement_id=agreement_id, kind=kind, due_on=owed.due_on, submitted_at=now, answers=answers))
    return await uow.store.written_follow_up(agreement_id, kind)


async def remind_follow_ups(uow: ContractsUnit, contracts: Contracts) -> list[tuple[str, str, str]]:
    """M2: due dates live in rows, not timers, so a restart loses none; each sweep raises the reminders owed
    today, each once. Returns (agreement, kind, reminder) raised."""
    now = contracts.clock()
    today = local_date(now)
    raised: list[tuple[str, str, str]] = []
    for row in await uow.store.open_follow_ups_due_by(today + timedelta(days=90)):
        terms = contracts.program(row.program_id, row.program_version).follow_up
        reminder = follow_up.reminder_due(row.due_on, today, terms, answered=False,
                                          reminded_soon=row.reminded_due_soon_at is not None,
                                          reminded_overdue=row.reminded_overdue_at is not None)
        if reminder is None:
            continue
        await uow.store.mark_reminded(row.agreement_id, row.kind, reminder, now)
        await uow.publish(FollowUpReminder(
            program_id=row.program_id, program_version=row.program_version, occurred_at=now,
            application_id=row.application_id, agreement_id=row.agreement_id, business_registration_number=row.brn,
            kind=row.kind, due_on=row.due_on, reminder=reminder))
        raised.append((row.agreement_id, row.kind, reminder))
    return raised


async def follow_up_report(uow: ContractsUnit, contracts: Contracts, program_id: str) -> dict[str, Any]:
    """M3: the program's follow-up as the center reports it."""
    if program_id not in contracts.programs:
        raise RuleViolation(Problem("program_id", "M3", f"no program {program_id!r} here"), status_code=404)
    terms = contracts.program(program_id).follow_up
    rows = await uow.store.follow_ups_of_program(program_id)
    owed = [follow_up.Obligation(r.kind, r.due_on, r.answers) for r in rows]
    return {"program_id": program_id, "as_of": local_date(contracts.clock()), "companies": len({r.agreement_id
                                                                                             for r in rows}),
            **follow_up.report(terms, owed, local_date(contracts.clock()))}
