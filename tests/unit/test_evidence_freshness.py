"""E6: evidence issued within 365 days before the application date; missing or stale -> supplement request;
unproven bonus claims (E5) score 0 instead."""
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from screening.evidence import is_fresh, review_evidence, supplement_deadline
from sme_schemas.application import DocumentType as D, EvidenceDocument, EvidenceRequirement
from sme_schemas.screening import DocumentProblem

APPLIED = date(2024, 4, 2)


@pytest.mark.parametrize("days_before, fresh", [(0, True), (1, True), (364, True), (365, True), (366, False),
                                                (-1, False)])
def test_e6_boundary(days_before, fresh):
    assert is_fresh(APPLIED - timedelta(days=days_before), APPLIED, 365) is fresh


def test_e6_across_a_leap_day_counts_days_not_calendar_years():
    # 2024 is a leap year: 2023-04-03 is 365 days before 2024-04-02, 2023-04-02 is 366.
    assert is_fresh(date(2023, 4, 3), APPLIED, 365) and not is_fresh(date(2023, 4, 2), APPLIED, 365)


def doc(kind: D, days_before: int) -> EvidenceDocument:
    return EvidenceDocument(document_type=kind, issued_on=APPLIED - timedelta(days=days_before),
                            file_reference=f"docs://{kind.value}")


TAX = EvidenceRequirement(rule="E1", any_of=(D.NATIONAL_TAX_PAYMENT_CERTIFICATE,), mandatory=True, purpose="국세")
ACCOUNTS = EvidenceRequirement(rule="E1", any_of=(D.FINANCIAL_STATEMENTS, D.VAT_TAX_BASE_CERTIFICATE),
                               mandatory=True, purpose="재무")
BONUS = EvidenceRequirement(rule="E5", any_of=(D.PAST_PROJECT_RECORD,), mandatory=False, purpose="실적")


def test_complete_and_fresh_evidence_needs_no_supplement():
    review = review_evidence((TAX, ACCOUNTS, BONUS), (doc(D.NATIONAL_TAX_PAYMENT_CERTIFICATE, 10),
                                                      doc(D.VAT_TAX_BASE_CERTIFICATE, 365),
                                                      doc(D.PAST_PROJECT_RECORD, 30)), APPLIED, 365)
    assert review.complete and review.unproven == ()


def test_missing_and_stale_are_told_apart():
    review = review_evidence((TAX, ACCOUNTS), (doc(D.FINANCIAL_STATEMENTS, 366),), APPLIED, 365)
    problems = {(r.any_of, r.problem, r.rule) for r in review.supplement}
    assert problems == {(TAX.any_of, DocumentProblem.MISSING, "E1"), (ACCOUNTS.any_of, DocumentProblem.STALE, "E6")}


def test_one_fresh_alternative_satisfies_an_any_of_line_even_beside_a_stale_one():
    review = review_evidence((ACCOUNTS,), (doc(D.FINANCIAL_STATEMENTS, 400), doc(D.VAT_TAX_BASE_CERTIFICATE, 5)),
                             APPLIED, 365)
    assert review.complete


def test_unproven_bonus_claim_scores_zero_and_never_asks_for_a_supplement_e5():
    review = review_evidence((TAX, BONUS), (doc(D.NATIONAL_TAX_PAYMENT_CERTIFICATE, 1),
                                            doc(D.PAST_PROJECT_RECORD, 500)), APPLIED, 365)
    assert review.complete and review.unproven == (BONUS,)


@given(st.lists(st.tuples(st.sampled_from([D.NATIONAL_TAX_PAYMENT_CERTIFICATE, D.FINANCIAL_STATEMENTS,
                                           D.VAT_TAX_BASE_CERTIFICATE]), st.integers(-5, 800)), max_size=6))
def test_a_line_is_asked_for_exactly_when_no_fresh_document_satisfies_it(docs):
    evidence = tuple(doc(kind, days) for kind, days in docs)
    review = review_evidence((TAX, ACCOUNTS), evidence, APPLIED, 365)
    for line in (TAX, ACCOUNTS):
        satisfied = any(k in line.any_of and 0 <= d <= 365 for k, d in docs)
        assert (line.any_of in [r.any_of for r in review.supplement]) is not satisfied


def test_supplement_deadline_is_the_program_period_later():
    at = datetime(2024, 4, 12, tzinfo=timezone.utc)
    assert supplement_deadline(at, 7) == datetime(2024, 4, 19, tzinfo=timezone.utc)
