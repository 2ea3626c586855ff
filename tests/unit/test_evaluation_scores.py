"""Q1–Q7 (document score) and S1–S3 (committee score): each band at its boundary, Q7's cap, S1's refusals,
S2's normalisation, and hypothesis properties that no total ever exceeds its maximum."""
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from evaluation.scoring import (
    check_levels, document_score, evaluator_score, full_years, max_document_score, publish, qualitative_score,
)
from sme_schemas.application import PreferenceCertification as C
from sme_schemas.examples import EXAMPLES
from sme_programs import DocumentScoreSheet, ProgramDefinition
from sme_schemas.screening import VerifiedFacts

ROOT = Path(__file__).resolve().parents[2]
SOS = ProgramDefinition.load(ROOT / "deploy/programs/gimpo-sos-2024.json")
SMART = ProgramDefinition.load(ROOT / "deploy/programs/gimpo-smart-factory-2026.json")
SHEET, RUBRIC = SOS.document_score, SOS.committee_score
ANNOUNCED = SOS.announcement_date  # 2024-03-25
FACTS = VerifiedFacts.model_validate(EXAMPLES["ScreeningPassed"]["facts"])
BONUS = [c for c in C if c is not C.RESEARCH_INSTITUTE]


def facts(**changes) -> VerifiedFacts:
    return FACTS.model_copy(update=changes)


def part(score, rule: str) -> int:
    return next(points for r, points, _ in score.parts if r == rule)


@pytest.mark.parametrize("revenue, points", [
    (3_000_000_000, 30), (2_999_999_999, 25), (2_000_000_000, 25), (1_999_999_999, 20), (1_000_000_000, 20),
    (999_999_999, 15), (500_000_000, 15), (499_999_999, 10), (0, 10)])
def test_q1_revenue_bands(revenue, points):
    assert part(document_score(facts(revenue_last_year=revenue), SHEET, ANNOUNCED), "Q1") == points


@pytest.mark.parametrize("employees, points", [(15, 20), (14, 16), (10, 16), (9, 12), (5, 12), (4, 8), (3, 8),
                                              (2, 4), (0, 4)])
def test_q2_regular_employee_bands(employees, points):
    assert part(document_score(facts(regular_employees=employees), SHEET, ANNOUNCED), "Q2") == points


@pytest.mark.parametrize("since, points", [
    (date(2014, 3, 25), 30),  # 10 years on the announcement date itself
    (date(2014, 3, 26), 25),  # one day short of 10
    (date(2019, 3, 25), 25), (date(2019, 3, 26), 20), (date(2021, 3, 25), 20), (date(2021, 3, 26), 15),
    (date(2023, 3, 25), 15), (date(2023, 3, 26), 10), (date(2024, 3, 25), 10)])
def test_q3_years_in_the_city_counted_to_the_announcement_date(since, points):
    assert part(document_score(facts(gimpo_business_since=since), SHEET, ANNOUNCED), "Q3") == points


def test_full_years_from_a_leap_day_turn_on_the_first_of_march():
    assert full_years(date(2020, 2, 29), date(2021, 2, 28)) == 0
    assert full_years(date(2020, 2, 29), date(2021, 3, 1)) == 1
    assert full_years(date(2024, 3, 26), date(2024, 3, 25)) == 0  # since after as-of: no years, never negative


@pytest.mark.parametrize("staff, institute, points_q4, points_q5", [(0, False, 0, 0), (1, False, 5, 0),
                                                                    (2, True, 10, 10), (7, True, 10, 10)])
def test_q4_research_staff_and_q5_institute(staff, institute, points_q4, points_q5):
    score = document_score(facts(research_staff=staff, research_institute=institute), SHEET, ANNOUNCED)
    assert (part(score, "Q4"), part(score, "Q5")) == (points_q4, points_q5)


@pytest.mark.parametrize("certifications, points", [
    ((), 0),
    ((C.INNO_BIZ,), 2), ((C.MAIN_BIZ,), 2), ((C.INNO_BIZ, C.MAIN_BIZ), 2),  # one item of 별표2: INNO(main)-BIZ
    ((C.NET,), 2), ((C.NEP,), 2), ((C.NET, C.NEP), 2),  # one item: NET, NEP 인증기업
    ((C.INNO_BIZ, C.MAIN_BIZ, C.NET, C.NEP), 4),
    ((C.GYEONGGI_PROMISING_SME, C.FAMILY_FRIENDLY, C.GOOD_JOBS, C.INNO_BIZ), 8),
    ((C.GYEONGGI_PROMISING_SME, C.FAMILY_FRIENDLY, C.GOOD_JOBS, C.INNO_BIZ, C.MAIN_BIZ), 8),
    ((C.GYEONGGI_PROMISING_SME, C.FAMILY_FRIENDLY, C.GOOD_JOBS, C.INNO_BIZ, C.VENTURE), 10),
    ((C.GYEONGGI_PROMISING_SME, C.FAMILY_FRIENDLY, C.GOOD_JOBS, C.INNO_BIZ, C.VENTURE, C.NET), 10),  # the cap
    (tuple(BONUS), 10),  # all fourteen checkboxes: twelve items, 24 points, capped at 10
])
def test_q6_each_bonus_item_counts_once_two_points_at_most_ten(certifications, points):
    assert part(document_score(facts(certifications=certifications), SHEET, ANNOUNCED), "Q6") == points


def test_q6_names_the_items_it_scored_in_the_breakdown():
    score = document_score(facts(certifications=(C.MAIN_BIZ, C.INNO_BIZ, C.NEP)), SHEET, ANNOUNCED)
    [basis] = [basis for rule, _, basis in score.parts if rule == "Q6"]
    assert basis == "2 bonus items proven: INNO(main)-BIZ기업, NET, NEP 인증기업"


def test_q6_items_are_the_programs_data():
    sheet = DocumentScoreSheet.model_validate({**SHEET.model_dump(mode="json"), "bonus_cap": 6, "bonus_items": (
        {"code": "social-economy", "title": "사회적경제기업", "points": 3,
         "proven_by": ["social-enterprise", "women-owned"]},
        {"code": "venture", "title": "벤처기업", "points": 5, "proven_by": ["venture"]})})
    assert part(document_score(facts(certifications=(C.SOCIAL_ENTERPRISE, C.WOMEN_OWNED)), sheet, ANNOUNCED),
                "Q6") == 3
    assert part(document_score(facts(certifications=(C.WOMEN_OWNED, C.VENTURE)), sheet, ANNOUNCED), "Q6") == 6
    assert part(document_score(facts(certifications=(C.INNO_BIZ, C.NET)), sheet, ANNOUNCED), "Q6") == 0


@pytest.mark.parametrize("sheet, named", [
    ({"bonus_per_certification": 2}, "bonus_per_certification"),
    ({"bonus_items": [{"code": "a-item", "title": "A", "points": 2, "proven_by": ["net"]},
                      {"code": "b-item", "title": "B", "points": 2, "proven_by": ["net", "nep"]}]},
     "net proves several"),
    ({"bonus_items": [{"code": "a-item", "title": "A", "points": 2, "proven_by": ["net"]},
                      {"code": "a-item", "title": "B", "points": 2, "proven_by": ["nep"]}]}, "codes must be unique"),
    ({"bonus_items": [{"code": "lab", "title": "연구소", "points": 2, "proven_by": ["research-institute"]}]}, "Q5"),
    ({"bonus_items": [{"code": "none", "title": "A", "points": 2, "proven_by": []}]}, "proven_by"),
    ({"bonus_items": [{"code": "x", "title": "A", "points": 2, "proven_by": ["inno-biz"]}]}, "code"),
])
def test_a_malformed_bonus_sheet_is_refused_naming_the_field(sheet, named):
    program = SOS.model_dump(mode="json")
    program["document_score"] = {**program["document_score"], **sheet}
    with pytest.raises(ValueError, match=named) as refused:
        ProgramDefinition.model_validate(program)
    assert "document_score" in str(refused.value)


def test_q7_scale_values_are_used_and_the_sum_is_capped_at_100_with_the_resolution_in_the_breakdown():
    # 30 (revenue 3.2e9) + 20 (20 employees) + 30 (12 years) + 10 (2 research staff) + 10 (institute)
    # + 6 (3 certifications) = 106 → Q7 caps it at 100.
    best = facts(revenue_last_year=3_200_000_000, regular_employees=20, gimpo_business_since=date(2012, 1, 1),
                 research_staff=2, research_institute=True, certifications=tuple(BONUS[:3]))
    score = document_score(best, SHEET, ANNOUNCED)
    assert (score.uncapped, score.total) == (106, 100)
    shown = score.breakdown()
    assert shown["sum_before_cap"] == 106 and shown["total"] == 100
    assert "Q7" in shown and "capped at 100" in shown["Q7"] and "30" in shown["Q7"]
    assert [p["rule"] for p in shown["parts"]] == ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6"]


def test_the_example_application_scores_by_hand():
    # 2,450,000,000 → 25 (Q1); 23 employees → 20 (Q2); 2014-06-01 to 2024-03-25 = 9 full years → 25 (Q3);
    # 1 research staff → 5 (Q4); no institute → 0 (Q5); inno-biz → 2 (Q6). 77, under the cap.
    assert document_score(FACTS, SHEET, ANNOUNCED).total == 77


def test_a_repeated_certification_counts_once():
    assert part(document_score(facts(certifications=(C.VENTURE, C.VENTURE)), SHEET, ANNOUNCED), "Q6") == 2


@given(
    revenue=st.integers(0, 10**12),
    employees=st.integers(0, 10_000),
    since=st.dates(date(1950, 1, 1), date(2030, 1, 1)),
    staff=st.integers(0, 500),
    institute=st.booleans(),
    certs=st.lists(st.sampled_from(BONUS), max_size=14),
)
def test_the_document_score_never_exceeds_its_maximum(revenue, employees, since, staff, institute, certs):
    score = document_score(facts(revenue_last_year=revenue, regular_employees=employees, gimpo_business_since=since,
                                 research_staff=staff, research_institute=institute, certifications=tuple(certs)),
                           SHEET, ANNOUNCED)
    assert 0 <= score.total <= max_document_score(SHEET) <= SHEET.total_cap
    assert score.total == min(SHEET.total_cap, sum(p for _, p, _ in score.parts))


def test_a_sheet_with_unordered_bands_is_refused():
    unordered = [{"at_least": 0, "points": 10}, {"at_least": 5, "points": 20}]
    with pytest.raises(ValueError, match="revenue_last_year: bands must run from the highest"):
        DocumentScoreSheet.model_validate({**SHEET.model_dump(mode="json"), "revenue_last_year": unordered})


# --- S1–S3 ---------------------------------------------------------------------------------------------------

TOP = {item.code: item.levels[0] for item in RUBRIC.items}


def test_s1_nine_items_with_five_levels_summing_to_105():
    assert len(RUBRIC.items) == 9 and all(len(item.levels) == 5 for item in RUBRIC.items)
    assert RUBRIC.raw_max == 105
    sections = {}
    for item in RUBRIC.items:
        sections[item.section] = sections.get(item.section, 0) + item.levels[0]
    assert sections == {"사업의 필요성": 40, "사업의 적정성": 35, "기대효과": 30}  # S2: 40/35/30, not 40/30/30


def test_s1_a_score_off_the_levels_is_refused_naming_the_item_and_the_levels():
    problems = check_levels({**TOP, "motive-and-need": 14}, RUBRIC)
    assert [(p.field, p.rule) for p in problems] == [("levels.motive-and-need", "S1")]
    assert "15, 12, 9, 6, 3" in problems[0].message and "추진동기" in problems[0].message


def test_s1_missing_and_unknown_items_are_refused():
    levels = {k: v for k, v in TOP.items() if k != "preparation"} | {"charm": 5}
    assert sorted(p.field for p in check_levels(levels, RUBRIC)) == ["levels.charm", "levels.preparation"]
    with pytest.raises(ValueError):
        evaluator_score(levels, RUBRIC)


def test_s2_raw_105_normalises_to_100_and_the_raw_total_is_kept():
    assert evaluator_score(TOP, RUBRIC).raw_total == 105 and evaluator_score(TOP, RUBRIC).normalised == 100
    bottom = {item.code: item.levels[-1] for item in RUBRIC.items}
    # 3+3+2+2+2+3+2+2+2 = 21 raw → 21 x 100 / 105 = 20
    assert (evaluator_score(bottom, RUBRIC).raw_total, evaluator_score(bottom, RUBRIC).normalised) == (21, 20)
    # 84 raw (all second levels) → 80
    second = {item.code: item.levels[1] for item in RUBRIC.items}
    assert evaluator_score(second, RUBRIC).normalised == 80


def test_s3_mean_of_valid_scores_needs_three():
    a, b, c = (evaluator_score({i.code: i.levels[n] for i in RUBRIC.items}, RUBRIC) for n in (0, 1, 2))
    assert qualitative_score([a, b], minimum=3) is None
    q = qualitative_score([a, b, c], minimum=3)
    # raw 105, 84, 63 → 100, 80, 60 → mean 80; raw mean 84
    assert (q.mean, q.raw_mean, q.evaluators) == (80, 84, 3)


@given(
    st.lists(st.fixed_dictionaries({i.code: st.sampled_from(i.levels) for i in RUBRIC.items}), min_size=3, max_size=7)
)
def test_committee_totals_never_exceed_their_maxima(sheets):
    scores = [evaluator_score(levels, RUBRIC) for levels in sheets]
    assert all(0 < s.raw_total <= RUBRIC.raw_max and 0 < s.normalised <= RUBRIC.normalised_to for s in scores)
    q = qualitative_score(scores, minimum=3)
    assert 0 < q.mean <= 100 and q.raw_mean <= 105 and publish(q.mean) <= 100


def test_publish_rounds_half_up_to_four_places():
    assert str(publish(Fraction(5580, 63))) == "88.5714"
    assert str(publish(Fraction(1, 20000))) == "0.0001"  # 0.00005 rounds up
    assert str(publish(83)) == "83.0000"


def test_the_smart_factory_program_runs_on_its_own_numbers():
    # 70% of the total cost, at most 50,000,000 per project: a 60,000,000 build (+ VAT 6,000,000) → 46,200,000.
    assert SMART.support.planned_subsidy(60_000_000) == 46_200_000
    assert SMART.support.planned_subsidy(80_000_000) == 50_000_000
    assert SOS.support.planned_subsidy(4_545_454) == 4_999_999  # VAT 454,545 truncated to the won
    assert SOS.support.planned_subsidy(6_000_000) == 5_000_000
    assert SMART.committee_score.raw_max == 105 and SMART.document_score.total_cap == 100
