"""사후관리 (M1–M3) at its boundaries: what is owed and when, which answers are complete, when reminders go out,
and the program's report; a program's follow-up terms refused naming the field."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, strategies as st
from pydantic import ValidationError

from contracts.follow_up import Obligation, answer_problems, obligations, reminder_due, report
from sme_schemas.periods import WorkingCalendar, months_after
from deploy.local.procs import ROOT
from sme_programs import FollowUp, ProgramDefinition

SOS = ProgramDefinition.load(ROOT / "deploy/programs/gimpo-sos-2024.json").follow_up
SURVEY = {"overall": 5, "expert": 4, "usefulness": 3, "center": 5}
OUTCOME = {"applied-to-government-call": True, "won-government-call": True, "government-funding-krw": 150_000_000,
           "new-hires": 2, "notes": ""}


@pytest.mark.parametrize("start, months, due", [
    (date(2024, 11, 20), 6, date(2025, 5, 20)),
    (date(2024, 8, 31), 6, date(2025, 2, 28)),    # no 31 February: the month's last day
    (date(2023, 8, 31), 6, date(2024, 2, 29)),    # a leap year's
    (date(2024, 12, 31), 12, date(2025, 12, 31)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
])
def test_months_after_keeps_the_day_or_the_months_last(start, months, due):
    assert months_after(start, months) == due


@given(st.dates(date(2000, 1, 1), date(2090, 12, 31)), st.integers(1, 12))
def test_months_after_lands_in_the_right_month_never_earlier_in_it(start, months):
    due = months_after(start, months)
    assert (due.year * 12 + due.month) - (start.year * 12 + start.month) == months
    assert due.day == start.day or due.day < start.day and (due + timedelta(days=1)).day == 1


def test_m1_the_survey_within_30_days_and_outcome_reports_at_6_and_12_months():
    assert obligations(SOS, date(2024, 11, 20), WorkingCalendar()) == [
        ("survey", date(2024, 12, 20)), ("outcome-6m", date(2025, 5, 20)), ("outcome-12m", date(2025, 11, 20))]


def test_m1_a_due_date_on_a_weekend_or_holiday_moves_to_the_next_working_day():
    # accepted Fri 2024-08-16: the survey's 30th day is Sun 09-15 and 09-16..18 are 추석 (Thu 19th); six months
    # later is Sun 2025-02-16 (Mon 17th); twelve, Sat 2025-08-16 (Mon 18th; 08-15 광복절 is the day before)
    assert obligations(SOS, date(2024, 8, 16), WorkingCalendar()) == [
        ("survey", date(2024, 9, 19)), ("outcome-6m", date(2025, 2, 17)), ("outcome-12m", date(2025, 8, 18))]


def test_m1_complete_answers_pass():
    assert answer_problems(SOS, "survey", SURVEY) == []
    assert answer_problems(SOS, "outcome-6m", OUTCOME) == []
    assert answer_problems(SOS, "outcome-12m", {**OUTCOME, "applied-to-government-call": False,
                                                "won-government-call": False, "government-funding-krw": 0}) == []


@pytest.mark.parametrize("answers, field", [
    ({**SURVEY, "overall": 6}, "answers.overall"),
    ({**SURVEY, "overall": 0}, "answers.overall"),
    ({**SURVEY, "expert": True}, "answers.expert"),     # a yes is not a score
    ({**SURVEY, "center": "5"}, "answers.center"),
    ({k: v for k, v in SURVEY.items() if k != "usefulness"}, "answers.usefulness"),
    ({**SURVEY, "price": 3}, "answers.price"),
])
def test_m1_a_survey_answer_out_of_1_to_5_or_unknown_is_refused_naming_it(answers, field):
    assert [(p.field, p.rule) for p in answer_problems(SOS, "survey", answers)] == [(field, "M1")]


@pytest.mark.parametrize("change, field", [
    ({"applied-to-government-call": False}, "answers.won-government-call"),  # won requires applied
    ({"won-government-call": False}, "answers.government-funding-krw"),      # funding requires won
    ({"new-hires": -1}, "answers.new-hires"),
    ({"new-hires": 1.5}, "answers.new-hires"),
    ({"government-funding-krw": True}, "answers.government-funding-krw"),
    ({"applied-to-government-call": "yes"}, "answers.applied-to-government-call"),
    ({"notes": "가" * 2001}, "answers.notes"),
])
def test_m1_an_outcome_answer_of_the_wrong_kind_or_without_its_requirement_is_refused(change, field):
    problems = answer_problems(SOS, "outcome-6m", {**OUTCOME, **change})
    assert (field, "M1") in [(p.field, p.rule) for p in problems]


def test_m1_a_report_the_program_does_not_ask_is_refused():
    problems = answer_problems(SOS, "outcome-3m", OUTCOME)
    assert [(p.field, p.rule) for p in problems] == [("kind", "M1")]
    assert "survey or outcome-6m, outcome-12m" in problems[0].message


@pytest.mark.parametrize("today, soon, overdue, expected", [
    (date(2024, 12, 12), False, False, None),          # eight days before: not yet
    (date(2024, 12, 13), False, False, "due-soon"),    # seven days before
    (date(2024, 12, 13), True, False, None),           # once
    (date(2024, 12, 20), True, False, None),           # the due date itself is on time
    (date(2024, 12, 21), True, False, "overdue"),      # the day after
    (date(2024, 12, 21), False, False, "overdue"),     # overdue skips the due-soon never sent
    (date(2025, 1, 30), True, True, None),             # once
])
def test_m2_reminders_before_the_due_date_and_the_day_after_each_once(today, soon, overdue, expected):
    assert reminder_due(date(2024, 12, 20), today, SOS, answered=False, reminded_soon=soon,
                        reminded_overdue=overdue) == expected


def test_m2_nothing_is_reminded_once_answered():
    assert reminder_due(date(2024, 12, 20), date(2024, 12, 25), SOS, answered=True, reminded_soon=False,
                        reminded_overdue=False) is None


def test_m3_the_report_counts_means_and_outcomes():
    owed = [Obligation("survey", date(2024, 12, 20), SURVEY),
            Obligation("survey", date(2024, 12, 20), {**SURVEY, "overall": 4, "expert": 4}),
            Obligation("survey", date(2024, 12, 20), {**SURVEY, "overall": 4, "expert": 5}),
            Obligation("survey", date(2024, 12, 20), None),
            Obligation("outcome-6m", date(2025, 5, 20), OUTCOME),
            Obligation("outcome-6m", date(2025, 5, 20), {**OUTCOME, "won-government-call": False,
                                                         "government-funding-krw": 0, "new-hires": 0}),
            Obligation("outcome-12m", date(2025, 11, 20), None)]
    r = report(SOS, owed, date(2025, 1, 1))
    assert r["survey"] == {"owed": 4, "answered": 3, "overdue": 1,
                           "mean": {"overall": "4.33", "expert": "4.33", "usefulness": "3.00", "center": "5.00"}}
    assert r["outcome-6m"] == {"owed": 2, "answered": 2, "overdue": 0, "answers": {
        "applied-to-government-call": 2, "won-government-call": 1, "government-funding-krw": 150_000_000,
        "new-hires": 2}}
    assert r["outcome-12m"]["owed"] == 1 and r["outcome-12m"]["overdue"] == 0


@pytest.mark.parametrize("terms, field", [
    ({"outcome_reports_after_months": [6, 13]}, "outcome_reports_after_months"),   # a year at most
    ({"outcome_reports_after_months": [12, 6]}, "outcome_reports_after_months"),
    ({"survey_items": [{"code": "overall", "title": "가"}, {"code": "overall", "title": "나"}]}, "survey_items"),
    ({"outcome_questions": [{"code": "won", "title": "선정", "kind": "yes-no", "requires": "applied"}]},
     "outcome_questions"),
])
def test_follow_up_terms_are_refused_naming_the_field(terms, field):
    with pytest.raises(ValidationError, match=field):
        FollowUp.model_validate(terms)
