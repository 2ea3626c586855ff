"""Screening's use cases. Each runs in the caller's transaction; events go to the outbox in it.

Whatever happens to an application — submitted, amended, a registry answered, an operator ruled, the
supplement deadline passed — ends in `reconsider`, which asks the pure rules (screening.rules) for the whole
decision and publishes only what changed. So an automatic and an operator decision produce the same events."""
from __future__ import annotations

import logging

from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial
from typing import Any, Iterable, Mapping, Sequence, cast

from screening import metrics, store
from screening.evidence import supplement_deadline
from screening.lookup.messages import (
    LookupAnswered, LookupRequested, LookupResult, LookupSubject, Registry, Verdict, lookup_id,
)
from screening.rows import LookupAnswer, LookupRow, RecheckRow, RulingLine, ScreeningRow
from screening.status import (
    DECIDED, FINAL, RECHECK_DONE, RecheckStatus, ScreeningStatus, status_after,
)
from screening.rules import (
    OPERATOR_RULES, Case, Decision, ScreeningOutcome, Restriction, Ruling, awaited, can_change_the_decision,
    carried_over, decide, decide_recheck,
)
from sme_runtime.auth import Principal
from sme_runtime.consumer import Collected, program_of_event, unknown_to
from sme_runtime.problems import Problem, RuleViolation
from sme_runtime.unit import EventHandler, Unit, units
from sme_schemas import Envelope
from sme_schemas.application import ApplicationContent, EvidenceRequirement
from sme_schemas.contracts import ParticipationGivenUp
from sme_schemas.evaluation import RecheckRequested
from sme_schemas.intake import ApplicationAmended, ApplicationSubmitted, ApplicationWithdrawn
from sme_schemas.periods import local_date
from sme_programs import ProgramDefinition
from sme_schemas.screening import (
    ApplicationRejected, ExpertGradeLabel, Finding, ManualReviewRequested, RecheckCompleted, ScreeningPassed,
    ScreeningStarted, SupplementRequested,
)

log = logging.getLogger("screening.handlers")

SOURCE = "/sme/screening"

SCREENING = "screening"  # purpose of the first screening's lookups; X11 re-checks use recheck_purpose(request id)
RECHECK = "recheck:"


# One transaction's store and outbox, as the consumers and the routes give it to the use cases (tests: a fake)
unit = units(store.ScreeningStore, source=SOURCE)
ScreeningUnit = Unit[store.ScreeningStore]
Handler = EventHandler[store.ScreeningStore]


def recheck_purpose(request_id: str) -> str:
    """The purpose of an X11 re-check's lookups and rulings (the queue and the rulings API show it)."""
    return f"{RECHECK}{request_id}"


def recheck_request(purpose: str) -> str:
    """The request id of a re-check purpose (the one place the purpose is read back)."""
    return purpose.removeprefix(RECHECK)


@dataclass(frozen=True)
class Screening:
    """Dependencies of the use cases."""

    programs: dict[str, ProgramDefinition]
    clock: Any  # () -> aware UTC datetime
    # E6: a supplement filed just before the deadline may still be on the bus; the deadline bites this much later.
    supplement_grace: timedelta = timedelta(0)

    def program(self, program_id: str, version: int | None = None) -> ProgramDefinition:
        return program_of_event(self.programs, program_id, version)


# --- events from intake, evaluation and contracts ------------------------------------------------------------

def on_submitted(screening: Screening) -> Handler:
    """A deadline-day burst brings many submissions per batch: they are taken up together once it is applied."""
    async def handle(uow: ScreeningUnit, envelope: Envelope, event: ApplicationSubmitted) -> None:
        uow.collect("submitted", event, lambda submitted: take_up_all(uow, screening, submitted))

    return handle


def on_amended(screening: Screening) -> Handler:
    """A2/E6: an amendment or a supplement; the rules run again on the whole application as it now stands."""

    async def handle(uow: ScreeningUnit, envelope: Envelope, event: ApplicationAmended) -> None:
        row = await uow.store.get(event.application_id, lock=True)
        if row is None:  # the amendment overtook the submission (different topics): it carries everything
            await take_up_all(uow, screening, [Collected(event)])
            return
        if row.status in DECIDED or event.revision <= row.revision:
            return  # decided already, or an older revision arriving late
        now = screening.clock()
        await uow.store.replace_content(event.application_id, revision=event.revision,
                                        content=event.content.model_dump(mode="json"),
                                        required_evidence=[r.model_dump(mode="json") for r in event.required_evidence],
                                        at=now)
        await uow.store.audit(event.application_id, at=now, actor="company", action="amended",
                              detail={"revision": event.revision, "ce_id": envelope.id})
        await reconsider(uow, screening, event.application_id)

    return handle


async def take_up_all(uow: ScreeningUnit, screening: Screening,
                      events: Sequence[Collected[ApplicationSubmitted | ApplicationAmended]]) -> None:
    """Applications taken up for screening: their rows written in one statement, each new one started in its own
    event's trace, then all reconsidered together. One already known (a redelivery, a withdrawal that came first)
    is left as it is."""
    now = screening.clock()
    taken = [(c, c.item, screening.program(c.item.program_id, c.item.program_version)) for c in events]
    created = await uow.store.insert_many([store.NewScreening(
        application_id=e.application_id, program_id=program.program_id, program_version=program.version,
        brn=e.content.company.business_registration_number, revision=e.revision, submitted_at=e.submitted_at,
        content=e.content.model_dump(mode="json"), required_evidence=[r.model_dump(mode="json")
                                                                      for r in e.required_evidence])
        for _, e, program in taken], at=now)
    started: list[Collected[str]] = []
    for c, e, program in taken:
        if e.application_id not in created:
            continue
        created.discard(e.application_id)  # twins in one batch: the first is taken up
        with c.in_its_trace():
            await uow.publish(ScreeningStarted(program_id=program.program_id, program_version=program.version,
                                               application_id=e.application_id, occurred_at=now, started_at=now))
            await uow.store.audit(e.application_id, at=now, actor="rules", action="screening-started",
                                  detail={"revision": e.revision})
        started.append(Collected(e.application_id, c.trace))
    await reconsider_all(uow, screening, started)


def on_withdrawn(screening: Screening) -> Handler:
    async def handle(uow: ScreeningUnit, envelope: Envelope, event: ApplicationWithdrawn) -> None:
        now = screening.clock()
        row = await uow.store.get(event.application_id, lock=True)
        if row is None:  # withdrawn before the submission reached us: remember, so it is never screened
            await uow.store.insert(application_id=event.application_id, program_id=event.program_id, brn=None,
                                   revision=0, status=ScreeningStatus.WITHDRAWN, submitted_at=None, at=now,
                                   content=None, required_evidence=None)
        elif row.status in FINAL:
            return
        else:
            await uow.store.set_state(event.application_id, status=ScreeningStatus.WITHDRAWN, at=now, final=True,
                                      decision=row.decision)
            await uow.store.abandon_lookups(event.application_id)
        await uow.store.audit(event.application_id, at=now, actor="company", action="withdrawn",
                              detail={"reason": event.reason})

    return handle


def on_given_up(screening: Screening) -> Handler:
    """C6 → X10: remember the restriction; applications filed inside it are excluded."""

    async def handle(uow: ScreeningUnit, envelope: Envelope, event: ParticipationGivenUp) -> None:
        if await uow.store.get(event.application_id) is None:
            raise unknown_to("screening", event)  # an agreement follows the screening that passed it
        await uow.store.add_restriction(brn=event.business_registration_number,
                                        application_id=event.application_id, approved_on=local_date(event.approved_at),
                                        until=event.restricted_until)

    return handle


def on_recheck_requested(screening: Screening) -> Handler:
    """X11: evaluation asks before notifying a selected company; the reply is RecheckCompleted."""

    async def handle(uow: ScreeningUnit, envelope: Envelope, event: RecheckRequested) -> None:
        now = screening.clock()
        row = await uow.store.get(event.application_id, lock=True)
        if row is None:
            raise unknown_to("screening", event)  # evaluation re-checks only what screening passed
        if row.status != ScreeningStatus.PASSED:
            state = row.status
            await uow.publish(RecheckCompleted(
                program_id=event.program_id, application_id=event.application_id, occurred_at=now,
                request_id=event.request_id, completed_at=now, outcome="excluded",
                findings=(Finding(rule="X11", detail=f"application is {state}, not passed"),)))
            return
        if not await uow.store.add_recheck(request_id=event.request_id, application_id=event.application_id,
                                           program_id=event.program_id, at=now):
            return
        program = screening.program(row.program_id, row.program_version)
        content = ApplicationContent.model_validate(row.content)
        await uow.store.audit(event.application_id, at=now, actor="service:evaluation", action="recheck-requested",
                              detail={"request_id": event.request_id})
        await _ensure_lookups(uow, screening, row, subjects(content, program, local_date(event.requested_at)),
                              purpose=recheck_purpose(event.request_id))
        await reconsider_recheck(uow, screening, event.request_id)

    return handle


def on_lookup_answered(screening: Screening) -> Handler:
    """The registries answer many applications close together: a batch's answers are recorded in one statement,
    then each application (or re-check) is reconsidered once, all its answers known (issue 28)."""
    async def handle(uow: ScreeningUnit, envelope: Envelope, event: LookupAnswered) -> None:
        uow.collect("lookup-answers", event, lambda answers: record_answers(uow, screening, answers))

    return handle


async def record_answers(uow: ScreeningUnit, screening: Screening, collected: list[Collected[LookupAnswered]]) -> None:
    events = [c.item for c in collected]
    answered = await uow.store.record_answers([
        {"lookup_id": e.lookup_id, "at": e.answered_at, "verdict": e.verdict.value,
         "findings": [f.model_dump(mode="json") for f in e.findings], "attempts": e.attempts} for e in events])
    recorded = {row.lookup_id for row in answered}
    # Not recorded: a repeated answer (the first one stands), or an answer to a lookup never asked (refused)
    unknown = await uow.store.unknown_lookups([e.lookup_id for e in events if e.lookup_id not in recorded])
    if unknown:
        raise unknown_to("screening", next(e for e in events if e.lookup_id in unknown), field="lookup_id")
    # Each application is reconsidered in the trace of (the last of) its answers, as it was one answer at a time
    answer_of = {c.item.lookup_id: c for c in collected}
    arrived: dict[str, list[Verdict]] = {}
    for row in answered:
        if row.purpose == SCREENING:
            arrived.setdefault(row.application_id, []).append(answer_of[row.lookup_id].item.verdict)
    await reconsider_all(uow, screening, [Collected(row.application_id, answer_of[row.lookup_id].trace)
                                          for row in answered if row.purpose == SCREENING], arrived=arrived)
    for row in answered:
        if row.purpose != SCREENING:
            with answer_of[row.lookup_id].in_its_trace():
                uow.defer(row.purpose, partial(reconsider_recheck, uow, screening, recheck_request(row.purpose)))


def subjects(content: ApplicationContent, program: ProgramDefinition, as_of: date) -> dict[Registry, LookupSubject]:
    """What each registry is asked; D1 compares 필요성 및 목적 (goal), 컨설팅 내용 (method) and 과제개요 (content)."""
    company = content.company
    common: dict[str, Any] = dict(
        business_registration_number=company.business_registration_number,
        company_name=company.name,
        ceo_name=company.ceo_name,
        project_manager_name=content.project_manager.name,
        founded_on=company.founded_on,
        announcement_date=program.announcement_date,
        as_of=as_of,
    )
    plan: dict[str, Any] = dict(
        goal=content.consulting.necessity_and_purpose,
        method=content.consulting.consulting_content,
        content=content.consulting.project_overview,
        duplicate_threshold=program.duplicate_threshold,
        borderline_threshold=program.borderline_threshold,
        national_outlier_z=program.national_outlier_z,
        national_semantic_threshold=program.national_semantic_threshold,
        national_semantic_z=program.national_semantic_z,
    )
    # X1 공고일 현재: the business-places registry is asked where the company was registered on the announcement day
    places: dict[str, Any] = dict(region_city=program.region_city,
                                  declared_in_city_since=company.gimpo_business_since)
    own = {Registry.DUPLICATE_PROJECTS: plan, Registry.BUSINESS_STATUS: places}
    return {registry: LookupSubject(**common, **own.get(registry, {})) for registry in Registry}


async def reconsider(uow: ScreeningUnit, screening: Screening, application_id: str) -> Decision | None:
    """Run the rules on everything known now and publish what changed."""
    return (await reconsider_all(uow, screening, [Collected(application_id)])).get(application_id)


async def reconsider_all(uow: ScreeningUnit, screening: Screening, applications: list[Collected[str]], *,
                         arrived: Mapping[str, list[Verdict]] | None = None) -> dict[str, Decision]:
    """`reconsider` for several applications at once: their dossiers read in one statement and their new states
    written in one, as a batch of registry answers brings many close together (issue 28). Each is decided in the
    trace of the event that brought it (the last, if several did). The decided are left as they are. With
    `arrived` (the registry answers that brought each), an application whose answers cannot change its decision
    only has the registries it waits on brought up to date (rules.can_change_the_decision)."""
    latest = {c.item: c for c in applications}  # an application brought twice: once, in its later event's trace
    dossiers = await uow.store.dossiers(list(latest), SCREENING)
    decisions: dict[str, Decision] = {}
    changes: list[store.StateChange] = []
    asking: list[store.NewLookup] = []
    for application_id, brought in latest.items():
        dossier = dossiers.get(application_id)
        if dossier is None or dossier.row.status in DECIDED:
            continue
        if arrived is not None and (still := _still_waiting(dossier, arrived.get(application_id, []))) is not None:
            changes.append(store.StateChange(application_id, ScreeningStatus(dossier.row.status), screening.clock(),
                                             still))
            continue
        program = screening.program(dossier.row.program_id, dossier.row.program_version)
        with brought.in_its_trace():
            decisions[application_id] = decision = await _decide(uow, screening, dossier, program, asking)
            changes.append(await _apply(uow, screening, dossier.row, program, decision))
    await uow.store.insert_lookups(asking, at=screening.clock())
    await uow.store.set_states(changes)
    return decisions


def _still_waiting(dossier: store.Dossier, arrived: list[Verdict]) -> dict[str, Any] | None:
    """The stored decision with only the registries it waits on brought up to date, when the answers that arrived
    cannot change it; None when the application must be decided again."""
    pending = [Registry(lk.registry) for lk in dossier.lookups if lk.answered_at is None and not lk.superseded]
    if dossier.row.decision is None or can_change_the_decision(pending, arrived):
        return None
    return {**dossier.row.decision, "waiting_on": [r.value for r in awaited(pending)]}


async def _decide(uow: ScreeningUnit, screening: Screening, dossier: store.Dossier, program: ProgramDefinition,
                  asking: list[store.NewLookup]) -> Decision:
    row = dossier.row
    if row.content is None or row.submitted_at is None or row.required_evidence is None:
        # only a withdrawal that came before its application leaves a row without one, and that row is decided
        raise LookupError(f"screening {row.application_id} ({row.status}) has no application to decide")
    content = ApplicationContent.model_validate(row.content)
    restrictions = tuple(Restriction(r.approved_on, r.restricted_until) for r in dossier.restrictions)
    case = Case(content=content, submitted_at=row.submitted_at, program=program,
                now=screening.clock() - screening.supplement_grace,
                required_evidence=tuple(EvidenceRequirement.model_validate(r) for r in row.required_evidence),
                rulings=latest_rulings(dossier.rulings), restrictions=restrictions,
                supplement_deadline=row.supplement_deadline)
    decision = decide(case)
    if decision.outcome is not ScreeningOutcome.REJECTED:  # a local exclusion needs no registry at all
        answers = await _ensure_lookups(uow, screening, row,
                                        subjects(content, program, local_date(row.started_at)), purpose=SCREENING,
                                        known=dossier.lookups, stored_later=asking)
        decision = decide(replace(case, answers=answers))
    return decision


async def _ensure_lookups(uow: ScreeningUnit, screening: Screening, row: ScreeningRow,
                          asked: dict[Registry, LookupSubject], *, purpose: str,
                          known: Sequence[LookupRow | LookupAnswer] | None = None,
                          stored_later: list[store.NewLookup] | None = None) -> dict[Registry, LookupResult | None]:
    """The registries' answers so far; a question not yet asked is asked now (through the outbox). `known`: the
    application's lookups of this purpose when the caller has read them already; `stored_later`: where the new
    questions go when the caller stores several applications' at once (else they are stored now)."""
    if known is None:
        known = await uow.store.lookups_for(row.application_id, purpose)
    by_id = {r.lookup_id: r for r in known}
    asking = {registry: lookup_id(row.application_id, purpose, registry, subject)
              for registry, subject in asked.items()}
    renewed = [(registry, lid) for registry, lid in asking.items() if lid not in by_id or by_id[lid].superseded]
    if renewed and by_id:  # earlier, different questions to the same registries are no longer asked
        await uow.store.supersede_lookups(application_id=row.application_id, purpose=purpose,
                                          registries=[registry.value for registry, _ in renewed],
                                          keeping=[lid for _, lid in renewed])
    new = [store.NewLookup(lid, row.application_id, purpose, registry.value) for registry, lid in renewed]
    if stored_later is None:
        await uow.store.insert_lookups(new, at=screening.clock())
    else:
        stored_later.extend(new)
    now = screening.clock()
    await uow.publish_all([
        (LookupRequested(program_id=row.program_id, occurred_at=now, lookup_id=lid, application_id=row.application_id,
                         registry=registry, about=asked[registry]), LookupRequested.topic_for(registry))
        for registry, lid in asking.items() if lid not in by_id])
    answers: dict[Registry, LookupResult | None] = {}
    for registry, lid in asking.items():
        found = by_id.get(lid)
        answers[registry] = None if found is None else answer_of(found)
    return answers


def latest_rulings(rows: Iterable[RulingLine]) -> dict[str, Ruling]:
    # The latest ruling on a rule stands (an operator may correct an earlier one; both stay in the audit).
    return {r.rule: Ruling(r.rule, r.exclude, r.operator, r.reason, r.at) for r in rows}


def summary(decision: Decision) -> dict[str, Any]:
    return {"outcome": decision.outcome.value, "decided_by": decision.decided_by,
            "expert_grade": decision.expert_grade,
            "findings": [f.model_dump(mode="json") for f in decision.findings],
            "documents": [d.model_dump(mode="json") for d in decision.documents],
            "questions": [q.model_dump(mode="json") for q in decision.questions],
            "waiting_on": [r.value for r in decision.waiting_on]}


async def _apply(uow: ScreeningUnit, screening: Screening, row: ScreeningRow, program: ProgramDefinition,
                 decision: Decision) -> store.StateChange:
    """Publish and audit what the decision changed; returns the application's new state for the caller to write
    (with the others reconsidered alongside)."""
    now, app, before = screening.clock(), row.application_id, row.decision or {}
    after = summary(decision)
    common = dict(program_id=row.program_id, program_version=row.program_version, application_id=app, occurred_at=now)
    outcome = decision.outcome
    state = store.StateChange(app, status_after(outcome), now, after)
    if outcome is ScreeningOutcome.REJECTED:
        state = replace(state, decided_by=decision.decided_by, final=True)
        await uow.store.abandon_lookups(app)
        await uow.publish(ApplicationRejected(**common, rejected_at=now, findings=decision.findings,
                                              decided_by=decision.decided_by))
    elif outcome is ScreeningOutcome.PASSED:
        if decision.facts is None:
            raise AssertionError("a passed decision always carries the verified facts")
        state = replace(state, decided_by="rules", final=True)
        await uow.publish(ScreeningPassed(**common, passed_at=now, revision=row.revision,
                                          expert_grade=cast(ExpertGradeLabel | None, decision.expert_grade),
                                          facts=decision.facts,
                                          checks=decision.findings))
    elif outcome is ScreeningOutcome.SUPPLEMENT_REQUESTED:
        deadline = row.supplement_deadline or supplement_deadline(now, program.supplement_days,
                                                                  program.working_calendar())
        state = replace(state, supplement_deadline=deadline)
        if row.status != status_after(outcome) or before.get("documents") != after["documents"]:
            await uow.publish(SupplementRequested(**common, requested_at=now, deadline=deadline,
                                                  documents=decision.documents))
    elif outcome is ScreeningOutcome.MANUAL_REVIEW:
        if row.status != status_after(outcome) or before.get("questions") != after["questions"]:
            await uow.publish(ManualReviewRequested(**common, requested_at=now, questions=decision.questions))
    if row.status != status_after(outcome) or before.get("outcome") != after["outcome"]:
        actor = decision.decided_by if outcome is ScreeningOutcome.REJECTED else "rules"
        await uow.store.audit(app, at=now, actor=actor, action=outcome.value, detail=after)
        # One line when an application's outcome changes, in its trace: an operator follows it by one id
        log.info("screening %s: %s (%s)", app, outcome.value, actor)
        metrics.record(outcome.value, decision.findings if outcome is ScreeningOutcome.REJECTED else ())
    return state


def answer_of(lookup: LookupRow | LookupAnswer) -> LookupResult | None:
    """A stored lookup's answer (None: not answered yet)."""
    return None if lookup.answered_at is None else LookupResult.model_validate(
        {"verdict": lookup.verdict, "findings": lookup.findings or ()})


def registry_answers(lookups: Iterable[LookupRow], purpose: str) -> dict[Registry, LookupResult | None]:
    """Each registry's current answer to the lookups of `purpose`."""
    return {Registry(r.registry): answer_of(r) for r in lookups if r.purpose == purpose and not r.superseded}


async def reconsider_recheck(uow: ScreeningUnit, screening: Screening, request_id: str) -> None:
    """X11: decide the re-check once every registry has answered (or an operator ruled)."""
    recheck = await uow.store.recheck(request_id, lock=True)
    if recheck is None or recheck.status in RECHECK_DONE:
        return
    purpose = recheck_purpose(request_id)
    lookups = await uow.store.lookups_of(recheck.application_id)
    answers = registry_answers(lookups, purpose)
    # What the registries said at screening, and how operators ruled on it then (carried over when unchanged)
    then = registry_answers(lookups, SCREENING)
    carried, changed = carried_over(answers, then, latest_rulings(
        await uow.store.rulings(recheck.application_id, SCREENING)))
    rulings = {**carried, **latest_rulings(await uow.store.rulings(recheck.application_id, purpose))}
    decision = decide_recheck(answers, rulings, reconsidered={r: c for r, c in changed.items() if r not in rulings})
    now = screening.clock()
    common = dict(program_id=recheck.program_id, application_id=recheck.application_id, occurred_at=now)
    after = summary(decision)
    if decision.outcome in (ScreeningOutcome.PASSED, ScreeningOutcome.REJECTED):
        excluded = decision.outcome is ScreeningOutcome.REJECTED
        await uow.store.set_recheck(request_id, status=RecheckStatus.EXCLUDED if excluded else RecheckStatus.CLEAR,
                                    at=now, decision=after, final=True)
        await uow.publish(RecheckCompleted(**common, request_id=request_id, completed_at=now,
                                           outcome="excluded" if excluded else "clear",
                                           findings=decision.findings))
        if excluded:
            await uow.store.set_state(recheck.application_id, status=ScreeningStatus.REJECTED, at=now, decision=after,
                                      decided_by=decision.decided_by, final=True)
            await uow.publish(ApplicationRejected(**common, rejected_at=now, stage="selection-recheck",
                                                  findings=decision.findings, decided_by=decision.decided_by))
        await uow.store.audit(recheck.application_id,
                              at=now,
                              actor=decision.decided_by,
                              action=f"recheck-{after['outcome']}",
                              detail={"request_id": request_id, **after},
        )
        metrics.record(f"recheck-{'excluded' if excluded else 'clear'}", decision.findings if excluded else ())
    elif decision.outcome is ScreeningOutcome.MANUAL_REVIEW and recheck.status != RecheckStatus.MANUAL_REVIEW:
        await uow.store.set_recheck(request_id, status=RecheckStatus.MANUAL_REVIEW, at=now, decision=after, final=False)
        await uow.publish(ManualReviewRequested(**common, requested_at=now, questions=decision.questions))


# --- operators ---------------------------------------------------------------------------------------------

async def rule_on(uow: ScreeningUnit, screening: Screening, *, application_id: str, purpose: str, exclude: bool,
                  rules: tuple[str, ...] | None, reason: str, operator: Principal) -> None:
    """An operator's judgement (X4, X6, D3, an unsettled lookup), recorded with who, when and why; another
    agency's application does not exist for them (T1)."""
    row = await uow.store.get(application_id, lock=True)
    if row is None or not operator.sees(row.program_id):
        raise RuleViolation(Problem("application_id", "X4", f"no application {application_id} in screening"),
                            status_code=404)
    open_rules = await _open_question_rules(uow, row, purpose)
    chosen = tuple(rules) if rules else tuple(open_rules)
    if not chosen:
        raise RuleViolation(Problem("rules", "X4", f"application {application_id} has no question awaiting a "
                                    f"ruling ({purpose}); name X4 or X6 to exclude it on your own finding"),
                            status_code=409)
    for rule in chosen:
        if rule not in open_rules and not (exclude and rule in OPERATOR_RULES and purpose == SCREENING):
            raise RuleViolation(Problem("rules", rule, f"{rule} is not an open question of {application_id} "
                                        f"(open: {', '.join(open_rules) or 'none'})"), status_code=409)
    if purpose == SCREENING and row.status in DECIDED:
        raise RuleViolation(Problem("application_id", chosen[0], f"application is already {row.status}"),
                            status_code=409)
    now = screening.clock()
    for rule in chosen:
        await uow.store.add_ruling(application_id=application_id, purpose=purpose, rule=rule, exclude=exclude,
                                   operator=operator.subject, reason=reason, at=now)
    await uow.store.audit(application_id, at=now, actor=f"operator:{operator.subject}", action="ruling",
                          detail={"purpose": purpose, "rules": list(chosen), "exclude": exclude, "reason": reason})
    if purpose == SCREENING:
        await reconsider(uow, screening, application_id)
    else:
        await reconsider_recheck(uow, screening, recheck_request(purpose))


async def _open_question_rules(uow: ScreeningUnit, row: ScreeningRow | RecheckRow, purpose: str) -> list[str]:
    if purpose == SCREENING:
        decision = row.decision or {}
    else:
        recheck = await uow.store.recheck(recheck_request(purpose))
        if recheck is None or recheck.application_id != row.application_id:
            raise RuleViolation(Problem("purpose", "X11", f"no re-check {purpose} of {row.application_id}"),
                                status_code=404)
        decision = recheck.decision or {}
    return list(dict.fromkeys(q["rule"] for q in decision.get("questions", [])))


async def expire_supplements(uow: ScreeningUnit, screening: Screening) -> list[str]:
    """E6 timer: no supplement by the deadline rejects as incomplete. Runs from the sweeper; survives restarts
    because the deadline is a column, not a sleeping task."""
    due = await uow.store.overdue_supplements(screening.clock() - screening.supplement_grace)
    for application_id in due:
        await reconsider(uow, screening, application_id)
    return due

