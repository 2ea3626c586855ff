"""Issue 32: the agreement page (rendered from its template, as the portal renders it) has a form for every
operator action contracts offers on an agreement in force — give-up approval (C6), amendment (C5), termination
(C7) — the company's give-up, the follow-up answers (M1), and says how a given-up agreement ended."""
from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from portal import forms, uploads
from portal.agreements import SUBSIDY_DOCUMENTS
from portal.web import TEMPLATES
from sme_runtime.settings import REPO_PROGRAMS

ID = "AGR-2026-0007"
PROGRAM_FILES = {name: json.loads((REPO_PROGRAMS / f"{name}.json").read_text("utf-8"))
                 for name in ("gimpo-sos-2024", "gimpo-smart-factory-2026", "seoul-sba-sandbox-pilot-2022")}


def agreement(**over) -> dict:
    base = {"agreement_id": ID, "application_id": "APP-1", "company_name": "(주)김포정밀", "status": "in-force",
            "agreed_amount": 5_000_000, "term_start": "2026-05-01", "term_end": "2026-11-30", "minimum_sessions": 10,
            "follow_up_sessions": 3, "parties": ["center", "company", "expert"],
            "signatures": [{"party": p, "signed_at": "2026-05-01T01:00:00+00:00"} for p in ("center", "company")],
            "missing_signatures": [], "sessions_held": {"on-site": 2, "follow-up": 0, "hours": 6, "logs": 2},
            "report_problems": [], "amendments": [], "reports": [], "give_up": {"requested_at": None, "reason": None},
            "ended": {"at": None, "reason": None, "restricted_until": None}, "sign_by": None}
    return {**base, **over}


def page(role: str, found: dict, follow_ups: dict | None = None, *, advance_percent: int = 0,
         payments: list | None = None, program: dict | None = None) -> str:
    user = SimpleNamespace(role=role, csrf_token="t", display_name="담당", brn="1234567890", login="x")
    html = TEMPLATES.env.get_template("agreement.html").render(
        request=None, user=user, unread=0, agreement=found, logs=[], drafts=[], payments=payments or [],
        party="center", problems=[], documents=SUBSIDY_DOCUMENTS, uploads=uploads, follow_ups=follow_ups,
        advance_percent=advance_percent, words=forms.agreement_words(program or PROGRAM_FILES["gimpo-sos-2024"]))
    return html


def actions(html: str) -> set[str]:
    return {a.rsplit(ID, 1)[1] for a in re.findall(r'action="([^"]+)"', html) if ID in a}


def test_the_operator_has_a_form_for_every_action_on_an_agreement_in_force():
    assert {"/amendments", "/termination"} <= actions(page("operator", agreement()))
    filed = agreement(give_up={"requested_at": "2026-06-01T00:00:00+00:00", "reason": "경영 악화"})
    html = page("operator", filed)
    assert "/give-up/approve" in actions(html) and "경영 악화" in html


def test_the_company_can_file_a_give_up_once():
    assert "/give-up" in actions(page("company", agreement()))
    filed = agreement(give_up={"requested_at": "2026-06-01T00:00:00+00:00", "reason": "경영 악화"})
    assert "/give-up" not in actions(page("company", filed))


def test_a_given_up_agreement_says_when_why_and_until_when_it_restricts():
    ended = agreement(status="given-up", ended={"at": "2026-06-03T01:00:00+00:00", "reason": "경영 악화",
                                                "restricted_until": "2027-06-02"})
    html = page("company", ended)
    assert "경영 악화" in html and "2027-06-02" in html and "참여 제한" in html
    assert not {"/give-up", "/amendments", "/termination"} & actions(page("operator", ended))


def test_parties_are_named_in_korean_never_as_codes():
    html = page("operator", agreement())
    assert "센터, 기업, 전문가" in html and "center, company" not in html


def test_the_follow_up_form_asks_each_question_of_the_program():
    owed = {"owed": [{"kind": "survey", "due_on": "2026-12-31", "answered_at": None},
                     {"kind": "outcome-6m", "due_on": "2027-06-01", "answered_at": None}],
            "survey_items": [{"code": "overall", "title": "전반적 만족도"}],
            "outcome_questions": [{"code": "applied", "title": "정부 과제 신청", "kind": "yes-no"},
                                  {"code": "won-amount", "title": "수주 금액", "kind": "amount-krw"}]}
    html = page("company", agreement(status="completed"), owed)
    assert {"/follow-ups/survey", "/follow-ups/outcome-6m"} <= actions(html)
    assert 'id="follow-up"' in html and "6개월 성과 보고" in html and "전반적 만족도" in html


@pytest.mark.parametrize("posted, body", [
    ({"reason": "기간 연장", "term_end": "2026-12-20", "agreed_by.company": "yes"},
     {"reason": "기간 연장", "agreed_by": ["company"], "term_end": "2026-12-20"}),
    ({"reason": "감액", "agreed_amount": "4,500,000", "minimum_sessions": "", "agreed_by.expert": "yes"},
     {"reason": "감액", "agreed_by": ["expert"], "agreed_amount": 4_500_000}),
    ({"reason": "x", "minimum_sessions": "열"}, {"reason": "x", "agreed_by": [], "minimum_sessions": "열"}),
])
def test_an_amendment_changes_only_the_terms_filled_in(posted, body):
    assert forms.amendment(posted) == body


@pytest.mark.parametrize("posted, answers, problems", [
    ({"answer.overall": "5"}, {"overall": 5}, set()),
    ({}, {}, {"overall"}),
])
def test_survey_answers_are_numbers_and_a_missing_one_is_named(posted, answers, problems):
    got, errors = forms.follow_up_answers(posted, "survey", [{"code": "overall", "title": "전반적 만족도"}], [])
    assert got == answers and set(errors) == problems
    assert all("전반적 만족도" in text and "M1" in text for text in errors.values())


def test_outcome_answers_take_their_kinds():
    questions = [{"code": "applied", "title": "신청", "kind": "yes-no"},
                 {"code": "amount", "title": "금액", "kind": "amount-krw"},
                 {"code": "note", "title": "메모", "kind": "text"}]
    got, errors = forms.follow_up_answers({"answer.applied": "no", "answer.amount": "1,000", "answer.note": "없음"},
                                          "outcome-6m", [], questions)
    assert got == {"applied": False, "amount": 1000, "note": "없음"} and errors == {}
    _, errors = forms.follow_up_answers({"answer.applied": "yes", "answer.amount": "천원", "answer.note": "x"},
                                        "outcome-6m", [], questions)
    assert set(errors) == {"amount"}


def test_a_program_that_pays_an_advance_lets_the_company_ask_for_it_once():
    assert "/advance-request" in actions(page("company", agreement(), advance_percent=50))
    assert "/advance-request" not in actions(page("company", agreement(), advance_percent=0))
    asked = [{"instalment": "advance", "purpose": "subsidy", "amount": 2_500_000, "status": "due",
              "due_on": "2026-06-30"}]
    html = page("company", agreement(), advance_percent=50, payments=asked)
    assert "/advance-request" not in actions(html) and "보조금 선금" in html


def test_the_operator_adjusts_a_due_payment_on_the_payments_page():
    user = SimpleNamespace(role="operator", csrf_token="t", display_name="담당", login="x")
    due = {"payment_id": "PAY-SUB-APP-1", "program_id": "gimpo-sos-2024", "payee_name": "(주)김포정밀",
           "purpose": "subsidy", "instalment": "balance", "amount": 5_000_000, "due_on": "2026-12-30",
           "status": "due", "overdue": False, "grant_decided_on": "2026-12-01", "paid_on": None,
           "clawback_amount": None, "recovered_amount": 0}
    html = TEMPLATES.env.get_template("payments.html").render(
        request=None, user=user, unread=0, payments=[due], problems={},
        program_names={"gimpo-sos-2024": "2024년 김포시 중소기업 SOS 컨설팅 지원사업"})
    assert 'action="/operator/payments/PAY-SUB-APP-1/adjustments"' in html
    assert "2024년 김포시 중소기업 SOS 컨설팅 지원사업" in html and ">PAY-SUB-APP-1<" not in html


def test_why_a_report_cannot_be_submitted_yet_is_said_in_korean_with_the_counts():
    blocked = agreement(report_problems=[{"field": "sessions", "rule": "C3",
                                          "message": "on-site consulting on 2 days; at least 10 days"}])
    html = page("company", blocked)
    assert "현장 2일 (최소 10일)" in html and "on-site consulting" not in html


def test_why_a_round_cannot_close_is_said_in_korean_with_who_has_not_scored_and_who_is_excluded():
    """S3/F6: evaluation's facts of each application it names, evaluators by name (the round page and the close
    job's refusal); no English message is read apart."""
    round_ = {"committee": [{"evaluator_id": "EV-03", "name": "평가위원3"}, {"evaluator_id": "EV-04",
                                                                          "name": "평가위원4"}],
              "close_blocked_by": [{"field": "applications.APP-1", "rule": "S3", "message": "in English"}],
              "score_shortfalls": [{"application_id": "APP-1", "company_name": "(주)김포정밀", "valid_scores": 2,
                                    "needed": 3, "not_scored_by": ["EV-03"],
                                    "excluded": [{"evaluator_id": "EV-04", "reason": "former-employer"}],
                                    "too_few_evaluators": False}]}
    assert forms.close_reasons(round_) == [
        "(주)김포정밀: 유효한 평가 점수 2/3 — 아직 채점하지 않은 위원: 평가위원3; 이해충돌로 제외: "
        "평가위원4(신청 기업에 최근 재직) — S3 (평가위원 평균)"]
    assert forms.close_reasons({"close_blocked_by": [{"field": "committee", "rule": "S3", "message": "x"}]}) == [
        "평가위원회를 아직 구성하지 않았습니다 — S3 (평가위원 평균)"]


def text_of(html: str) -> str:
    """What a person reads: the tags and what the browser does not show (scripts, styles) removed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", "\n", html)


STATES = {"in force": agreement(), "drafted": agreement(status="drafted", missing_signatures=["company"]),
          "given up": agreement(status="given-up", ended={"at": "2026-06-01T01:00:00+00:00", "reason": "경영 악화",
                                                         "restricted_until": "2027-06-01"}),
          "give-up filed": agreement(give_up={"requested_at": "2026-06-01T01:00:00+00:00", "reason": "경영 악화"}),
          "terminated": agreement(status="terminated", ended={"at": "2026-06-01T01:00:00+00:00",
                                                              "reason": "false-evidence: 세금계산서 위조 확인",
                                                              "termination_reason": "false-evidence",
                                                              "note": "세금계산서 위조 확인",
                                                              "restricted_until": None}),
          "report blocked": agreement(report_problems=[{"rule": "C3", "message": "too few sessions"}]),
          "completed": agreement(status="completed")}


@pytest.mark.parametrize("role", ["company", "expert", "operator"])
@pytest.mark.parametrize("state", sorted(STATES))
def test_every_state_of_the_page_reads_in_korean_for_every_party(state, role):
    """Issue 32: no rule id without its words (headings once read '협약 변경 (C5)'), no code, no English."""
    from tests.readable import unreadable_text

    html = page(role, STATES[state], advance_percent=50)
    assert unreadable_text(text_of(html)) == []


def test_a_returned_subsidy_request_can_be_filed_again_with_the_reasons_beside_the_form():
    """P3: the center returned 서식4 as deficient; the form is back (the notice links to it), with the reasons."""
    returned = {"payment_id": "PAY-SUB-APP-1", "instalment": "balance", "purpose": "subsidy", "status": "returned",
                "amount": 4_000_000, "due_on": "2026-12-30", "request_received_on": "2026-11-30",
                "returned_reasons": ["세금계산서 금액이 견적서와 다릅니다"]}
    html = page("company", agreement(status="completed"), payments=[returned])
    assert 'id="subsidy-request"' in html and "/subsidy-request" in "".join(actions(html))
    assert "세금계산서 금액이 견적서와 다릅니다" in html
    due = {**returned, "status": "due"}
    assert 'id="subsidy-request"' not in page("company", agreement(status="completed"), payments=[due])


def test_a_completed_agreement_can_still_be_terminated_but_no_longer_amended():
    """C7: contracts terminates a completed agreement too (false evidence found after the payment: clawback)."""
    assert actions(page("operator", agreement(status="completed"))) == {"/termination"}
    assert "/termination" not in actions(page("operator", agreement(status="terminated")))


@pytest.mark.parametrize("role", ["company", "expert", "operator"])
@pytest.mark.parametrize("state", sorted(STATES))
def test_every_part_a_notice_links_to_is_one_element(state, role):
    """A notice's #part must name one element: the report's heading once shared its id with the file input."""
    ids = re.findall(r'\sid="([^"]+)"', page(role, STATES[state], advance_percent=50))
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []


def test_a_program_that_sets_no_minimum_says_so_rather_than_zero_sessions():
    """Issue 32: the smart-factory agreement read '현장 0회, 사후 0회' (as the main job once said "at least 0")."""
    html = page("company", agreement(minimum_sessions=0, follow_up_sessions=0))
    assert "현장 0회" not in html and "정한 횟수가 없습니다" in html
    assert "현장 10회, 사후 3회" in page("company", agreement())


def test_a_terminated_agreement_says_its_reason_in_words_and_the_centers_note():
    """C7: contracts' view gives the reason and the note apart; the page words the reason."""
    text = text_of(page("company", STATES["terminated"]))
    assert "사유: 허위 증빙 — 세금계산서 위조 확인" in " ".join(text.split()), text


@pytest.mark.parametrize("name, log, paid", [
    ("gimpo-sos-2024", "컨설팅 일지", "전문가에게 지급한 금액"),
    ("gimpo-smart-factory-2026", "스마트공장 구축 일지", "공급기업에 지급한 금액"),
    ("seoul-sba-sandbox-pilot-2022", "실증 사업화 일지", "사업비로 지급한 금액"),
])
def test_the_agreement_page_speaks_of_the_programs_own_work_and_payee(name, log, paid):
    """Issue 32: a smart factory is built by its 공급기업, the pilot has no expert to pay: neither keeps a
    컨설팅 일지."""
    program = PROGRAM_FILES[name]
    in_force = text_of(page("company", agreement(), program=program))
    completed = text_of(page("company", agreement(status="completed"), program=program))
    assert log in in_force and paid in completed
    if name != "gimpo-sos-2024":
        assert "컨설팅" not in in_force + completed and "자문료" not in in_force + completed
