"""P2–P4 at their boundaries, in integer KRW, and C1–C8's pure checks."""
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from contracts.rules import (
    Party, ConsultingSession, SessionKind, consulting_days, freed_on_leaving, in_force, party_of, report_problems,
    new_expert_problems, restricted_until, session_problems, term_problems, visible_to,
)
from payments.rules import clawback, due_on, is_overdue, subsidy
from sme_schemas.application import DocumentType as D, EvidenceDocument, ExpertQualification
from sme_schemas.contracts import TerminationReason as R
from sme_schemas.grade import grade_label
from sme_programs import ProgramDefinition

ROOT = Path(__file__).resolve().parents[2]
SOS = ProgramDefinition.load(ROOT / "deploy/programs/gimpo-sos-2024.json")
SMART = ProgramDefinition.load(ROOT / "deploy/programs/gimpo-smart-factory-2026.json")


@pytest.mark.parametrize("proven, agreed, amount, share", [
    (5_500_000, 5_000_000, 5_000_000, 500_000),   # the case: VAT included, capped at 5,000,000
    (5_000_000, 5_000_000, 5_000_000, 0),
    (4_999_999, 5_000_000, 4_999_999, 0),         # 100%: all of it
    (4_400_000, 4_400_000, 4_400_000, 0),
    (6_600_000, 4_400_000, 4_400_000, 2_200_000),  # the agreed amount binds below the cap
    (0, 5_000_000, 0, 0),
])
def test_p2_sos_subsidy(proven, agreed, amount, share):
    b = subsidy(proven, SOS.support, agreed)
    assert (b.subsidy, b.company_share) == (amount, share)
    assert (b.cap, b.ratio_percent, b.agreed_amount, b.proven_cost_including_vat) == (5_000_000, 100, agreed, proven)


@pytest.mark.parametrize("proven, amount", [(66_000_000, 46_200_000), (71_428_571, 49_999_999),
                                            (71_428_572, 50_000_000), (100_000_001, 50_000_000)])
def test_p2_smart_factory_70_percent_truncated_to_the_won(proven, amount):
    assert subsidy(proven, SMART.support, 50_000_000).subsidy == amount


@given(st.integers(0, 10**10), st.integers(0, 10**9))
def test_p2_never_more_than_cap_ratio_or_agreed_and_shares_add_up(proven, agreed):
    for program in (SOS, SMART):
        b = subsidy(proven, program.support, agreed)
        assert (
            b.subsidy <= min(program.support.cap, agreed) and b.subsidy * 100 <= proven * program.support.ratio_percent
        )
        assert b.subsidy + b.company_share == proven and isinstance(b.subsidy, int)


CALENDAR = SOS.working_calendar()


@pytest.mark.parametrize("received, due", [
    (date(2024, 11, 1), date(2024, 12, 2)),  # day 30 is Sun 1 Dec: Monday (민법 제161조)
    (date(2024, 11, 4), date(2024, 12, 4)),  # Wed: the 30th day itself
    (date(2024, 11, 25), date(2024, 12, 26)),  # day 30 is Christmas: the day after
    (date(2024, 1, 30), date(2024, 2, 29)),  # across a leap February, the leap day a working Thursday
    (date(2024, 1, 31), date(2024, 3, 4)),  # 1 Mar (삼일절, Fri), then the weekend
    (date(2024, 1, 11), date(2024, 2, 13)),  # 10 Feb 설날 (Sat), 11 Sun, 12 substitute holiday
    (date(2024, 8, 18), date(2024, 9, 19)),  # 17 Sep 추석: 16–18 Sep
    (date(2025, 9, 6), date(2025, 10, 10)),  # 추석 2025: 10-5..10-7, substitute 10-8, 한글날 10-9
])
def test_p3_due_on_the_30th_day_or_the_next_working_day(received, due):
    assert due_on(received, SOS.payment_due_days, CALENDAR) == due


def test_p3_overdue_from_the_day_after_the_due_date():
    due = due_on(date(2024, 11, 25), SOS.payment_due_days, CALENDAR)
    assert not is_overdue(due, due)  # paid on the due date: on time
    assert is_overdue(due, due + timedelta(days=1))


@pytest.mark.parametrize(
    "reason, paid, back",
    [
        (R.FRAUD, 5_000_000, 5_000_000),
        (R.FALSE_EVIDENCE, 4_400_000, 4_400_000),
        (R.RELOCATION, 5_000_000, 0),
        (R.GIVE_UP, 5_000_000, 0),
        (R.FRAUD, 0, 0),
    ],
)
def test_p4_clawback_of_the_whole_subsidy_only_for_fraud_or_false_evidence_after_payment(reason, paid, back):
    assert clawback(reason, paid) == back


# --- contracts -------------------------------------------------------------------------------------------------

def test_c1_in_force_only_with_all_three_signatures():
    assert not in_force([Party.CENTER, Party.COMPANY])
    assert in_force([Party.EXPERT, Party.COMPANY, Party.CENTER, Party.CENTER])


def test_c2_term_within_the_program_year_and_amount_within_the_selection():
    ok = term_problems(date(2024, 6, 1), date(2024, 12, 31), 5_000_000, SOS, planned_subsidy=5_000_000)
    assert ok == []
    late = term_problems(date(2024, 6, 1), date(2025, 1, 1), 5_000_000, SOS, planned_subsidy=5_000_000)
    assert [(p.field, p.rule) for p in late] == [("term_end", "C2")]
    over = term_problems(date(2024, 6, 1), date(2024, 12, 31), 4_400_001, SOS, planned_subsidy=4_400_000)
    assert [(p.field, p.rule) for p in over] == [("agreed_amount", "C2")]


def test_c3_at_most_four_hours_a_day_within_the_term():
    logged = [ConsultingSession(date(2024, 7, 1), 3, SessionKind.ON_SITE)]
    args = dict(term_start=date(2024, 6, 1), term_end=date(2024, 12, 31), max_hours_per_day=4, today=date(2025, 2, 1))
    assert session_problems(ConsultingSession(date(2024, 7, 1), 1, SessionKind.ON_SITE), logged, **args) == []
    too_long = session_problems(ConsultingSession(date(2024, 7, 1), 2, SessionKind.FOLLOW_UP), logged, **args)
    assert [(p.field, p.rule) for p in too_long] == [("hours", "C3")] and "3 hours" in too_long[0].message
    outside = session_problems(ConsultingSession(date(2025, 1, 1), 2, SessionKind.ON_SITE), logged, **args)
    assert [(p.field, p.rule) for p in outside] == [("held_on", "C3")]
    first, last = (session_problems(ConsultingSession(d, 4, SessionKind.ON_SITE), [], **args)
                   for d in (date(2024, 6, 1), date(2024, 12, 31)))
    assert first == last == []
    before_term = ConsultingSession(date(2024, 5, 31), 4, SessionKind.ON_SITE)
    assert [p.field for p in session_problems(before_term, [], **args)] == ["held_on"]


def test_c3_a_log_records_a_session_held_today_or_before_with_its_photos():
    args = dict(term_start=date(2024, 6, 1), term_end=date(2024, 12, 31), max_hours_per_day=4, today=date(2024, 7, 1))
    assert session_problems(ConsultingSession(date(2024, 7, 1), 4, SessionKind.ON_SITE), [], **args) == []
    tomorrow = session_problems(ConsultingSession(date(2024, 7, 2), 4, SessionKind.ON_SITE), [], **args)
    assert [(p.field, p.rule) for p in tomorrow] == [("held_on", "C3")] and "not come yet" in tomorrow[0].message
    no_photo = session_problems(ConsultingSession(date(2024, 7, 1), 2, SessionKind.ON_SITE, photos=0), [], **args)
    assert [(p.field, p.rule) for p in no_photo] == [("photo_refs", "C3")]
    assert session_problems(ConsultingSession(date(2024, 7, 1), 2, SessionKind.FOLLOW_UP, photos=0), [], **args) == []
    zero = session_problems(ConsultingSession(date(2024, 7, 1), 0, SessionKind.FOLLOW_UP), [], **args)
    assert [p.field for p in zero] == ["hours"]


def test_c3_hours_a_day_add_up_over_every_session_of_the_day():
    args = dict(term_start=date(2024, 6, 1), term_end=date(2024, 12, 31), max_hours_per_day=4, today=date(2024, 8, 1))
    day = date(2024, 7, 1)
    two_and_one = [ConsultingSession(day, 2, SessionKind.ON_SITE), ConsultingSession(day, 1, SessionKind.FOLLOW_UP)]
    assert session_problems(ConsultingSession(day, 1, SessionKind.ON_SITE), two_and_one, **args) == []
    third = ConsultingSession(day, 2, SessionKind.ON_SITE)
    assert [p.field for p in session_problems(third, two_and_one, **args)] == ["hours"]
    other_day = [ConsultingSession(date(2024, 7, 2), 4, SessionKind.ON_SITE)]
    assert session_problems(ConsultingSession(day, 4, SessionKind.ON_SITE), other_day, **args) == []


def test_c8_report_refused_until_the_session_minimums_are_met():
    ten = [ConsultingSession(date(2024, 7, d), 4, SessionKind.ON_SITE) for d in range(1, 11)]
    three = [ConsultingSession(date(2024, 9, d), 2, SessionKind.FOLLOW_UP) for d in range(1, 4)]
    assert report_problems(ten + three, minimum_sessions=10, follow_up_sessions=3) == []
    short = report_problems(ten[:9] + three[:2], minimum_sessions=10, follow_up_sessions=3)
    assert [p.message for p in short] == [
        "on-site consulting on 9 days; at least 10 days",
        "follow-up consulting on 2 days; at least 3 days",
    ]


def test_c3_sessions_are_counted_in_days_ten_short_logs_on_three_days_are_three_days():
    days = [date(2024, 7, 1), date(2024, 7, 2), date(2024, 7, 3)]
    ten_logs = [ConsultingSession(days[n % 3], 1, SessionKind.ON_SITE) for n in range(10)]
    three = [ConsultingSession(date(2024, 9, d), 2, SessionKind.FOLLOW_UP) for d in range(1, 4)]
    assert consulting_days(ten_logs, SessionKind.ON_SITE) == 3
    problems = report_problems(ten_logs + three, minimum_sessions=10, follow_up_sessions=3)
    assert [(p.field, p.rule, p.message) for p in problems] == [
        ("sessions", "C3", "on-site consulting on 3 days; at least 10 days")]
    # an on-site and a follow-up session on one day each count for their own kind
    both = [ConsultingSession(date(2024, 7, d), 2, kind) for d in range(1, 11) for kind in SessionKind]
    assert report_problems(both, minimum_sessions=10, follow_up_sessions=3) == []


@pytest.mark.parametrize("hours, refused", [(3, False), (4, False), (5, True), (8, True)])
def test_c3_one_session_over_four_hours_is_refused_on_its_own(hours, refused):
    args = dict(term_start=date(2024, 6, 1), term_end=date(2024, 12, 31), max_hours_per_day=4, today=date(2024, 8, 1))
    problems = session_problems(ConsultingSession(date(2024, 7, 1), hours, SessionKind.ON_SITE), [], **args)
    assert [(p.field, p.rule) for p in problems] == ([("hours", "C3")] if refused else [])
    assert not refused or "at most 4 hours" in problems[0].message


@pytest.mark.parametrize("role, claim, visible", [
    ("operator", None, True), ("company", "1234567891", True), ("expert", "1234567891", True),
    ("company", "9999999999", False), ("expert", None, False), ("evaluator", "1234567891", False)])
def test_c9_an_agreement_is_seen_by_its_parties_and_operators_only(role, claim, visible):
    assert visible_to(role, claim, "1234567891") is visible


def test_f5_leaving_frees_the_agreed_amount_only_before_the_report_was_accepted():
    assert freed_on_leaving(4_400_000, report_accepted=False) == 4_400_000
    assert freed_on_leaving(4_400_000, report_accepted=True) == 0


def test_c1_each_role_signs_for_its_own_party():
    assert [party_of(r) for r in ("operator", "company", "expert", "evaluator")] == [
        Party.CENTER, Party.COMPANY, Party.EXPERT, None]


def test_c6_restriction_runs_from_the_approval_day():
    assert restricted_until(date(2024, 7, 1), 365) == date(2025, 6, 30)
    assert restricted_until(date(2024, 7, 1), 0) is None


def test_c1_a_two_party_agreement_is_in_force_with_the_center_and_the_company():
    from contracts.rules import parties

    assert parties(True) == {Party.CENTER, Party.COMPANY, Party.EXPERT}
    assert in_force([Party.CENTER, Party.COMPANY], expert_party=False)
    assert not in_force([Party.CENTER, Party.COMPANY], expert_party=True)
    assert not in_force([Party.COMPANY], expert_party=False)


AMENDED_ON = date(2024, 8, 1)


def cv(issued_on: date, kind: D = D.EXPERT_CV) -> EvidenceDocument:
    return EvidenceDocument(document_type=kind, issued_on=issued_on, file_reference="docs://cv")


@pytest.mark.parametrize("degree, years, licences, problems, grade", [
    ("master", 10, (), [], "2"),  # 10 + 2 = 12 years: grade 2
    ("bachelor", 9, (), [], "3"),  # the program's worst acceptable grade
    ("bachelor", 8, (), [("expert_qualification", "G2")], "4"),
    ("bachelor", 6, ("management-consultant",), [], "3"),  # + 3 for a licensed profession (G1)
    ("none", 30, (), [("expert_qualification", "G2")], "none"),  # no bachelor's degree: no grade at all
])
def test_c5_an_expert_named_by_amendment_is_graded_like_one_named_in_the_application(degree, years, licences,
                                                                                      problems, grade):
    q = ExpertQualification(highest_degree=degree, consulting_years=years, licences=licences)
    found, assessment = new_expert_problems(q, [cv(AMENDED_ON)], SOS, AMENDED_ON)
    assert [(p.field, p.rule) for p in found] == problems
    assert assessment is not None and grade_label(assessment.grade) == grade


@pytest.mark.parametrize("evidence, proven", [
    ([cv(date(2023, 8, 1))], True),  # a calendar year before the amendment's day (E6)
    ([cv(date(2023, 7, 31))], False),
    ([cv(AMENDED_ON + timedelta(days=1))], False),  # dated after the day it is filed
    ([cv(AMENDED_ON, D.EXPERT_EMPLOYMENT_CERTIFICATE)], True),
    ([cv(AMENDED_ON, D.BUSINESS_REGISTRATION_CERTIFICATE)], False),  # not the expert's
    ([], False),
])
def test_c5_the_new_expert_is_proven_by_a_fresh_cv_or_employment_certificate(evidence, proven):
    q = ExpertQualification(highest_degree="master", consulting_years=10)
    found, _ = new_expert_problems(q, evidence, SOS, AMENDED_ON)
    assert [(p.field, p.rule) for p in found] == ([] if proven else [("expert_evidence", "E4")])


def test_c5_no_qualification_no_grade():
    found, assessment = new_expert_problems(None, [cv(AMENDED_ON)], SOS, AMENDED_ON)
    assert assessment is None and [(p.field, p.rule) for p in found] == [("expert_qualification", "G1")]
