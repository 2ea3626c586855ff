"""Intake's use cases. Each runs inside the caller's transaction and writes its events to the outbox there."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from pydantic import TypeAdapter, ValidationError


from intake import store
from intake.domain import (
    A2Refusal, Disposition, LiveApplication, Status, amendable, content_problems, dispose_submission,
    required_evidence, supplement_problem, unmet_requirements, window_problem, withdrawable,
)
from intake.form import ApplicationForm, to_contacts, to_content
from intake.ids import new_application_id
from intake.rows import ApplicationRow
from sme_runtime.auth import Principal, Role
from sme_runtime.bus_acl import OutsideSystem
from sme_runtime.consumer import Collected, EventRefused, unknown_to
from sme_runtime.problems import Problem, RuleViolation
from sme_runtime.unit import EventHandler, Unit, units
from sme_schemas import Envelope, EnvelopeError
from sme_schemas.application import ApplicationContent, EvidenceRequirement
from sme_schemas.intake import (
    ApplicationAmended, ApplicationFiledByMunicipalSystem, ApplicationFilingResult, ApplicationSubmitted,
    ApplicationWithdrawn, Channel, FilingProblem,
)
from sme_schemas.periods import local_date
from sme_programs import EvidenceLine, ProgramDefinition, Programs
from sme_schemas.screening import SupplementRequested
from sme_schemas.values import ProgramId

SOURCE = "/sme/intake"
log = logging.getLogger(__name__)
FilingProgram: TypeAdapter[str | None] = TypeAdapter(ProgramId | None)


# One transaction's store and outbox, as the consumers and the routes give it to the use cases (tests: a fake)
unit = units(store.IntakeStore, source=SOURCE)
IntakeUnit = Unit[store.IntakeStore]
Handler = EventHandler[store.IntakeStore]


RACE_ATTEMPTS = 3


@dataclass(frozen=True)
class Submission:
    """What a submission did: created, amended or unchanged (a double click), and the application now."""

    disposition: Disposition
    application_id: str
    row: ApplicationRow | None = None  # the stored application when the use case already holds it (saves a re-read)


@dataclass(frozen=True)
class Intake:
    """Dependencies of the use cases."""

    programs: dict[str, ProgramDefinition]
    # () -> aware UTC datetime; a demo may run it ahead (INTAKE_CLOCK_OFFSET_DAYS, never in production)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))

    def program(self, program_id: str, version: int | None = None) -> ProgramDefinition:
        """The newest version for a new application; an amendment's, the version it applied under (V1)."""
        program = self.programs.get(program_id)
        if program is None:
            raise RuleViolation(Problem("program_id", "A3", f"no open program call {program_id!r}; "
                                        f"known: {', '.join(sorted(self.programs)) or 'none'}"))
        if version is not None and version != program.version:
            found = self.programs.at(program_id, version) if isinstance(self.programs, Programs) else None
            if found is None:
                raise RuleViolation(Problem("program_version", "V1", f"{program_id} version {version}, which the "
                                            "application applied under, is no longer deployed"), status_code=409)
            return found
        return program

    def evidence_lines(self, program_id: str, version: int | None) -> tuple[EvidenceLine, ...]:
        """The evidence list of the version an application applied under; none when that version is no longer
        deployed (its list cannot be told)."""
        try:
            return self.program(program_id, version).evidence
        except RuleViolation:
            return ()


def validate(intake: Intake, content: ApplicationContent, program_id: str, at: datetime,
             version: int | None = None) -> ProgramDefinition:
    """A1 and A3 checks beyond the form's own; raises RuleViolation with every problem at once."""
    program = intake.program(program_id, version)
    problems = [p for p in [window_problem(program, at)] if p]
    problems += content_problems(content, program, local_date(at))
    if problems:
        raise RuleViolation(*problems)
    return program


async def submit_application(uow: IntakeUnit, intake: Intake, *, form: ApplicationForm, actor: Principal,
                             at: datetime) -> Submission:
    """Submit 서식1+서식2; a second submission of the same company amends the first (A2)."""
    _check_company_acts_for_itself(actor, form.company.business_registration_number)
    _check_staff_acts_for_the_program(actor, form.program_id)
    content = to_content(form, consent_at=at)
    program = validate(intake, content, form.program_id, at)
    return await _file(uow, intake, program=program, content=content, contacts=to_contacts(form).model_dump(),
                       channel="web", actor=actor.subject, at=at)


async def _file(uow: IntakeUnit, intake: Intake, *, program: ProgramDefinition, content: ApplicationContent,
                contacts: dict[str, Any] | None, channel: Channel, actor: str, at: datetime,
                source_system: str | None = None, external_reference: str | None = None) -> Submission:
    program_id = program.program_id
    new: dict[str, Any] = dict(
        program_id=program_id,
        program_version=program.version,
        required=_evidence_list(content, program),
        content=content,
        contacts=contacts,
        channel=channel,
        actor=actor,
        at=at,
        source_system=source_system,
        external_reference=external_reference,
    )
    # Most submissions are a company's first: try that in one statement, and read the live one only if there is
    # one. It may be withdrawn before we read it (then try again), or a new one filed meanwhile (read again).
    for _ in range(RACE_ATTEMPTS):
        created = await _create(uow, **new)
        if created is not None:
            return created
        row = await uow.store.live_application(program_id, content.company.business_registration_number)
        if row is None:
            continue
        if channel == "municipal-system":
            _same_filing_or_refuse(row, source_system, external_reference)
        try:
            disposition = dispose_submission(_live(row), content)
        except A2Refusal as refusal:
            raise RuleViolation(refusal.problem, status_code=409) from None
        if disposition is Disposition.AMEND:
            # V1: the amendment is judged by the version the application applied under
            applied_under = validate(intake, content, program_id, at, row.program_version)
            await _amend(uow, row, content=content, contacts=contacts, actor=actor, at=at,
                         required=_evidence_list(content, applied_under))
        return Submission(disposition, row.application_id)
    raise RuleViolation(Problem("company.business_registration_number", "A2", "this company's application in the "
                                "program is being withdrawn and filed again at this moment; send it again"),
                        status_code=409)


def _same_filing_or_refuse(live: Any, source_system: str | None, external_reference: str | None) -> None:
    """A2 across systems: a filing amends only the application its own reference filed. Another reference (or a
    company that applied on the web) is another application of a company that has one live: refused, never merged
    into the first silently."""
    if (live.source_system, live.external_reference) == (source_system, external_reference):
        return
    filed = (f"filed by {live.source_system} as {live.external_reference}" if live.source_system
             else "filed by the company on the web")
    raise RuleViolation(Problem("external_reference", "A2", f"the company already has a live application in this "
                                f"program, {live.application_id}, {filed}: one company, one live application; "
                                "amend it under its own reference, or have it withdrawn first"), status_code=409)


async def _create(uow: IntakeUnit, *, program_id: str, program_version: int,
                  required: tuple[EvidenceRequirement, ...], content: ApplicationContent,
                  contacts: dict[str, Any] | None, channel: Channel, actor: str, at: datetime,
                  source_system: str | None, external_reference: str | None) -> Submission | None:
    """A2: a new application unless the company has a live one in the program (then None, nothing written)."""
    application_id = new_application_id()
    stored = await uow.store.insert_unless_live(
        application_id=application_id, program_id=program_id, program_version=program_version,
        brn=content.company.business_registration_number, channel=channel, at=at,
        content=content.model_dump(mode="json"), contacts=contacts, submitted_by=actor,
        source_system=source_system, external_reference=external_reference)
    if stored is None:
        return None
    await uow.publish(ApplicationSubmitted(
        program_id=program_id, program_version=program_version, application_id=application_id, occurred_at=at,
        submitted_at=at, revision=1, channel=channel, content=content, required_evidence=required))
    return Submission(Disposition.CREATE, application_id, stored)


async def amend_application(uow: IntakeUnit, intake: Intake, *, application_id: str, form: ApplicationForm,
                            actor: Principal, at: datetime) -> Submission:
    """Replace the application before screening starts (A2)."""
    row = await _owned(uow, application_id, actor, lock=True)
    if form.program_id != row.program_id or form.company.business_registration_number != row.brn:
        raise RuleViolation(Problem("company.business_registration_number", "A2",
                                    "an amendment cannot move the application to another company or program"))
    if not amendable(Status(row.status)):
        raise RuleViolation(Problem("application_id", "A2", f"application is {row.status}: amendments are accepted "
                                    "only until screening starts (and documents while a supplement is requested)"),
                            status_code=409)
    content = to_content(form, consent_at=at)
    program = validate(intake, content, form.program_id, at, row.program_version)
    try:
        disposition = dispose_submission(_live(row), content)
    except A2Refusal as refusal:
        raise RuleViolation(refusal.problem, status_code=409) from None
    if disposition is Disposition.UNCHANGED:
        return Submission(Disposition.UNCHANGED, application_id)
    await _amend(uow, row, content=content, contacts=to_contacts(form).model_dump(), actor=actor.subject, at=at,
                 required=_evidence_list(content, program))
    return Submission(Disposition.AMEND, application_id)


async def _amend(uow: IntakeUnit, row: ApplicationRow, *, content: ApplicationContent, contacts: dict[str,
                 Any] | None, actor: str,
                 at: datetime, required: tuple[EvidenceRequirement, ...]) -> None:
    supplementing = Status(row.status) is Status.SUPPLEMENT
    if supplementing:
        problem = supplement_problem(row.supplement_deadline, at)
        if problem:
            raise RuleViolation(problem, status_code=409)
    revision = await uow.store.amend(row.application_id, content=content.model_dump(mode="json"),
                                     contacts=contacts, at=at)
    await uow.store.add_history(row.application_id, revision=revision,
                                action="supplemented" if supplementing else "amended", actor=actor, at=at)
    if supplementing:  # back to screening, which re-evaluates the new revision (E6)
        await uow.store.set_status(row.application_id, Status.SCREENING, at=at, reason="supplemented")
    await uow.publish(ApplicationAmended(
        program_id=row.program_id, program_version=row.program_version, application_id=row.application_id,
        occurred_at=at, submitted_at=row.submitted_at, amended_at=at, revision=revision, content=content,
        required_evidence=required))


async def withdraw_application(uow: IntakeUnit, *, application_id: str, reason: str | None, actor: Principal,
                               at: datetime) -> None:
    """The company withdraws; the application stops being live (A2) and screening drops it."""
    row = await _owned(uow, application_id, actor, lock=True)
    if not withdrawable(Status(row.status)):
        raise RuleViolation(Problem("application_id", "A2", f"application is already {row.status}"), status_code=409)
    await uow.store.set_status(application_id, Status.WITHDRAWN, at=at, reason=reason)
    await uow.store.add_history(application_id, revision=row.revision, action="withdrawn", actor=actor.subject,
                                at=at, detail={"reason": reason})
    await uow.publish(ApplicationWithdrawn(program_id=row.program_id, program_version=row.program_version,
                                           application_id=application_id,
                                           occurred_at=at, withdrawn_at=at, reason=reason))


async def read_application(uow: IntakeUnit, *, application_id: str, actor: Principal) -> ApplicationRow:
    return await _owned(uow, application_id, actor)


# --- events other services and systems publish to intake ---------------------------------------------------------

class FilingRefused(EventRefused):
    """A municipal filing that breaks rules: dead-lettered, and every problem answered to the sender."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message} ({p.rule})" for p in problems),
                         field=problems[0].field, rule=problems[0].rule)
        self.problems = problems


# A problem found in the form's terms, named where it is in the filing's body: the content is under `content`,
# and the application date (A3) is the moment the citizen filed with the other system, `occurred_at`.
_FILING_FIELDS = {"submitted_at": "occurred_at", "program_id": "program_id", "program_version": "program_version",
                  "external_reference": "external_reference", "source_system": "source_system", "": ""}


def in_filing(problem: Problem) -> Problem:
    mapped = _FILING_FIELDS.get(problem.field)
    return Problem(mapped if mapped is not None else f"content.{problem.field}", problem.rule, problem.message)


def file_from_municipal_system(intake: Intake, system: OutsideSystem | None = None) -> Handler:
    """Handler: an application forwarded by another municipal system, validated exactly like the web form. The
    sender is answered either way (ApplicationFilingResult, keyed by its own reference): accepted with the
    application, or refused with every problem (the refusal is dead-lettered too, for the center to see).
    `system`: read from that system's own topic, which only it may write on an authenticated bus; the answers go
    to its own answer topic, and a filing that names another sender is refused."""
    answers_to = system.answer_topic if system is not None else None

    async def handle(uow: IntakeUnit, envelope: Envelope, event: ApplicationFiledByMunicipalSystem) -> None:
        if system is not None:
            _from_the_authenticated_sender(system, envelope, event)
            _for_the_sender_s_agencies(system, intake, event)
        existing = await uow.store.by_external_reference(event.source_system, event.external_reference)
        if existing is not None and existing.status != Status.SUBMITTED:
            raise FilingRefused(Problem("external_reference", "A2", f"{event.source_system}:"
                                        f"{event.external_reference} is application {existing.application_id}, "
                                        f"already {existing.status}: it can no longer be amended"))
        try:
            # A3 is judged at the moment the citizen filed with the other system, not when the event arrived.
            program = validate(intake, event.content, event.program_id, event.occurred_at)
            done = await _file(uow, intake, program=program, content=event.content, contacts=None,
                               channel="municipal-system", actor=f"system:{event.source_system}",
                               at=event.occurred_at, source_system=event.source_system,
                               external_reference=event.external_reference)
        except RuleViolation as violation:
            raise FilingRefused(*(in_filing(p) for p in violation.problems)) from None
        await uow.publish(ApplicationFilingResult(
            program_id=event.program_id, occurred_at=intake.clock(), source_system=event.source_system,
            external_reference=event.external_reference, filing_event_id=envelope.id, outcome="accepted",
            application_id=done.application_id, disposition=done.disposition.done), topic=answers_to)

    async def answers_refusal(uow: IntakeUnit, record: Any, event_id: str | None, exc: Exception) -> None:
        result = refused_filing(record, exc, event_id=event_id, at=intake.clock())
        if result is None:
            log.warning("a refused filing at %s/%s/%s names no readable source_system and external_reference: "
                        "no answer can reach its sender (dead-lettered)", record.topic, record.partition,
                        record.offset)
            return
        await uow.publish(result, topic=answers_to)

    handle.answers_refusal = answers_refusal  # type: ignore[attr-defined]
    return handle


def _from_the_authenticated_sender(system: OutsideSystem, envelope: Envelope,
                                   event: ApplicationFiledByMunicipalSystem) -> None:
    """Rule `sender`: on its own topic a system files as itself: the CloudEvents source it registered and its own
    name as source_system. Anything else is a forged or misrouted filing, refused before it is looked at."""
    problems = []
    if envelope.source != system.source:
        problems.append(Problem("ce_source", "sender", f"{envelope.source!r} is not {system.name}'s registered "
                                f"source {system.source!r}: a filing on {system.filing_topic} comes from "
                                f"{system.name}"))
    if event.source_system != system.name:
        problems.append(Problem("source_system", "sender", f"{event.source_system!r} is not {system.name}, the "
                                "system this topic belongs to: a system files only as itself"))
    if problems:
        raise FilingRefused(*problems)


def _for_the_sender_s_agencies(system: OutsideSystem, intake: Intake,
                               event: ApplicationFiledByMunicipalSystem) -> None:
    """T1: a system files for the programs of the agencies it belongs to; another agency's program is not its to
    file for (a program not deployed here is left to A3)."""
    program = intake.programs.get(event.program_id)
    if program is not None and program.agency not in system.agencies:
        raise FilingRefused(Problem("program_id", "T1", f"{event.program_id} is run by {program.agency}; "
                                    f"{system.name} files for {', '.join(system.agencies)} only"))


def refused_filing(record: Any, exc: Exception, *, event_id: str | None,
                   at: datetime) -> ApplicationFilingResult | None:
    """The answer to a filing that was dead-lettered, read from its raw message (it may not be a valid event);
    None when the message names no sender reference to answer."""
    try:
        body = json.loads(record.value or b"")
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    try:
        return ApplicationFilingResult.model_validate(dict(
            program_id=_readable_program(body.get("program_id")), occurred_at=at,
            source_system=body.get("source_system"), external_reference=body.get("external_reference"),
            filing_event_id=(event_id or f"{record.topic}/{record.partition}/{record.offset}")[:200],
            outcome="refused", problems=_problems_of(exc)))
    except ValidationError:
        return None  # no usable source_system/external_reference: nobody to answer


def _problems_of(exc: Exception) -> tuple[FilingProblem, ...]:
    if isinstance(exc, FilingRefused):
        return tuple(FilingProblem(field=p.field, rule=p.rule, message=p.message[:2000]) for p in exc.problems)
    if isinstance(exc, (EventRefused, EnvelopeError)):
        return (FilingProblem(field=exc.field[:200], rule=(exc.rule or "contract")[:40], message=str(exc)[:2000]),)
    return (FilingProblem(field="", rule="internal", message="intake could not apply the filing; the center has "
                          "it as a dead letter and will replay it or contact you"),)


def _readable_program(value: object) -> str | None:
    try:
        return FilingProgram.validate_python(value)
    except ValidationError:
        return None


def _status_follows(status: Status, *, only_from: tuple[Status, ...]) -> Handler:
    """Handler factory: a screening event moves the application's status (A2 locks it from screening on); a batch's
    events move their applications together, once it is applied. An application in none of `only_from` (withdrawn
    meanwhile, or a later status already) stays as it is."""

    async def handle(uow: IntakeUnit, envelope: Envelope, event: Any) -> None:
        uow.collect(f"status-{status.value}", (envelope.id, event),
                    lambda moves: follow_all(uow, moves, status=status, only_from=only_from))

    return handle


async def follow_all(uow: IntakeUnit, moves: list[Collected[tuple[str, Any]]], *, status: Status,
                     only_from: tuple[Status, ...]) -> None:
    items = [c.item for c in moves]
    known = await uow.store.follow_statuses(
        [store.StatusMove(event.application_id, event.occurred_at, event_id) for event_id, event in items],
        status=status, only_from=only_from, reason=type(items[0][1]).__name__, actor="service:screening")
    if unknown := next((e for _, e in items if e.application_id not in known), None):
        raise unknown_to("intake", unknown)  # screening decides only what intake filed


on_screening_started = _status_follows(Status.SCREENING, only_from=(Status.SUBMITTED,))
on_screening_passed = _status_follows(Status.PASSED, only_from=(Status.SUBMITTED, Status.SCREENING))
on_application_rejected = _status_follows(Status.REJECTED, only_from=(Status.SUBMITTED, Status.SCREENING,
                                                                      Status.SUPPLEMENT, Status.PASSED))


async def on_supplement_requested(uow: IntakeUnit, envelope: Envelope, event: SupplementRequested) -> None:
    """E6: the company may now change its evidence (only that) until the deadline."""
    row = await uow.store.get(event.application_id, lock=True)
    if row is None:
        raise unknown_to("intake", event)
    if Status(row.status) not in (Status.SUBMITTED, Status.SCREENING, Status.SUPPLEMENT):
        return
    await uow.store.request_supplement(event.application_id, deadline=event.deadline, at=event.occurred_at)
    await uow.store.add_history(event.application_id, revision=row.revision, action="supplement-requested",
                                actor="service:screening", at=event.occurred_at,
                                detail={"ce_id": envelope.id, "deadline": event.deadline.isoformat(),
                                    "documents": [d.model_dump(mode="json") for d in event.documents]})


# --- helpers -------------------------------------------------------------------------------------------------------

def _evidence_list(content: ApplicationContent, program: ProgramDefinition) -> tuple[EvidenceRequirement, ...]:
    return required_evidence(content.company, content.expert, content.bonus, program.evidence, content.program_fields)


def evidence_status(content: ApplicationContent, lines: tuple[EvidenceLine, ...]) -> dict[str, Any]:
    """The company's evidence list (the program's, E1–E5) and what is still missing, for the API response."""
    required = required_evidence(content.company, content.expert, content.bonus, lines, content.program_fields)
    return {"required_evidence": [r.model_dump(mode="json") for r in required],
            "unmet_evidence": [r.model_dump(mode="json") for r in unmet_requirements(required, content.evidence)]}


def _live(row: ApplicationRow) -> LiveApplication:
    return LiveApplication(row.application_id, Status(row.status), ApplicationContent.model_validate(row.content))


def _check_company_acts_for_itself(actor: Principal, brn: str) -> None:
    if actor.role is Role.COMPANY and actor.business_registration_number != brn:
        raise RuleViolation(Problem("company.business_registration_number", "C9",
                                    "a company may apply only under its own business registration number"),
                            status_code=403)


def _check_staff_acts_for_the_program(actor: Principal, program_id: str) -> None:
    # T1: staff file paper applications for their own agencies' programs only (a company for any program).
    if not actor.sees(program_id):
        raise RuleViolation(Problem("program_id", "T1", f"{program_id!r} is no program of your agencies "
                                    f"({', '.join(sorted(actor.agencies))})"), status_code=403)


async def _owned(uow: IntakeUnit, application_id: str, actor: Principal, *,
                 lock: bool = False) -> ApplicationRow:
    row = await uow.store.get(application_id, lock=lock)
    # C9: a company that asks for another's application learns nothing, not even that it exists; nor does
    # another agency's staff (T1).
    if row is None or not actor.sees(row.program_id) or (
            actor.role is Role.COMPANY and row.brn != actor.business_registration_number):
        raise RuleViolation(Problem("application_id", "C9", f"no application {application_id} of yours"),
                            status_code=404)
    return row
