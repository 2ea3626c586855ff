"""A2 (one live application, amendment until screening) and A3 (window), plus the cross-field A1 checks."""
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from intake.domain import (
    A2Refusal, Disposition, LiveApplication, Status, content_problems, dispose_submission, window_problem,
)
from sme_schemas.application import ApplicationContent
from sme_schemas.examples import EXAMPLES
from sme_programs import ProgramDefinition
from pathlib import Path

PROGRAMS = Path(__file__).resolve().parents[2] / "deploy/programs"
PROGRAM = ProgramDefinition.load(PROGRAMS / "gimpo-sos-2024.json")
CONTENT = ApplicationContent.model_validate(EXAMPLES["ApplicationSubmitted"]["content"])
OPENS, CLOSES = PROGRAM.window.opens_at, PROGRAM.window.closes_at
US = timedelta(microseconds=1)


@pytest.mark.parametrize("at, accepted", [
    (OPENS - US, False), (OPENS, True), (OPENS + US, True), (CLOSES - US, True), (CLOSES, True), (CLOSES + US, False),
])
def test_a3_window_boundaries(at, accepted):
    problem = window_problem(PROGRAM, at)
    assert (problem is None) == accepted
    if problem:
        assert (problem.field, problem.rule) == ("submitted_at", "A3")


def test_a3_message_says_whether_not_yet_open_or_closed():
    assert "has not opened yet" in window_problem(PROGRAM, OPENS - US).message
    assert "is closed" in window_problem(PROGRAM, CLOSES + US).message


def live(status: Status, content: ApplicationContent = CONTENT) -> LiveApplication:
    return LiveApplication("APP-01HTX5Q3Z8K2M4N6P8R0S2T4V6", status, content)


def test_a2_first_submission_creates():
    assert dispose_submission(None, CONTENT) is Disposition.CREATE


def test_a2_identical_resubmission_changes_nothing_even_with_a_new_consent_instant():
    again = CONTENT.model_copy(update={"declarations": CONTENT.declarations.model_copy(
        update={"consent_given_at": datetime(2024, 4, 3, tzinfo=timezone.utc)})})
    assert dispose_submission(live(Status.SUBMITTED), again) is Disposition.UNCHANGED


def test_a2_changed_resubmission_before_screening_amends():
    changed = CONTENT.model_copy(update={"consulting": CONTENT.consulting.model_copy(update={"sessions": 12})})
    assert dispose_submission(live(Status.SUBMITTED), changed) is Disposition.AMEND


@pytest.mark.parametrize("status", [Status.SCREENING, Status.PASSED])
def test_a2_resubmission_after_screening_started_is_refused(status):
    with pytest.raises(A2Refusal) as info:
        dispose_submission(live(status), CONTENT)
    assert info.value.problem.rule == "A2"
    assert info.value.problem.field == "company.business_registration_number"


TODAY = date(2024, 4, 2)


def with_company(**changes) -> ApplicationContent:
    return CONTENT.model_copy(update={"company": CONTENT.company.model_copy(update=changes)})


def test_a1_consistent_content_has_no_problems():
    assert content_problems(CONTENT, PROGRAM, TODAY) == []


@pytest.mark.parametrize("content, field", [
    (with_company(founded_on=TODAY + timedelta(days=1)), "company.founded_on"),
    (with_company(gimpo_business_since=date(2010, 1, 1)), "company.gimpo_business_since"),
    (CONTENT.model_copy(update={"consulting": CONTENT.consulting.model_copy(
        update={"planned_completion_on": date(2025, 1, 1)})}), "consulting.planned_completion_on"),
    (CONTENT.model_copy(update={"bonus": CONTENT.bonus.model_copy(update={"research_staff": 24})}),
     "bonus.research_staff"),
])
def test_a1_cross_field_problems_name_the_field(content, field):
    assert field in [p.field for p in content_problems(content, PROGRAM, TODAY)]


def test_c2_completion_on_the_last_day_of_the_program_year_is_fine():
    content = CONTENT.model_copy(update={"consulting": CONTENT.consulting.model_copy(
        update={"planned_completion_on": PROGRAM.program_year_end})})
    assert content_problems(content, PROGRAM, TODAY) == []


@given(st.integers(0, 10_000))
def test_research_staff_up_to_the_employee_count_is_consistent(staff):
    content = CONTENT.model_copy(update={
        "company": CONTENT.company.model_copy(update={"regular_employees": 10_000}),
        "bonus": CONTENT.bonus.model_copy(update={"research_staff": staff})})
    assert content_problems(content, PROGRAM, TODAY) == []


# E6 supplement: after screening asks for documents, only the evidence may change, and only until the deadline.
def test_e6_supplement_accepts_new_evidence_only():
    more = CONTENT.model_copy(update={"evidence": CONTENT.evidence + CONTENT.evidence[:1]})
    assert dispose_submission(live(Status.SUPPLEMENT), more) is Disposition.AMEND
    assert dispose_submission(live(Status.SUPPLEMENT), CONTENT) is Disposition.UNCHANGED
    changed = CONTENT.model_copy(update={"company": CONTENT.company.model_copy(update={"regular_employees": 99})})
    with pytest.raises(A2Refusal) as refusal:
        dispose_submission(live(Status.SUPPLEMENT), changed)
    assert (refusal.value.problem.field, refusal.value.problem.rule) == ("company", "E6")


@pytest.mark.parametrize("offset, refused", [(timedelta(0), False), (timedelta(microseconds=1), True)])
def test_e6_supplement_deadline_is_inclusive(offset, refused):
    from intake.domain import supplement_problem
    deadline = datetime(2024, 4, 9, 1, tzinfo=timezone.utc)
    problem = supplement_problem(deadline, deadline + offset)
    assert (problem is not None) is refused
    if problem:
        assert (problem.field, problem.rule) == ("evidence", "E6")


def test_a3_the_smart_factory_call_closes_on_20_march_2026_at_18_00_kst_as_the_news_says():
    smart = ProgramDefinition.load(PROGRAMS / "gimpo-smart-factory-2026.json")
    kst = timezone(timedelta(hours=9))
    assert window_problem(smart, datetime(2026, 3, 20, 18, 0, tzinfo=kst)) is None
    assert window_problem(smart, datetime(2026, 3, 20, 18, 0, tzinfo=kst) + US).rule == "A3"
    assert window_problem(smart, datetime(2026, 2, 27, 18, 0, tzinfo=kst)) is None  # open past February
    assert any("3월 20일 18시" in a for a in smart.assumptions)
