"""Evaluation's use cases: events from screening and contracts, and what operators and evaluators do over HTTP.
Each runs in the caller's transaction; the events it causes go to the outbox in the same transaction.

Anything that moves budget (closing a round, a release, a re-check that excludes) takes the program's advisory
lock first, so two of them at once can never select past the budget (F4, F5)."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any


from evaluation import closing, metrics, store
from evaluation.committee import Applicant, Employment, Evaluator, Kind, SeatRole, Seat, check_committee
from evaluation.ranking import Ranked, promote
from evaluation.rounds import Declaration, RoundView
from evaluation.rows import CandidateRow, EvaluatorRow, RoundRow, Via
from evaluation.status import COMMITTED, GONE, CandidateStatus, RoundStatus
from evaluation.scoring import EvaluatorScore, check_levels, document_score, evaluator_score, publish
from sme_runtime.consumer import Collected, program_of_event, unknown_to
from sme_runtime.problems import Problem, RuleViolation
from sme_runtime.unit import EventHandler, Unit, units
from sme_schemas import Envelope
from sme_schemas.contracts import AgreementTerminated, ParticipationGivenUp
from sme_schemas.evaluation import (
    ApplicationSelected, RecheckRequested,
)
from sme_schemas.periods import local_date
from sme_programs import ProgramDefinition
from sme_schemas.screening import RecheckCompleted, ScreeningPassed

log = logging.getLogger("evaluation.handlers")

SOURCE = "/sme/evaluation"


# One transaction's store and outbox, as the consumers and the routes give it to the use cases (tests: a fake)
unit = units(store.EvaluationStore, source=SOURCE)
EvaluationUnit = Unit[store.EvaluationStore]
Handler = EventHandler[store.EvaluationStore]


@dataclass(frozen=True)
class Evaluation:
    """Dependencies of the use cases."""

    programs: dict[str, ProgramDefinition]
    clock: Any  # () -> aware UTC datetime

    def program(self, program_id: str, version: int | None = None) -> ProgramDefinition:
        """Call-wide terms (budget, committee, weights) are the newest version's; an application's own (its
        document score, its planned subsidy) the version it applied under (V1)."""
        return program_of_event(self.programs, program_id, version)


# --- events --------------------------------------------------------------------------------------------------


def call_of(program: ProgramDefinition, submitted_at: datetime) -> str:
    """K1: the call an application belongs to — the one open when it was submitted (the calls are the program's
    newest version's); one submitted outside every call (an operator's late entry) goes to the last call opened
    before it."""
    call = program.call_at(submitted_at)
    if call is None:
        opened = [c for c in program.program_calls() if c.window.opens_at <= submitted_at]
        call = max(opened, key=lambda c: c.window.opens_at) if opened else program.program_calls()[0]
    return call.call_id


def on_screening_passed(evaluation: Evaluation) -> Handler:
    """Q1–Q7 at once, from the verified facts; the application joins the program's open round, or waits for one.
    A burst of passes is stored together once its batch is applied (issue 28)."""

    async def handle(uow: EvaluationUnit, envelope: Envelope, event: ScreeningPassed) -> None:
        uow.collect("passed", (envelope.id, event), lambda passed: score_all(uow, evaluation, passed))

    return handle


async def score_all(uow: EvaluationUnit, evaluation: Evaluation,
                    passed: list[Collected[tuple[str, ScreeningPassed]]]) -> None:
    """Document-score a batch of passed applications: the open rounds of their calls read in one statement, the
    candidates stored in one, an audit row for each stored now (a redelivery is neither stored nor audited)."""
    now = evaluation.clock()
    scored = [(ce_id, event, evaluation.program(event.program_id, event.program_version))
              for ce_id, event in (c.item for c in passed)]
    calls = {ce_id: call_of(evaluation.program(event.program_id), event.facts.submitted_at)
             for ce_id, event, _ in scored}
    rounds = await uow.store.open_rounds(sorted({(program.program_id, calls[ce_id])
                                                 for ce_id, _, program in scored}))
    scores, candidates = {}, []
    for ce_id, event, program in scored:
        facts, call_id = event.facts, calls[ce_id]
        scores[event.application_id] = score = document_score(facts, program.document_score,
                                                              program.announcement_date)
        candidates.append(store.NewCandidate(
            application_id=event.application_id, program_id=program.program_id,
            round_id=rounds.get((program.program_id, call_id)), brn=facts.business_registration_number,
            company_name=facts.company_name, facts=facts.model_dump(mode="json"), expert_grade=event.expert_grade,
            passed_at=event.passed_at, submitted_at=facts.submitted_at, quantitative=score.total,
            quantitative_detail=score.breakdown(),
            planned_subsidy=program.support.planned_subsidy(facts.consulting_cost_excluding_vat,
                                                            facts.consulting_sessions),
            program_version=program.version, call_id=call_id))
    created = await uow.store.insert_candidates(candidates, at=now)
    for c, (ce_id, _, _), candidate in zip(passed, scored, candidates):
        if candidate.application_id in created:
            created.discard(candidate.application_id)  # the first of two in one batch is the one stored
            await uow.store.audit(at=now, actor="rules", action="document-scored",
                                  application_id=candidate.application_id, round_id=candidate.round_id,
                                  detail={"ce_id": ce_id, **scores[candidate.application_id].breakdown()})
            with c.in_its_trace():  # one line per application, in its trace (the batch's own line is the consumer's)
                log.info("document-scored %s: %s points (Q1–Q7)", candidate.application_id, candidate.quantitative)


def on_recheck_completed(evaluation: Evaluation) -> Handler:
    """X11 answered: a clear application is notified as selected; an excluded one frees its budget (F5)."""

    async def handle(uow: EvaluationUnit, envelope: Envelope, event: RecheckCompleted) -> None:
        now = evaluation.clock()
        recheck = await uow.store.complete_recheck(event.request_id, outcome=event.outcome, at=now)
        if recheck is None:
            if not await uow.store.recheck_known(event.request_id):
                raise unknown_to("evaluation", event, field="request_id")  # screening answers only what we asked
            return  # answered already (a redelivery under another ce_id): the first answer stands
        # The budget lock before the row lock, in the same order as releases take them.
        await uow.store.lock_budget((await uow.store.known_candidate(recheck.application_id)).program_id)
        c = await uow.store.known_candidate(recheck.application_id, lock=True)
        detail = {"request_id": event.request_id, "findings": [f.model_dump() for f in event.findings]}
        await uow.store.audit(at=now, actor="screening", action=f"recheck-{event.outcome}",
                              application_id=c.application_id, round_id=c.round_id, detail=detail)
        if c.status != CandidateStatus.RECHECKING:
            return  # released while the re-check ran
        if event.outcome == "clear":
            await uow.store.set_status(c.application_id, CandidateStatus.SELECTED, now, selected_at=now)
            await uow.publish(_selected(c, recheck.via, now))
            metrics.SELECTED.labels(recheck.via).inc()
        else:
            await uow.store.set_status(c.application_id, CandidateStatus.EXCLUDED, now)
            await promote_waitlist(uow, evaluation, c.program_id, c.call_id,
                                   because=f"{c.application_id} excluded (X11)")

    return handle


def _selected(c: CandidateRow, via: Via, now: datetime) -> ApplicationSelected:
    """F3/F5: a ranked candidate of a round, clear of X11, is selected."""
    if c.round_id is None or c.rank is None:  # a re-check is asked for a ranked candidate of a round only
        raise LookupError(f"{c.application_id} was re-checked without a round's rank ({c.round_id}, {c.rank})")
    return ApplicationSelected(
        program_id=c.program_id, program_version=c.program_version, application_id=c.application_id,
        occurred_at=now, round_id=c.round_id, selected_at=now, rank=c.rank, planned_subsidy=c.planned_subsidy,
        via=via)


def on_agreement_terminated(evaluation: Evaluation) -> Handler:
    async def handle(uow: EvaluationUnit, envelope: Envelope, event: AgreementTerminated) -> None:
        await _release(uow, evaluation, event, action="agreement-terminated",
                       detail={"reason": event.reason, "freed_amount": event.freed_amount, "ce_id": envelope.id})

    return handle


def on_given_up(evaluation: Evaluation) -> Handler:
    async def handle(uow: EvaluationUnit, envelope: Envelope, event: ParticipationGivenUp) -> None:
        await _release(uow, evaluation, event, action="participation-given-up",
                       detail={"freed_amount": event.freed_amount, "ce_id": envelope.id})

    return handle


async def _release(uow: EvaluationUnit, evaluation: Evaluation, event: AgreementTerminated | ParticipationGivenUp,
                   *, action: str, detail: dict[str, Any]) -> None:
    """F5: a selected application that leaves frees its planned subsidy for the waitlist; a waitlisted or
    still-scored one just leaves."""
    application_id = event.application_id
    c = await uow.store.candidate(application_id)
    if c is None:
        raise unknown_to("evaluation", event)  # an agreement follows the selection evaluation made
    if c.status in GONE:
        return
    await uow.store.lock_budget(c.program_id)
    c = await uow.store.known_candidate(application_id, lock=True)
    now = evaluation.clock()
    await uow.store.set_status(application_id, CandidateStatus.RELEASED, now)
    await uow.store.audit(at=now, actor="contracts", action=action, application_id=application_id,
                          round_id=c.round_id, detail={**detail, "was": c.status})
    if c.status in COMMITTED:
        await promote_waitlist(uow, evaluation, c.program_id, c.call_id, because=f"{application_id} {action}")


async def promote_waitlist(
    uow: EvaluationUnit, evaluation: Evaluation, program_id: str, call_id: str, *, because: str
) -> list[str]:
    """F5: down the waitlist of the call (K1) in rank order, each application whose planned subsidy fits what is
    free of the call's share is selected (after its own X11 re-check). Not after the program year: the consulting
    could not be finished (C2)."""
    program, now = evaluation.program(program_id), evaluation.clock()
    if local_date(now) > program.program_year_end:
        await uow.store.audit(at=now, actor="rules", action="no-promotion",
                              detail={"program_id": program_id, "because": because,
                                  "reason": f"F5/C2: the program year ended on {program.program_year_end}"})
        return []
    available = _call_budget(program, call_id) - await uow.store.committed_budget(program_id, call_id)
    waiting = await uow.store.waitlist(program_id, call_id)
    promoted = promote([(c.application_id, c.planned_subsidy) for c in waiting], available)
    by_id = {c.application_id: c for c in waiting}
    for application_id in promoted:
        c = by_id[application_id]
        await uow.store.set_status(application_id, CandidateStatus.RECHECKING, now, via="waitlist-promotion")
        await _request_recheck(uow, c, via="waitlist-promotion", at=now)
        await uow.store.audit(at=now, actor="rules", action="promoted", application_id=application_id,
                              round_id=c.round_id, detail={"because": because, "available": available,
                                                       "planned_subsidy": c.planned_subsidy})
    return promoted


async def _request_recheck(uow: EvaluationUnit, c: Any, *, via: str, at: datetime) -> None:
    """X11: screening repeats its lookups before the company is told it was selected."""
    request_id = f"RCK-{uuid.uuid4().hex[:20]}"
    await uow.store.add_recheck(request_id=request_id, application_id=c.application_id, via=via, at=at)
    await uow.publish(RecheckRequested(program_id=c.program_id, program_version=c.program_version,
                                       application_id=c.application_id,
                                       occurred_at=at, request_id=request_id, requested_at=at))


# --- operators: evaluator pool, rounds, committees ------------------------------------------------------------

async def register_evaluator(uow: EvaluationUnit, evaluation: Evaluation, *, evaluator_id: str, agency: str, name: str,
                             affiliation: str, kind: Kind, fields: list[str], employers: list[dict[str, Any]],
                             operator: str) -> bool:
    """Add an evaluator to `agency`'s pool or update their entry there; conflicts of open rounds follow the new
    record. Another agency's entry for the same person is that agency's own (T1)."""
    now = evaluation.clock()
    created = await uow.store.upsert_evaluator(evaluator_id=evaluator_id, agency=agency, name=name,
                                               affiliation=affiliation, kind=kind.value, fields=fields,
                                               employers=employers, at=now, by=operator)
    await uow.store.audit(
        at=now,
        actor=operator,
        action="evaluator-registered" if created else "evaluator-updated",
        detail={"evaluator_id": evaluator_id, "agency": agency, "kind": kind.value, "fields": fields,
                "employers": employers},
    )
    return created


def _call_budget(program: ProgramDefinition, call_id: str) -> int:
    call = program.call(call_id)
    return call.budget if call is not None else program.budget


async def open_round(uow: EvaluationUnit, evaluation: Evaluation, *, program_id: str, operator: str,
                     call_id: str | None = None) -> str:
    """A round of one call (K1): the call named, else the last call whose window has opened."""
    program = evaluation.programs.get(program_id)
    if program is None:
        raise RuleViolation(Problem("program_id", "A3", f"no program {program_id!r}; known: "
                                    f"{', '.join(sorted(evaluation.programs))}"), status_code=404)
    now = evaluation.clock()
    calls = program.program_calls()
    if call_id is None:
        call_id = call_of(program, now)
    elif program.call(call_id) is None:
        raise RuleViolation(Problem("call_id", "K1", f"{program_id} has no call {call_id!r}; its calls: "
                                    + ", ".join(c.call_id for c in calls)), status_code=404)
    if (existing := await uow.store.round_open_in(program_id, call_id)) is not None:
        raise RuleViolation(Problem("program_id", "S3", f"round {existing.round_id} of {program_id} is still open; "
                                    "close it first"), status_code=409)
    round_id = await uow.store.insert_round(program_id=program_id, agency=program.agency, call_id=call_id,
                                            as_of=local_date(now), at=now, by=operator)
    joined = await uow.store.join_round(program_id, call_id, round_id, now)
    await uow.store.audit(at=now, actor=operator, action="round-opened", round_id=round_id,
                          detail={"program_id": program_id, "call_id": call_id, "applications": joined})
    return round_id


async def form_committee(uow: EvaluationUnit, evaluation: Evaluation, *, round_id: str,
                         members: list[tuple[str, SeatRole]], operator: str) -> list[str]:
    """Seat the committee (or change it); returns the applications short of evaluators (flagged)."""
    r = await _open_round(uow, round_id)
    program = evaluation.program(r.program_id)
    # T1: only the program's agency's pool can sit on its committee
    pool = {e.evaluator_id: e for e in await uow.store.evaluators([m for m, _ in members], agencies=[program.agency])}
    unknown = [Problem(f"members[{n}].evaluator_id", "S3", f"{m} is not in the evaluator pool of {program.agency}")
               for n, (m, _) in enumerate(members) if m not in pool]
    if unknown:
        raise RuleViolation(*unknown)
    seats_ = [Seat(_evaluator(pool[m]), role) for m, role in members]
    if problems := check_committee(seats_, minimum=program.committee_min, maximum=program.committee_max):
        raise RuleViolation(*problems)
    unseated = (await uow.store.scored_evaluators(round_id)) - {
        m for m, role in members if role is not SeatRole.SECRETARY
    }
    if unseated:
        raise RuleViolation(Problem("members", "S3", f"{', '.join(sorted(unseated))} scored applications of this "
                                    "round already; they stay seated so their scores are not lost"), status_code=409)
    await uow.store.replace_seats(round_id, [(m, role.value) for m, role in members])
    view = await round_view(uow, evaluation, r)
    short = view.short_of_evaluators()
    await uow.store.audit(at=evaluation.clock(), actor=operator, action="committee-formed", round_id=round_id,
                          detail={"members": [{"evaluator_id": m, "role": role.value} for m, role in members],
                              "short_of_evaluators": short})
    return short


# --- evaluators: declarations and scores ----------------------------------------------------------------------

async def declare(uow: EvaluationUnit, evaluation: Evaluation, *, round_id: str, application_id: str,
                  evaluator_id: str, conflicted: bool, relation: str | None, detail: str | None) -> None:
    """F6: recorded per application either way; a conflict hides the application and voids a score given."""
    r = await _open_round(uow, round_id)
    view = await round_view(uow, evaluation, r, with_scores=False)
    _may_see(view, evaluator_id, application_id)
    now = evaluation.clock()
    await uow.store.declare(application_id=application_id, evaluator_id=evaluator_id, conflicted=conflicted,
                            relation=relation, detail=detail, at=now)
    await uow.store.audit(at=now, actor=f"evaluator:{evaluator_id}", action="conflict-declared",
                          application_id=application_id, round_id=round_id,
                          detail={"conflicted": conflicted, "relation": relation, "detail": detail})


async def score(uow: EvaluationUnit, evaluation: Evaluation, *, round_id: str, application_id: str,
                evaluator_id: str, levels: dict[str, int]) -> EvaluatorScore:
    """S1–S2: one level per item; the raw total and its normalised value are stored and audited."""
    r = await _open_round(uow, round_id)
    program = evaluation.program(r.program_id)
    view = await round_view(uow, evaluation, r, with_scores=False)
    _may_see(view, evaluator_id, application_id)
    declaration = next((d for d in view.declarations
                        if (d.evaluator_id, d.application_id) == (evaluator_id, application_id)), None)
    if declaration is None:
        raise RuleViolation(Problem("declaration", "F6", "declare whether you have a conflict of interest with "
                                    "this application before scoring it"), status_code=409)
    if declaration.conflicted:
        raise RuleViolation(Problem("declaration", "F6", "you declared a conflict of interest with this "
                                    "application: you may not score it"), status_code=409)
    if problems := check_levels(levels, program.committee_score):
        raise RuleViolation(*problems)
    sheet = evaluator_score(levels, program.committee_score)
    now = evaluation.clock()
    revision = await uow.store.save_score(application_id=application_id, evaluator_id=evaluator_id,
                                          levels=dict(levels), raw_total=sheet.raw_total,
                                          normalised=publish(sheet.normalised), at=now)
    await uow.store.audit(at=now, actor=f"evaluator:{evaluator_id}", action="scored",
                          application_id=application_id, round_id=round_id,
                          detail={"levels": dict(levels), "raw_total": sheet.raw_total,
                              "normalised": str(publish(sheet.normalised)), "revision": revision})
    metrics.SCORES.inc()
    return sheet


def _may_see(view: RoundView, evaluator_id: str, application_id: str) -> None:
    if evaluator_id not in view.scorers:
        raise RuleViolation(Problem("evaluator", "S3", f"{evaluator_id} does not sit on this round's committee as "
                                    "chair or member"), status_code=403)
    known = {a.application_id for a in view.applicants}
    conflicts = view.conflicts()
    detected = [c for c in conflicts.get((evaluator_id, application_id), []) if c.reason != "declared"]
    if application_id not in known or detected:
        # F6/C9: an application the evaluator is conflicted with does not exist for them.
        raise RuleViolation(Problem("application_id", "F6", f"no application {application_id} assigned to you in "
                                    "this round"), status_code=404)


# --- closing a round ------------------------------------------------------------------------------------------

async def close_round(uow: EvaluationUnit, evaluation: Evaluation, *, round_id: str, operator: str) -> list[Ranked]:
    """F1–F4 + F7: refused with every reason while an application lacks valid scores (S3); otherwise rank, select
    within the budget still free, publish ScoresFinalized, ask X11 re-checks for the selected, and owe allowances.
    What it decides is closing.close's (pure); this reads its inputs and writes its result."""
    r = await _open_round(uow, round_id, lock=True)
    program = evaluation.program(r.program_id)
    view = await round_view(uow, evaluation, r)
    if problems := view.close_problems():
        raise RuleViolation(*problems, status_code=409)
    await uow.store.lock_budget(program.program_id)
    now = evaluation.clock()
    rows = {c.application_id: c for c in await uow.store.candidates_of_round(round_id)
            if c.status == CandidateStatus.IN_ROUND}
    paid = {s.evaluator.evaluator_id: await uow.store.allowance_paid_in_program(program.program_id,
                                                                                s.evaluator.evaluator_id)
            for s in view.seats if s.role is not SeatRole.SECRETARY}
    result = closing.close(program, view, rows, round_id=round_id, budget=_call_budget(program, r.call_id),
                           committed=await uow.store.committed_budget(program.program_id, r.call_id),
                           paid_in_program=paid)
    for ranked in result.ranking:
        a, q = ranked.application_id, result.qualitative[ranked.application_id]
        await uow.store.record_result(a, rank=ranked.rank, qualitative=ranked.qualitative,
                                      qualitative_raw=publish(q.raw_mean), final=ranked.final,
                                      valid_evaluators=q.evaluators, outcome=result.outcomes[a].value,
                                      status=result.status_of(a), at=now)
    for a in result.selected():
        await _request_recheck(uow, rows[a], via="round-close", at=now)
    await uow.publish(result.scores_finalized(now))
    for owed in result.allowances:
        await uow.store.add_allowance(round_id=round_id, evaluator_id=owed.evaluator_id,
                                      program_id=program.program_id, applications_scored=owed.applications_scored,
                                      amount=owed.amount)
    for due in result.allowances_due(now):
        await uow.publish(due)
    await uow.store.close_round(round_id, at=now, by=operator)
    await uow.store.audit(at=now, actor=operator, action="round-closed", round_id=round_id,
                          detail={"available_budget": result.available,
                                  "outcomes": {a: o.value for a, o in result.outcomes.items()},
                                  "allowances": {o.evaluator_id: o.amount for o in result.allowances}})
    metrics.ROUNDS_CLOSED.inc()
    return result.ranking


# --- reading a round ------------------------------------------------------------------------------------------

async def find_round(uow: EvaluationUnit, round_id: str, *, lock: bool = False) -> RoundRow:
    r = await uow.store.round_(round_id, lock=lock)
    if r is None:
        raise RuleViolation(Problem("round_id", "S3", f"no round {round_id}"), status_code=404)
    return r


async def _open_round(uow: EvaluationUnit, round_id: str, *, lock: bool = False) -> RoundRow:
    r = await find_round(uow, round_id, lock=lock)
    if r.status != RoundStatus.OPEN:
        raise RuleViolation(Problem("round_id", "S3", f"round {round_id} closed at {r.closed_at}; its scores are "
                                    "final"), status_code=409)
    return r


def _evaluator(row: EvaluatorRow) -> Evaluator:
    return Evaluator(evaluator_id=row.evaluator_id, name=row.name, affiliation=row.affiliation, kind=Kind(row.kind),
                     fields=tuple(row.fields), employers=tuple(
                         Employment(brn=e["brn"], name=e["name"],
                                    since=date.fromisoformat(e["since"]) if e.get("since") else None,
                                    until=date.fromisoformat(e["until"]) if e.get("until") else None)
                         for e in row.employers))


def applicant(row: CandidateRow) -> Applicant:
    """F6's view of a candidate; the facts were validated when ScreeningPassed arrived."""
    facts = row.facts
    return Applicant(application_id=row.application_id, brn=facts["business_registration_number"],
                     company_name=facts["company_name"], expert_name=facts.get("expert_name"),
                     expert_affiliation=facts.get("expert_affiliation"))


async def round_view(uow: EvaluationUnit, evaluation: Evaluation, r: Any, *,
                     with_scores: bool = True) -> RoundView:
    """The round as the pure rules see it; scores are recomputed exactly from the levels chosen. Who may see and
    score an application does not depend on scores, so one evaluator's request skips them."""
    program = evaluation.program(r.program_id)
    candidates = [c for c in await uow.store.candidates_of_round(r.round_id)
                  if c.status == CandidateStatus.IN_ROUND or r.status == RoundStatus.CLOSED]
    return RoundView(
        seats=[Seat(_evaluator(s), SeatRole(s.role)) for s in await uow.store.seats(r.round_id)],
        applicants=[applicant(c) for c in candidates],
        declarations=[Declaration(d.evaluator_id, d.application_id, d.conflicted, d.relation, d.detail)
                      for d in await uow.store.declarations(r.round_id)],
        scores={(s.evaluator_id, s.application_id): evaluator_score(s.levels, program.committee_score)
                for s in (await uow.store.scores(r.round_id) if with_scores else ())},
        as_of=r.as_of, lookback_days=program.conflict_lookback_days, minimum=program.committee_min)


def decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.0001")))
