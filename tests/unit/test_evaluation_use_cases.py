"""Evaluation's use cases on an in-memory unit of work (tests/fakes): each consumer fed the catalog's example of its
event; a round opened, seated, scored and closed within the budget (closing.close, then the writes); the X11 answer;
a release promoting the waitlist. The same use cases run on PostgreSQL and Kafka in
tests/integration/test_evaluation_service.py."""
from __future__ import annotations


import pytest

from evaluation import closing, handlers
from evaluation.committee import Kind, SeatRole
from evaluation.scoring import document_score
from sme_runtime.consumer import EventRefused
from sme_runtime.problems import RuleViolation
from sme_schemas.contracts import AgreementTerminated, ParticipationGivenUp
from sme_schemas.evaluation import (
    ApplicationSelected, EvaluatorAllowanceDue, Outcome, RecheckRequested, ScoresFinalized,
)
from sme_schemas.screening import RecheckCompleted, ScreeningPassed
from tests.fakes.evaluation import FakeEvaluationStore
from tests.fakes.unit import Clock, FakeUnit, PROGRAMS, consume, example, run, utc

SOS = "gimpo-sos-2024"
APP = example(ScreeningPassed).application_id
COMPANIES = {"A": ("APP-01HTX5Q3Z8K2M4N6P8R0S2T4VA", "1248100998"),
             "B": ("APP-01HTX5Q3Z8K2M4N6P8R0S2T4VB", "2208162517"),
             "C": ("APP-01HTX5Q3Z8K2M4N6P8R0S2T4VC", "1138521083")}
EVALUATORS = ("EV-01", "EV-02", "EV-03")


@pytest.fixture
def world():
    clock = Clock(utc("2024-05-01T00:00:00+00:00"))
    evaluation = handlers.Evaluation(programs=dict(PROGRAMS), clock=clock)
    return evaluation, FakeUnit(FakeEvaluationStore())


def passed(evaluation, uow, application_id: str, brn: str, name: str) -> None:
    facts = {**example(ScreeningPassed).facts.model_dump(mode="json"), "business_registration_number": brn,
             "company_name": name}
    run(consume(handlers.on_screening_passed(evaluation), uow,
                example(ScreeningPassed, application_id=application_id, facts=facts)))


def sheet(evaluation, top: int) -> dict[str, int]:
    """A score sheet with the first `top` items at their highest level and the rest at their second."""
    items = evaluation.program(SOS).committee_score.items
    return {item.code: item.levels[0] if n < top else item.levels[1] for n, item in enumerate(items)}


def scored_round(evaluation, uow, tops: dict[str, int]) -> str:
    """Three companies passed, a round opened and seated, every evaluator declared and scored each company."""
    for label, (application_id, brn) in COMPANIES.items():
        passed(evaluation, uow, application_id, brn, f"(주)회사{label}")
    round_id = run(handlers.open_round(uow, evaluation, program_id=SOS, operator="kim"))
    for n, e in enumerate(EVALUATORS):
        run(handlers.register_evaluator(uow, evaluation, evaluator_id=e, agency="gimpo", name=f"평가위원{n}",
                                        affiliation="대학", kind=Kind.EXTERNAL, fields=["경영"], employers=[],
                                        operator="kim"))
    run(handlers.form_committee(uow, evaluation, round_id=round_id, operator="kim",
                                members=[(e, SeatRole.CHAIR if n == 0 else SeatRole.MEMBER)
                                         for n, e in enumerate(EVALUATORS)]))
    for label, (application_id, _) in COMPANIES.items():
        for e in EVALUATORS:
            run(handlers.declare(uow, evaluation, round_id=round_id, application_id=application_id, evaluator_id=e,
                                 conflicted=False, relation=None, detail=None))
            run(handlers.score(uow, evaluation, round_id=round_id, application_id=application_id, evaluator_id=e,
                               levels=sheet(evaluation, tops[label])))
    uow.take()
    return round_id


def budget_for(evaluation, uow, selections: int) -> None:
    """The program's budget set to what `selections` planned subsidies need."""
    planned = uow.store.candidates[COMPANIES["A"][0]].planned_subsidy
    evaluation.programs[SOS] = evaluation.program(SOS).model_copy(update={"budget": planned * selections})


def test_the_example_pass_is_document_scored_and_waits_for_a_round(world):
    evaluation, uow = world
    run(consume(handlers.on_screening_passed(evaluation), uow, example(ScreeningPassed)))
    c = uow.store.candidates[APP]
    assert (c.status, c.round_id) == ("awaiting-round", None)
    program = evaluation.program(SOS)
    assert c.quantitative == document_score(example(ScreeningPassed).facts, program.document_score,
                                            program.announcement_date).total  # Q1–Q7 on the verified facts
    assert c.planned_subsidy == evaluation.program(SOS).support.planned_subsidy(5_000_000, None)
    run(consume(handlers.on_screening_passed(evaluation), uow, example(ScreeningPassed)))  # a redelivery
    assert len([a for a in uow.store.audits if a.action == "document-scored"]) == 1


def test_closing_selects_down_the_ranking_within_the_budget_and_waitlists_the_rest(world):
    evaluation, uow = world
    round_id = scored_round(evaluation, uow, {"A": 5, "B": 9, "C": 2})
    budget_for(evaluation, uow, 2)
    ranking = run(handlers.close_round(uow, evaluation, round_id=round_id, operator="kim"))
    assert [r.application_id for r in ranking] == [COMPANIES[x][0] for x in "BAC"]
    status = {x: uow.store.candidates[COMPANIES[x][0]].status for x in "ABC"}
    assert status == {"B": "rechecking", "A": "rechecking", "C": "waitlisted"}
    [finalized] = uow.events(ScoresFinalized)
    assert [r.outcome for r in finalized.ranking] == [Outcome.SELECTED, Outcome.SELECTED, Outcome.WAITLISTED]
    assert sorted(r.application_id for r in uow.events(RecheckRequested)) == sorted(COMPANIES[x][0] for x in "AB")
    assert [d.applications_scored for d in uow.events(EvaluatorAllowanceDue)] == [3, 3, 3]
    assert uow.store.rounds_[round_id].status == "closed"


def test_the_example_recheck_answer_notifies_the_selection_and_an_exclusion_frees_the_budget_f5(world):
    evaluation, uow = world
    round_id = scored_round(evaluation, uow, {"A": 5, "B": 9, "C": 2})
    budget_for(evaluation, uow, 2)
    run(handlers.close_round(uow, evaluation, round_id=round_id, operator="kim"))
    requests = {r.application_id: r.request_id for r in uow.take(RecheckRequested)}
    b, a, c = (COMPANIES[x][0] for x in "BAC")
    run(consume(handlers.on_recheck_completed(evaluation), uow,
                example(RecheckCompleted, application_id=b, request_id=requests[b])))
    assert [s.application_id for s in uow.take(ApplicationSelected)] == [b]
    run(consume(handlers.on_recheck_completed(evaluation), uow,
                example(RecheckCompleted, application_id=a, request_id=requests[a], outcome="excluded")))
    assert uow.store.candidates[a].status == "excluded"
    [promoted] = uow.events(RecheckRequested)  # C, from the waitlist, into A's freed share
    assert promoted.application_id == c


def test_a_recheck_answer_nobody_asked_for_is_refused(world):
    evaluation, uow = world
    with pytest.raises(EventRefused):
        run(consume(handlers.on_recheck_completed(evaluation), uow, example(RecheckCompleted)))


@pytest.mark.parametrize("kind", [AgreementTerminated, ParticipationGivenUp])
def test_the_example_release_of_a_selected_application_promotes_the_waitlist(world, kind):
    evaluation, uow = world
    round_id = scored_round(evaluation, uow, {"A": 5, "B": 9, "C": 2})
    budget_for(evaluation, uow, 2)
    run(handlers.close_round(uow, evaluation, round_id=round_id, operator="kim"))
    for r in uow.take(RecheckRequested):
        run(consume(handlers.on_recheck_completed(evaluation), uow,
                    example(RecheckCompleted, application_id=r.application_id, request_id=r.request_id)))
    uow.take()
    evaluation.clock.advance(days=30)
    b = COMPANIES["B"][0]
    handler = handlers.on_agreement_terminated if kind is AgreementTerminated else handlers.on_given_up
    run(consume(handler(evaluation), uow, example(kind, application_id=b)))
    assert uow.store.candidates[b].status == "released"
    assert [r.application_id for r in uow.events(RecheckRequested)] == [COMPANIES["C"][0]]
    run(consume(handler(evaluation), uow, example(kind, application_id=b)))  # a redelivery frees nothing twice
    assert len(uow.events(RecheckRequested)) == 1


@pytest.mark.parametrize("kind", [AgreementTerminated, ParticipationGivenUp])
def test_a_release_of_an_application_evaluation_never_selected_is_refused(world, kind):
    evaluation, uow = world
    handler = handlers.on_agreement_terminated if kind is AgreementTerminated else handlers.on_given_up
    with pytest.raises(EventRefused):
        run(consume(handler(evaluation), uow, example(kind)))


def test_a_round_with_a_score_missing_does_not_close_and_writes_nothing(world):
    evaluation, uow = world
    round_id = scored_round(evaluation, uow, {"A": 5, "B": 9, "C": 2})
    del uow.store.scores_[(COMPANIES["C"][0], "EV-03")]
    with pytest.raises(RuleViolation) as refused:
        run(handlers.close_round(uow, evaluation, round_id=round_id, operator="kim"))
    assert [p.rule for p in refused.value.problems] == ["S3"] and COMPANIES["C"][0] in refused.value.problems[0].field
    assert uow.published == [] and uow.store.rounds_[round_id].status == "open"


def test_the_close_step_alone_owes_allowances_up_to_the_programs_cap_f7(world):
    evaluation, uow = world
    round_id = scored_round(evaluation, uow, {"A": 5, "B": 9, "C": 2})
    program = evaluation.program(SOS)
    r = run(uow.store.round_(round_id))
    view = run(handlers.round_view(uow, evaluation, r))
    rows = {c.application_id: c for c in run(uow.store.candidates_of_round(round_id))}
    cap, per = program.evaluator_allowance_cap, program.evaluator_allowance_per_application
    result = closing.close(program, view, rows, round_id=round_id, budget=program.budget, committed=0,
                           paid_in_program={"EV-01": cap - per, "EV-02": cap})
    owed = {a.evaluator_id: a.amount for a in result.allowances}
    assert owed == {"EV-01": per, "EV-02": 0, "EV-03": 3 * per}
    assert [d.evaluator_id for d in result.allowances_due(evaluation.clock())] == ["EV-01", "EV-03"]
