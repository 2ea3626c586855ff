"""E6: evidence issued within a calendar year (민법 제160조) before the application date — or after it, up to the day
it is read, as a supplement is; missing or stale -> supplement request; unproven bonus claims (E5) score 0 instead."""
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from screening.evidence import Freshness, review_evidence, supplement_deadline
from sme_schemas.application import DocumentType as D, EvidenceDocument, EvidenceRequirement
from sme_schemas.periods import WorkingCalendar, earliest_within
from sme_schemas.screening import DocumentProblem

APPLIED = date(2024, 4, 2)
# read on the application day: nothing issued later exists yet
FRESH = Freshness(earliest=earliest_within(APPLIED, years=1), filed_by=APPLIED)


@pytest.mark.parametrize("issued_on, fresh", [
    (date(2023, 4, 1), False),  # the day before the year began
    (date(2023, 4, 2), True),  # a calendar year before: 366 days across 2024's leap day, still inside
    (date(2023, 4, 3), True),
    (APPLIED, True),
    (APPLIED + timedelta(days=1), False),  # after the day it is read: no real issue date
])
def test_e6_counts_a_calendar_year_not_365_days(issued_on, fresh):
    assert FRESH.admits(issued_on) is fresh


@pytest.mark.parametrize("applied, earliest", [
    (date(2024, 2, 29), date(2023, 2, 28)),  # no 29 Feb in 2023: the month's last day (제160조 ③)
    (date(2025, 2, 28), date(2024, 2, 28)),
    (date(2025, 3, 1), date(2024, 3, 1)),  # 2024-02-29 lies inside, one day more than 365
    (date(2024, 12, 31), date(2023, 12, 31)),
])
def test_the_year_before_a_leap_or_month_end_application(applied, earliest):
    assert earliest_within(applied, years=1) == earliest
    assert earliest_within(applied, months=12) == earliest


def test_a_supplement_issued_after_the_application_is_fresh_when_filed():
    """The normal supplement: a stale certificate replaced by one issued three days after the application."""
    later = Freshness(earliest=FRESH.earliest, filed_by=APPLIED + timedelta(days=3))
    replacement = EvidenceDocument(document_type=D.NATIONAL_TAX_PAYMENT_CERTIFICATE,
                                   issued_on=APPLIED + timedelta(days=3), file_reference="docs://new")
    assert later.admits(replacement.issued_on) and not FRESH.admits(replacement.issued_on)
    assert review_evidence((TAX,), (replacement,), later).complete


def doc(kind: D, days_before: int) -> EvidenceDocument:
    return EvidenceDocument(document_type=kind, issued_on=APPLIED - timedelta(days=days_before),
                            file_reference=f"docs://{kind.value}")


TAX = EvidenceRequirement(rule="E1", any_of=(D.NATIONAL_TAX_PAYMENT_CERTIFICATE,), mandatory=True, purpose="국세")
ACCOUNTS = EvidenceRequirement(rule="E1", any_of=(D.FINANCIAL_STATEMENTS, D.VAT_TAX_BASE_CERTIFICATE),
                               mandatory=True, purpose="재무")
BONUS = EvidenceRequirement(rule="E5", any_of=(D.PAST_PROJECT_RECORD,), mandatory=False, purpose="실적")


def test_complete_and_fresh_evidence_needs_no_supplement():
    review = review_evidence((TAX, ACCOUNTS, BONUS), (doc(D.NATIONAL_TAX_PAYMENT_CERTIFICATE, 10),
                                                      doc(D.VAT_TAX_BASE_CERTIFICATE, 366),
                                                      doc(D.PAST_PROJECT_RECORD, 30)), FRESH)
    assert review.complete and review.unproven == ()


def test_missing_and_stale_are_told_apart():
    review = review_evidence((TAX, ACCOUNTS), (doc(D.FINANCIAL_STATEMENTS, 367),), FRESH)
    problems = {(r.any_of, r.problem, r.rule) for r in review.supplement}
    assert problems == {(TAX.any_of, DocumentProblem.MISSING, "E1"), (ACCOUNTS.any_of, DocumentProblem.STALE, "E6")}


def test_one_fresh_alternative_satisfies_an_any_of_line_even_beside_a_stale_one():
    review = review_evidence((ACCOUNTS,), (doc(D.FINANCIAL_STATEMENTS, 400), doc(D.VAT_TAX_BASE_CERTIFICATE, 5)),
                             FRESH)
    assert review.complete


def test_unproven_bonus_claim_scores_zero_and_never_asks_for_a_supplement_e5():
    review = review_evidence((TAX, BONUS), (doc(D.NATIONAL_TAX_PAYMENT_CERTIFICATE, 1),
                                            doc(D.PAST_PROJECT_RECORD, 500)), FRESH)
    assert review.complete and review.unproven == (BONUS,)


@given(st.lists(st.tuples(st.sampled_from([D.NATIONAL_TAX_PAYMENT_CERTIFICATE, D.FINANCIAL_STATEMENTS,
                                           D.VAT_TAX_BASE_CERTIFICATE]), st.integers(-5, 800)), max_size=6))
def test_a_line_is_asked_for_exactly_when_no_fresh_document_satisfies_it(docs):
    evidence = tuple(doc(kind, days) for kind, days in docs)
    review = review_evidence((TAX, ACCOUNTS), evidence, FRESH)
    for line in (TAX, ACCOUNTS):
        satisfied = any(k in line.any_of and 0 <= d <= (APPLIED - FRESH.earliest).days for k, d in docs)
        assert (line.any_of in [r.any_of for r in review.supplement]) is not satisfied


KST = timezone(timedelta(hours=9))
WEEKDAYS = WorkingCalendar()


@pytest.mark.parametrize("requested_kst, ends_on", [
    (datetime(2024, 4, 2, 15, 0), date(2024, 4, 9)),  # Tue 15:00 -> Tue 9th 24:00, not 15:00 (제157조, 제159조)
    (datetime(2024, 4, 2, 0, 0), date(2024, 4, 9)),  # 00:00 is still the request's own day, not counted
    (datetime(2024, 4, 1, 23, 59), date(2024, 4, 8)),
    (datetime(2024, 4, 5, 10, 0), date(2024, 4, 12)),  # Fri -> Fri
    (datetime(2024, 4, 6, 10, 0), date(2024, 4, 15)),  # Sat -> Sat 13th, past the weekend to Mon 15th (제161조)
    (datetime(2024, 2, 3, 9, 0), date(2024, 2, 13)),  # -> Sat 10th 설날, Sun 11th, Mon 12th substitute: Tue 13th
    (datetime(2024, 9, 10, 9, 0), date(2024, 9, 19)),  # -> Tue 17th 추석, Wed 18th: Thu 19th
    (datetime(2024, 2, 22, 9, 0), date(2024, 2, 29)),  # a leap day is a day like any other
])
def test_supplement_deadline_ends_at_24_kst_of_the_last_working_day(requested_kst, ends_on):
    deadline = supplement_deadline(requested_kst.replace(tzinfo=KST).astimezone(timezone.utc), 7, WEEKDAYS)
    assert deadline.astimezone(KST).date() == ends_on
    assert deadline + timedelta(microseconds=1) == datetime.combine(ends_on + timedelta(days=1), datetime.min.time(),
                                                                   KST)


def test_a_program_closure_moves_the_deadline_too():
    closed = WorkingCalendar(frozenset({date(2024, 4, 16)}))
    requested = datetime(2024, 4, 9, 6, 0, tzinfo=timezone.utc)
    assert supplement_deadline(requested, 7, WEEKDAYS).astimezone(KST).date() == date(2024, 4, 16)
    assert supplement_deadline(requested, 7, closed).astimezone(KST).date() == date(2024, 4, 17)


def test_an_election_day_is_a_holiday():
    # 2024-04-10, the 22nd National Assembly election: 7 days from 04-03 end on the 11th
    requested = datetime(2024, 4, 3, 6, 0, tzinfo=timezone.utc)
    assert supplement_deadline(requested, 7, WEEKDAYS).astimezone(KST).date() == date(2024, 4, 11)
