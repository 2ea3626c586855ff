"""Issue 32: one status a company understands, from every service's events, never stale (portal.progress) — and
the follow-up notice leads to the form that answers it."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from portal import notices, progress
from portal.progress import STEPS, Status
from sme_schemas.contracts import AgreementSigned, FollowUpReminder, ParticipationGivenUp, ReportAccepted
from sme_schemas.evaluation import ApplicationSelected, ScoresFinalized
from sme_schemas.intake import ApplicationSubmitted
from sme_schemas.payments import PaymentDue, PaymentRecorded
from sme_schemas.screening import ScreeningPassed, ScreeningStarted
from tests.fakes.unit import example

APPLICATION = "APP-2026-000042"
statuses = st.builds(Status, st.sampled_from(STEPS), st.text(min_size=1, max_size=10), st.booleans())


@given(st.lists(statuses, max_size=12))
def test_a_status_never_goes_back_a_step_and_an_ending_stays(read):
    current = None
    for status in read:
        before, current = current, progress.after(current, status)
        if before is not None:
            assert current.rank >= before.rank
            if before.ended:
                assert current == before
            elif status.rank >= before.rank:
                assert current == status  # the newer status of the same or a later step
    assert progress.fold(read) == current


def test_a_step_that_is_none_of_the_companys_steps_is_refused():
    with pytest.raises(ValueError, match="step"):
        Status("서류통과", "x")


def _about(event, **fields):
    return event.model_copy(update={"application_id": APPLICATION, **fields})


def _the_way_to_payment():
    scores = example(ScoresFinalized)
    first = scores.ranking[0].model_copy(update={"application_id": APPLICATION, "outcome": "selected"})
    return [_about(example(ApplicationSubmitted)), _about(example(ScreeningStarted)),
            _about(example(ScreeningPassed)), scores.model_copy(update={"ranking": [first]}),
            _about(example(ApplicationSelected)), _about(example(AgreementSigned)), _about(example(ReportAccepted)),
            _about(example(PaymentDue), purpose="subsidy", instalment=None),
            _about(example(PaymentRecorded), purpose="subsidy", instalment=None)]


def _status(events) -> Status | None:
    return progress.fold(entry.status for event in events for entry in notices.read(event, {}).entries
                         if entry.application_id == APPLICATION)


def test_after_payment_the_company_reads_paid_not_passed_screening():
    assert _status(_the_way_to_payment()) == Status("지급", "보조금 지급 완료")
    steps = [_status(_the_way_to_payment()[:n]).step for n in range(1, 10)]
    assert steps == ["접수", "심사", "평가", "평가", "선정", "협약", "보고", "지급", "지급"]


def test_screenings_event_read_late_does_not_make_a_paid_application_look_screened():
    events = _the_way_to_payment()
    late = events.pop(2)  # ScreeningPassed, published by screening, read after payments' events
    assert _status([*events, late]) == Status("지급", "보조금 지급 완료")


def test_a_given_up_agreement_stays_given_up_with_its_restriction_whatever_follows():
    events = [*_the_way_to_payment()[:6], _about(example(ParticipationGivenUp)), _about(example(ReportAccepted))]
    status = _status(events)
    assert status.ended and status.step == "협약" and "사업 포기" in status.words and "참여 제한" in status.words


def test_an_evaluators_allowance_is_not_the_companys_payment():
    events = [*_the_way_to_payment()[:6], _about(example(PaymentRecorded), purpose="evaluator-allowance")]
    assert _status(events).step == "협약"


def test_a_follow_up_notice_links_to_the_agreements_follow_up_form():
    reminder = _about(example(FollowUpReminder), kind="outcome-6m", reminder="due-soon")
    [notice] = notices.read(reminder, {APPLICATION: (reminder.business_registration_number, "(주)김포정밀")}).notices
    assert notice.link == f"/agreements/{reminder.agreement_id}#follow-up"
    assert "6개월 성과 보고" in notice.subject and "응답" in notice.body
    [entry] = notices.read(reminder, {}).entries
    assert entry.status.step == "사후관리"


def test_an_advance_decided_and_paid_keeps_the_work_going_and_the_balance_pays_it_in_full_i1():
    """I1: the sandbox pilot pays an advance once signed; its grant and payment are not the subsidy paid (the
    company read "지급 완료" of its advance, the work still to do), the balance after the report is."""
    from sme_schemas.payments import GrantDecided

    advance = [_about(example(kind), purpose="subsidy", instalment="advance")
               for kind in (PaymentDue, GrantDecided, PaymentRecorded)]
    signed = _the_way_to_payment()[:6]
    assert [_status([*signed, *advance[:n]]) for n in (1, 2, 3)] == [
        Status("수행", "선금 지급 예정 · 사업 수행 중"), Status("수행", "선금 교부결정 · 사업 수행 중"),
        Status("수행", "선금 지급 완료 · 사업 수행 중")]
    balance = [_about(example(ReportAccepted)), *(_about(example(kind), purpose="subsidy", instalment="balance")
                                                  for kind in (PaymentDue, PaymentRecorded))]
    assert _status([*signed, *advance, *balance]) == Status("지급", "보조금 지급 완료")
