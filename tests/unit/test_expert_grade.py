"""G1–G3: recognised years and the grade table, at every boundary."""
import pytest
from hypothesis import given, strategies as st

from sme_schemas.grade import (
    GRADE_YEARS, REFERENCE_DAILY_FEE, Grade, assess_grade, grade_acceptable, grade_label,
)
from sme_schemas.application import Degree, ExpertQualification, Licence

L = Licence


def q(years: int, degree: Degree = Degree.BACHELOR, *licences: Licence) -> ExpertQualification:
    return ExpertQualification(highest_degree=degree, consulting_years=years, licences=licences)


@pytest.mark.parametrize("qualification, years, grade", [
    (q(9), 9, Grade.THIRD),                               # exactly the grade-3 minimum
    (q(8), 8, Grade.FOURTH),                              # one year short
    (q(7, Degree.MASTER), 9, Grade.THIRD),                # 7 + master's 2 = 9: grade 3 thanks to the degree
    (q(7), 7, Grade.FOURTH),                              # the same 7 years without it: grade 4
    (q(9, Degree.MASTER), 11, Grade.THIRD),
    (q(6, Degree.DOCTORATE), 12, Grade.SECOND),           # doctorate +6 (highest degree only, not +8)
    (q(0, Degree.BACHELOR, L.PROFESSIONAL_ENGINEER, L.CPA), 9, Grade.THIRD),  # engineer +6 and a licence +3 stack
    (q(6, Degree.BACHELOR, L.CPA, L.TAX_ACCOUNTANT, L.ATTORNEY), 9, Grade.THIRD),  # licences count once
    (q(24), 24, Grade.SPECIAL), (q(23), 23, Grade.FIRST), (q(19), 19, Grade.FIRST), (q(18), 18, Grade.SECOND),
    (q(12), 12, Grade.SECOND), (q(11), 11, Grade.THIRD), (q(6), 6, Grade.FOURTH), (q(5), 5, Grade.FIFTH),
    (q(3), 3, Grade.FIFTH), (q(2), 2, None), (q(0), 0, None),
])
def test_grade_table(qualification, years, grade):
    assessment = assess_grade(qualification)
    assert (assessment.recognised_years, assessment.grade) == (years, grade)


def test_without_a_bachelors_degree_there_is_no_grade_g1():
    assessment = assess_grade(q(30, Degree.NONE, L.PROFESSIONAL_ENGINEER))
    assert assessment.grade is None and "bachelor" in assessment.breakdown[0]


@pytest.mark.parametrize("grade, acceptable", [(Grade.SPECIAL, True), (Grade.THIRD, True), (Grade.FOURTH, False),
                                               (Grade.FIFTH, False), (None, False)])
def test_grade_three_or_better_is_required(grade, acceptable):
    years = dict(GRADE_YEARS).get(grade, 0)
    assert grade_acceptable(assess_grade(q(years)), worst_allowed=3) is acceptable


def test_reference_fees_fall_with_the_grade_g3():
    fees = [REFERENCE_DAILY_FEE[g] for g in Grade]
    assert fees == sorted(fees, reverse=True) and fees[Grade.THIRD] == 644_000


@given(
    st.integers(0, 69), st.sampled_from(list(Degree)), st.sets(st.sampled_from(list(Licence)))
)  # +1 stays within the contract's 70
def test_more_experience_never_lowers_the_grade(years, degree, licences):
    worse = assess_grade(q(years, degree, *licences))
    better = assess_grade(q(years + 1, degree, *licences))
    rank = lambda a: 99 if a.grade is None else int(a.grade)  # noqa: E731
    assert rank(better) <= rank(worse)


@given(st.integers(0, 70), st.sets(st.sampled_from(list(Licence))))
def test_recognised_years_never_exceed_experience_plus_the_largest_extras(years, licences):
    assessment = assess_grade(q(years, Degree.DOCTORATE, *licences))
    assert years + 6 <= assessment.recognised_years <= years + 6 + 6 + 3


def test_labels_match_the_event_contract():
    assert [grade_label(g) for g in (Grade.SPECIAL, Grade.FIRST, Grade.THIRD, None)] == ["special", "1", "3", "none"]
