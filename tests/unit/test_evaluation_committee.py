"""The committee's composition, conflicts of interest (F6), which scores count (S3), when a round may close, and
evaluator allowances (F7)."""
from datetime import date

import pytest

from evaluation.committee import (
    Applicant, Employment, Evaluator, Kind, SeatRole, Seat, allowance, check_committee, detect_conflicts,
)
from evaluation.rounds import Declaration, RoundView
from evaluation.scoring import evaluator_score
from deploy.local.procs import ROOT
from sme_programs import ProgramDefinition

RUBRIC = ProgramDefinition.load(ROOT / "deploy/programs/gimpo-sos-2024.json").committee_score
AS_OF = date(2024, 5, 1)


def ev(i: int, kind: Kind = Kind.EXTERNAL, **kw) -> Evaluator:
    return Evaluator(evaluator_id=f"EV-{i}", name=kw.pop("name", f"평가{i}"), affiliation=kw.pop("affiliation", "대학"),
                     kind=kind, **kw)


def seats(n: int, *, chair: int = 0) -> list[Seat]:
    return [Seat(ev(i), SeatRole.CHAIR if i == chair else SeatRole.MEMBER) for i in range(n)]


STAFF = Seat(ev(99, Kind.CENTER_STAFF, name="김간사"), SeatRole.SECRETARY)


@pytest.mark.parametrize("n, ok", [(2, False), (3, True), (7, True), (8, False)])
def test_three_to_seven_external_evaluators(n, ok):
    problems = check_committee(seats(n) + [STAFF], minimum=3, maximum=7)
    assert (problems == []) is ok
    assert all(p.field == "members" and p.rule == "S3" for p in problems)


def test_exactly_one_chair():
    no_chair = [Seat(s.evaluator, SeatRole.MEMBER) for s in seats(3)]
    assert "exactly one chair; 0" in check_committee(no_chair, minimum=3, maximum=7)[0].message
    two = seats(3) + [Seat(ev(5), SeatRole.CHAIR)]
    assert "exactly one chair; 2" in check_committee(two, minimum=3, maximum=7)[0].message


def test_center_staff_sit_only_as_the_unpaid_secretary():
    problems = check_committee(seats(3) + [Seat(ev(98, Kind.CENTER_STAFF), SeatRole.MEMBER)], minimum=3, maximum=7)
    assert [(p.field, p.rule) for p in problems] == [("members[3].role", "F7")]
    problems = check_committee(seats(3) + [Seat(ev(5), SeatRole.SECRETARY)], minimum=3, maximum=7)
    assert [(p.field, p.rule) for p in problems] == [("members[3].role", "S3")]


def test_an_evaluator_is_seated_once():
    problems = check_committee(seats(3) + [Seat(ev(1), SeatRole.MEMBER)], minimum=3, maximum=7)
    assert any("EV-1 is named more than once" in p.message for p in problems)


# --- F6 detection ------------------------------------------------------------------------------------------

APPLICANTS = [Applicant("APP-1", "1248100998", "(주)김포정밀", "이성훈", "한국생산성컨설팅"),
              Applicant("APP-2", "1234567891", "(주)한강식품", "박상담", "경기경영연구원"),
              Applicant("APP-3", "2223334445", "(주)통진금속", None, None)]


def reasons(evaluator: Evaluator, lookback: int = 1095) -> set[tuple[str, str]]:
    return {(c.application_id, c.reason) for c in detect_conflicts(evaluator, APPLICANTS, as_of=AS_OF,
                                                                  lookback_days=lookback)}


def test_a_present_employer_is_a_conflict_and_makes_the_evaluator_a_competitor_of_the_others():
    evaluator = ev(1, employers=(Employment("1248100998", "(주)김포정밀", since=date(2020, 1, 1)),))
    assert reasons(evaluator) == {("APP-1", "employer"), ("APP-2", "competitor"), ("APP-3", "competitor")}


@pytest.mark.parametrize("until, conflicted", [
    (date(2021, 5, 2), True),   # 1,095 days before 2024-05-01: the last day of the look-back
    (date(2021, 5, 1), False),  # 1,096 days: outside
    (date(2024, 4, 30), True),
])
def test_a_former_employer_within_the_look_back_period(until, conflicted):
    evaluator = ev(1, employers=(Employment("1234567891", "(주)한강식품", until=until),))
    assert reasons(evaluator) == ({("APP-2", "former-employer")} if conflicted else set())


def test_employment_ending_on_the_round_day_is_still_present():
    evaluator = ev(1, employers=(Employment("1234567891", "(주)한강식품", until=AS_OF),))
    assert ("APP-2", "employer") in reasons(evaluator)


def test_the_applicants_own_expert_is_detected_by_name_and_affiliation():
    assert reasons(ev(1, name="이 성훈", affiliation="한국생산성 컨설팅")) == {("APP-1", "expert")}
    assert reasons(ev(1, name="이성훈", affiliation="다른회사")) == set()  # a namesake elsewhere is not the expert


def test_round_view_hides_conflicted_applications_and_drops_their_scores():
    committee = [Seat(ev(0, name="이성훈", affiliation="한국생산성컨설팅"), SeatRole.CHAIR)] + seats(4)[1:] + [STAFF]
    top = evaluator_score({i.code: i.levels[0] for i in RUBRIC.items}, RUBRIC)
    scores = {(f"EV-{i}", "APP-1"): top for i in range(4)}  # EV-0 scored before the conflict was known
    view = RoundView(seats=committee, applicants=APPLICANTS, scores=scores, as_of=AS_OF, lookback_days=1095,
                     minimum=3, declarations=[Declaration("EV-3", "APP-1", conflicted=True, relation="친족")])
    assert view.scorers == ["EV-0", "EV-1", "EV-2", "EV-3"]  # the secretary never scores
    assert view.assigned("APP-1") == ["EV-1", "EV-2"]
    assert not view.may_see("EV-0", "APP-1") and view.may_see("EV-0", "APP-2")
    assert len(view.valid_scores("APP-1")) == 2
    assert view.short_of_evaluators() == ["APP-1"]
    problems = {p.field: p for p in view.close_problems()}
    assert set(problems) == {"applications.APP-1", "applications.APP-2", "applications.APP-3"}
    msg = problems["applications.APP-1"].message
    assert "2 valid scores of the 3 needed" in msg and "EV-0 (expert)" in msg and "EV-3 (declared)" in msg
    assert "seat more" in msg and problems["applications.APP-2"].rule == "S3"
    [first, *_] = view.score_shortfalls()  # the same facts apart, for the portal to word (S3, F6)
    assert (first.application_id, first.valid_scores, first.needed, first.not_scored_by) == ("APP-1", 2, 3, ())
    assert first.excluded == (("EV-0", "expert"), ("EV-3", "declared")) and first.too_few_evaluators
    assert first.message() == msg


def test_a_round_closes_when_every_application_has_enough_valid_scores():
    top = evaluator_score({i.code: i.levels[0] for i in RUBRIC.items}, RUBRIC)
    scores = {(f"EV-{i}", a.application_id): top for i in range(3) for a in APPLICANTS}
    view = RoundView(seats=seats(3), applicants=APPLICANTS, scores=scores, declarations=[], as_of=AS_OF,
                     lookback_days=1095, minimum=3)
    assert view.close_problems() == []
    empty = RoundView(seats=[], applicants=APPLICANTS, scores={}, declarations=[], as_of=AS_OF, lookback_days=0,
                      minimum=3)
    assert [p.field for p in empty.close_problems()] == ["committee"]


def test_a_declaration_of_no_conflict_does_not_hide_anything():
    view = RoundView(seats=seats(3), applicants=APPLICANTS, scores={}, as_of=AS_OF, lookback_days=0, minimum=3,
                     declarations=[Declaration("EV-1", "APP-1", conflicted=False)])
    assert view.assigned("APP-1") == ["EV-0", "EV-1", "EV-2"]


# --- F7 ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scored, earlier, amount", [(0, 0, 0), (1, 0, 20_000), (15, 0, 300_000), (16, 0, 300_000),
                                                     (10, 200_000, 100_000), (3, 300_000, 0)])
def test_f7_allowance_per_application_capped_per_program(scored, earlier, amount):
    assert allowance(scored, kind=Kind.EXTERNAL, per_application=20_000, cap=300_000,
                     already_in_program=earlier) == amount


def test_f7_center_staff_get_none():
    assert allowance(10, kind=Kind.CENTER_STAFF, per_application=20_000, cap=300_000, already_in_program=0) == 0
