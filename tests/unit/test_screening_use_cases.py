"""Screening's use cases on an in-memory unit of work (tests/fakes): each consumer fed the catalog's example of its
event, and decide/apply through registry answers, an operator's ruling and an X11 re-check. No database, no broker:
the same use cases run on PostgreSQL and Kafka in tests/integration/test_screening_service.py."""
from __future__ import annotations


import pytest

from screening import handlers
from screening.lookup.messages import LookupAnswered, LookupRequested, Registry, Verdict
from sme_runtime.auth import Principal, Role
from sme_runtime.consumer import EventRefused
from sme_schemas.contracts import ParticipationGivenUp
from sme_schemas.evaluation import RecheckRequested
from sme_schemas.intake import ApplicationAmended, ApplicationSubmitted, ApplicationWithdrawn
from sme_schemas.screening import (
    ApplicationRejected, Finding, ManualReviewRequested, RecheckCompleted, ScreeningPassed, ScreeningStarted,
)
from tests.fakes.screening import FakeScreeningStore
from tests.fakes.unit import Clock, FakeUnit, PROGRAMS, consume, example, run, utc

APP = example(ApplicationSubmitted).application_id

CENTER = Principal("kim", Role.OPERATOR, agencies=frozenset({"gimpo"})).within(PROGRAMS)
ANOTHER_AGENCY = Principal("park", Role.OPERATOR, agencies=frozenset({"seoul-sba"})).within(PROGRAMS)


@pytest.fixture
def world():
    clock = Clock(utc("2024-04-10T00:00:00+00:00"))
    screening = handlers.Screening(programs=PROGRAMS, clock=clock)
    return screening, FakeUnit(FakeScreeningStore())


def answer(screening, uow, request: LookupRequested, verdict: Verdict, *findings: Finding) -> None:
    """A lookup worker's answer to one question, delivered to screening."""
    answered = LookupAnswered(program_id=request.program_id, occurred_at=screening.clock(), lookup_id=request.lookup_id,
                              application_id=request.application_id, registry=request.registry,
                              answered_at=screening.clock(), verdict=verdict, findings=findings)
    run(consume(handlers.on_lookup_answered(screening), uow, answered))


def submitted(screening, uow) -> dict[Registry, LookupRequested]:
    run(consume(handlers.on_submitted(screening), uow, example(ApplicationSubmitted)))
    asked = {r.registry: r for r in uow.events(LookupRequested)}
    uow.take()
    return asked


def test_the_example_submission_is_started_and_asks_each_registry_once_on_its_own_topic(world):
    screening, uow = world
    run(consume(handlers.on_submitted(screening), uow, example(ApplicationSubmitted)))
    started = uow.events(ScreeningStarted)
    asked = [(e, topic) for e, topic in uow.published if isinstance(e, LookupRequested)]
    assert [s.application_id for s in started] == [APP]
    assert sorted(e.registry for e, _ in asked) == sorted(Registry)
    assert all(topic == LookupRequested.topic_for(e.registry) for e, topic in asked)
    assert uow.store.screenings[APP].status == "screening"
    uow.take()
    run(consume(handlers.on_submitted(screening), uow, example(ApplicationSubmitted)))  # a redelivery
    assert uow.published == []


def test_every_registry_clear_passes_the_application_once_with_its_verified_facts(world):
    screening, uow = world
    asked = submitted(screening, uow)
    for registry, request in asked.items():
        assert uow.events(ScreeningPassed) == [], f"passed before {registry} answered"
        answer(screening, uow, request, Verdict.CLEAR)
    [passed] = uow.events(ScreeningPassed)
    assert passed.facts.business_registration_number == "1248100998"
    assert uow.store.screenings[APP].status == "passed"
    uow.take()
    answer(screening, uow, asked[Registry.CREDIT], Verdict.EXCLUDED)  # a late, repeated answer changes nothing
    assert uow.published == []


def test_a_registry_that_excludes_rejects_with_its_finding_and_abandons_the_other_questions(world):
    screening, uow = world
    asked = submitted(screening, uow)
    answer(screening, uow, asked[Registry.SANCTIONS], Verdict.EXCLUDED,
           Finding(rule="X9", detail="행정처분: 보조금 부정수급 (2023-05-01)"))
    [rejected] = uow.events(ApplicationRejected)
    assert [f.rule for f in rejected.findings] == ["X9"]
    assert uow.store.screenings[APP].status == "rejected"
    assert all(lk.superseded for lk in uow.store.lookups.values() if lk.answered_at is None)


def test_a_referral_waits_for_an_operator_whose_clearance_passes_it(world):
    screening, uow = world
    asked = submitted(screening, uow)
    for registry, request in asked.items():
        if registry is Registry.BUSINESS_STATUS:
            answer(screening, uow, request, Verdict.REFER, Finding(rule="X4", detail="국세청 대표자: 김정수"))
        else:
            answer(screening, uow, request, Verdict.CLEAR)
    [question] = uow.events(ManualReviewRequested)
    assert [q.rule for q in question.questions] == ["X4"]
    assert uow.events(ScreeningPassed) == []
    uow.take()
    run(handlers.rule_on(uow, screening, application_id=APP, purpose=handlers.SCREENING, exclude=False, rules=None,
                         reason="공동대표 확인", operator=CENTER))
    assert [p.application_id for p in uow.events(ScreeningPassed)] == [APP]
    assert uow.store.rulings_[0].rule == "X4"


def test_another_agency_s_operator_cannot_rule_on_the_question_t1(world):
    screening, uow = world
    asked = submitted(screening, uow)
    for registry, request in asked.items():
        verdict = Verdict.REFER if registry is Registry.BUSINESS_STATUS else Verdict.CLEAR
        answer(screening, uow, request, verdict, *([Finding(rule="X4", detail="대표자 다름")]
                                                   if verdict is Verdict.REFER else []))
    uow.take()
    with pytest.raises(Exception) as refused:
        run(handlers.rule_on(uow, screening, application_id=APP, purpose=handlers.SCREENING, exclude=True,
                             rules=None, reason="다른 기관의 판단", operator=ANOTHER_AGENCY))
    assert getattr(refused.value, "status_code", None) == 404
    assert uow.store.rulings_ == [] and uow.events(ApplicationRejected) == []


def test_an_operator_may_not_rule_on_a_question_nobody_asked(world):
    screening, uow = world
    submitted(screening, uow)
    with pytest.raises(Exception) as refused:
        run(handlers.rule_on(uow, screening, application_id=APP, purpose=handlers.SCREENING, exclude=False,
                             rules=("D3",), reason="?", operator=CENTER))
    assert getattr(refused.value, "status_code", None) == 409
    assert uow.store.rulings_ == []


def passed(screening, uow) -> None:
    for request in submitted(screening, uow).values():
        answer(screening, uow, request, Verdict.CLEAR)
    uow.take()


def test_the_example_recheck_asks_the_registries_again_and_answers_clear_when_they_do(world):
    screening, uow = world
    passed(screening, uow)
    run(consume(handlers.on_recheck_requested(screening), uow, example(RecheckRequested)))
    asked = uow.take(LookupRequested)
    assert sorted(a.registry for a in asked) == sorted(Registry)
    for request in asked:
        answer(screening, uow, request, Verdict.CLEAR)
    [done] = uow.events(RecheckCompleted)
    assert (done.request_id, done.outcome) == ("RCK-0001", "clear")


def test_a_recheck_of_an_application_that_did_not_pass_is_excluded_at_once(world):
    screening, uow = world
    submitted(screening, uow)  # still waiting on the registries
    run(consume(handlers.on_recheck_requested(screening), uow, example(RecheckRequested)))
    [done] = uow.events(RecheckCompleted)
    assert done.outcome == "excluded" and done.findings[0].rule == "X11"


def test_a_recheck_of_an_unknown_application_is_refused(world):
    screening, uow = world
    with pytest.raises(EventRefused):
        run(consume(handlers.on_recheck_requested(screening), uow, example(RecheckRequested)))


def test_the_example_amendment_of_an_application_not_yet_known_takes_it_up_at_its_revision(world):
    screening, uow = world
    run(consume(handlers.on_amended(screening), uow, example(ApplicationAmended)))
    assert uow.store.screenings[APP].revision == 2
    assert len(uow.events(ScreeningStarted)) == 1


def test_a_revision_screening_has_already_seen_changes_nothing(world):
    screening, uow = world
    run(consume(handlers.on_amended(screening), uow, example(ApplicationAmended, revision=3)))
    uow.take()
    run(consume(handlers.on_amended(screening), uow, example(ApplicationAmended, revision=2)))  # older, late
    run(consume(handlers.on_amended(screening), uow, example(ApplicationAmended, revision=3)))  # redelivered
    assert uow.published == [] and uow.store.screenings[APP].revision == 3


def test_the_example_withdrawal_before_the_submission_is_remembered_so_it_is_never_screened(world):
    screening, uow = world
    run(consume(handlers.on_withdrawn(screening), uow, example(ApplicationWithdrawn)))
    assert uow.store.screenings[APP].status == "withdrawn"
    run(consume(handlers.on_submitted(screening), uow, example(ApplicationSubmitted)))
    assert uow.published == []


def test_the_example_give_up_restricts_the_company_and_a_later_application_is_excluded_x10(world):
    screening, uow = world
    passed(screening, uow)
    run(consume(handlers.on_given_up(screening), uow, example(ParticipationGivenUp)))
    assert [r.restricted_until.isoformat() for r in uow.store.restrictions.values()] == ["2026-06-30"]
    later = example(ApplicationSubmitted, application_id="APP-01HTX5Q3Z8K2M4N6P8R0S2T4V7",
                    submitted_at="2024-07-15T01:00:00Z")
    run(consume(handlers.on_submitted(screening), uow, later))
    [rejected] = uow.events(ApplicationRejected)
    assert "X10" in [f.rule for f in rejected.findings]


def test_a_give_up_of_an_application_screening_never_saw_is_refused(world):
    screening, uow = world
    with pytest.raises(EventRefused):
        run(consume(handlers.on_given_up(screening), uow, example(ParticipationGivenUp)))


def test_each_answer_leaves_the_decision_a_full_reconsideration_would_though_clear_ones_skip_the_rules(world):
    """Issue 30: a clear answer while other registries are awaited cannot change the decision; only the registries
    it waits on change. What is stored after each answer is what deciding again from scratch gives."""
    screening, uow = world
    asked = submitted(screening, uow)
    order = [Registry.CREDIT, Registry.SANCTIONS, Registry.DUPLICATE_PROJECTS, Registry.BUSINESS_STATUS]
    for registry in order:
        answer(screening, uow, asked[registry], Verdict.CLEAR)
        stored = uow.store.screenings[APP].decision
        if stored is not None and uow.store.screenings[APP].status == "screening":
            decided_again = run(_decided_from_scratch(screening, uow))
            assert stored == decided_again
    assert uow.store.screenings[APP].status == "passed"


async def _decided_from_scratch(screening, uow):
    dossier = (await uow.store.dossiers([APP], handlers.SCREENING))[APP]
    program = screening.program(dossier.row.program_id, dossier.row.program_version)
    return handlers.summary(await handlers._decide(uow, screening, dossier, program, []))
