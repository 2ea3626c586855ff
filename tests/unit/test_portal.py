"""The portal's pure parts: sign-in rules (argon2, lock-out, session lifetimes, CSRF), what an upload may be and
where it may live, what each event tells whom (timeline and notices), the application form's round trip to
intake's JSON and back, intake's problems beside their fields in Korean, and the program report's arithmetic."""
from __future__ import annotations

import csv
import email
import email.policy
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st
from openpyxl import load_workbook

from portal import forms, labels, notices, report, security, uploads
from portal.notifier import email_message
from deploy.sample.program_call import SOS_2024, demo_program, sample_forms
from intake.form import ApplicationForm
from sme_schemas.catalog import BY_TYPE, CONSUMES
from sme_schemas.examples import EXAMPLES

NOW = datetime(2026, 11, 30, 5, 0, tzinfo=timezone.utc)
APP = EXAMPLES["ApplicationSubmitted"]["application_id"]
BRN = EXAMPLES["ApplicationSubmitted"]["content"]["company"]["business_registration_number"]
OWNERS = {APP: (BRN, "(주)김포정밀")}
APP2 = "APP-01HTX5Q3Z8K2M4N6P8R0S2T4V7"


# --- sign-in --------------------------------------------------------------------------------------------------

def test_the_account_locks_at_the_limit_and_not_before():
    lockout = security.Lockout(failures=5, minutes=15)
    failed, until = 0, None
    for n in range(1, 5):
        failed, until = lockout.after_failure(failed, NOW)
        assert (failed, until) == (n, None)
    failed, until = lockout.after_failure(failed, NOW)
    assert failed == 0 and until == NOW + timedelta(minutes=15)
    assert lockout.locked(until, NOW + timedelta(minutes=14, seconds=59))
    assert not lockout.locked(until, NOW + timedelta(minutes=15))
    assert not lockout.locked(None, NOW)


@given(idle=st.integers(1, 600), maximum=st.integers(1, 72), elapsed=st.integers(0, 80 * 3600))
def test_no_session_outlives_its_maximum_nor_its_idle_time(idle, maximum, elapsed):
    lifetime = security.SessionLifetime(timedelta(minutes=idle), timedelta(hours=maximum))
    seen = NOW + timedelta(seconds=elapsed)
    expires = lifetime.expires(NOW, seen)
    assert expires <= NOW + timedelta(hours=maximum)
    assert expires <= seen + timedelta(minutes=idle)
    assert expires == min(seen + timedelta(minutes=idle), NOW + timedelta(hours=maximum))


def test_passwords_are_argon2id_hashes_that_verify_only_the_password():
    stored = security.hash_password("김포-consulting-2026")
    assert stored.startswith("$argon2id$") and "김포" not in stored
    assert security.password_matches(stored, "김포-consulting-2026")
    assert not security.password_matches(stored, "김포-consulting-2025")
    assert not security.password_matches(None, "anything")  # an unknown login: the dummy hash, still False
    assert not security.password_matches("not-a-hash", "x")


@pytest.mark.parametrize("password, login, problem", [
    ("short", "kim", "10자 이상"), ("center-kim-2026!", "center-kim", "아이디"), ("aaaaaaaaaaaa", "x", "같은 글자"),
    ("long-enough-pass", "kim", None)])
def test_new_passwords_are_refused_with_the_reason(password, login, problem):
    found = security.password_problem(password, login)
    assert (found is None) if problem is None else (problem in found)


def test_csrf_tokens_compare_in_full_and_never_match_nothing():
    token = security.new_token()
    assert security.csrf_ok(token, token)
    assert not security.csrf_ok(token, token[:-1]) and not security.csrf_ok(token, None)
    assert not security.csrf_ok(None, None) and not security.csrf_ok("", "")


def test_a_company_signs_in_with_its_number_with_or_without_dashes():
    assert security.normalised_login(" 124-81-00998 ") == "1248100998"
    assert security.normalised_login("Center-Kim") == "center-kim"


# --- uploads --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("head, kind", [
    (b"%PDF-1.7\n", "application/pdf"), (b"\x89PNG\r\n\x1a\n....", "image/png"), (b"\xff\xd8\xff\xe0", "image/jpeg"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-hwp"), (b"PK\x03\x04", "application/hwp+zip"),
    (b"#!/bin/sh\n", None), (b"<html>", None), (b"MZ\x90\x00", None), (b"", None)])
def test_a_file_is_what_its_first_bytes_say(head, kind):
    found = security.sniffed_type(head)
    assert (found[0] if found else None) == kind


@given(st.text(max_size=300))
def test_an_uploaded_name_never_carries_a_path(name):
    shown = security.display_name(name)
    assert "/" not in shown and "\\" not in shown and ".." != shown and 0 < len(shown) <= 120
    assert not shown.startswith(".")


@pytest.mark.parametrize("upload_id", ["../etc/passwd", "up_../../x", "up_short", "up_" + "a" * 22 + "/..",
                                       "up_" + "a" * 22 + "\x00", "/etc/passwd", ""])
def test_only_an_id_the_portal_made_names_a_stored_file(tmp_path, upload_id):
    with pytest.raises(uploads.UploadRefused):
        uploads.path_of(tmp_path, upload_id)


def test_a_new_upload_id_names_a_file_inside_the_folder(tmp_path):
    upload_id = security.new_upload_id()
    assert uploads.path_of(tmp_path, upload_id).parent == tmp_path
    stored = uploads.Stored(upload_id, "a.pdf", "application/pdf", 10, "0" * 64)
    assert uploads.upload_id_of(stored.reference) == upload_id
    assert uploads.upload_id_of("docs://intake/2024/abc.pdf") is None
    assert uploads.upload_id_of("portal://uploads/../../etc/passwd") is None


# --- what an event tells whom ---------------------------------------------------------------------------------

def _event(name: str, **changes):
    return BY_TYPE[next(t for t, cls in BY_TYPE.items() if cls.__name__ == name)].model_validate(
        {**EXAMPLES[name], **changes})


@pytest.mark.parametrize("event_cls", CONSUMES["portal"], ids=lambda c: c.__name__)
def test_every_event_the_portal_reads_adds_its_line_to_the_applications_it_is_about(event_cls):
    event = event_cls.model_validate(EXAMPLES[event_cls.__name__])
    reading = notices.read(event, OWNERS)
    about = set(notices.application_ids(event))
    assert {e.application_id for e in reading.entries} <= about
    if event_cls.__name__ not in ("FollowUpReminder",):
        assert reading.entries, "every application event shows on the timeline"
    for n in reading.notices:
        assert n.recipient.split(":")[0] in ("company", "expert", "evaluator", "operators")
        assert n.subject and n.body


def test_a_supplement_request_tells_the_company_its_deadline_in_kst_and_the_documents_in_korean():
    event = _event("SupplementRequested")
    [notice] = notices.read(event, OWNERS).notices
    assert notice.recipient == f"company:{BRN}" and notice.kind == "supplement-requested"
    assert labels.kst(event.deadline) in notice.subject and "KST" in notice.subject
    assert labels.DOCUMENT[event.documents[0].any_of[0]] in notice.body and "E6" in notice.body


def test_a_company_the_portal_never_saw_gets_no_notice_but_its_timeline_gets_the_line():
    reading = notices.read(_event("ApplicationRejected"), {})
    assert reading.entries and not reading.notices


def test_a_rejection_names_each_rule_in_plain_korean():
    [notice] = notices.read(_event("ApplicationRejected"), OWNERS).notices
    assert "X3 (휴업·폐업 기업 제외)" in notice.body


def test_the_waitlisted_hear_at_the_close_and_the_selected_when_selection_is_final():
    ranking = [dict(EXAMPLES["ScoresFinalized"]["ranking"][0]),
               {**EXAMPLES["ScoresFinalized"]["ranking"][0], "rank": 2, "application_id": APP2,
                "outcome": "waitlisted"}]
    event = _event("ScoresFinalized", ranking=ranking)
    reading = notices.read(event, {**OWNERS, APP2: ("2208162517", "(주)예비")})
    assert [e.application_id for e in reading.entries] == [APP, APP2]
    assert [(n.recipient, n.kind) for n in reading.notices] == [("company:2208162517", "outcome-waitlisted")]
    selected = notices.read(_event("ApplicationSelected"), OWNERS).notices
    assert {n.recipient for n in selected} == {f"company:{BRN}", f"expert:{BRN}"}
    assert all("서명" in n.body for n in selected)


def test_an_overdue_payment_tells_the_operators_and_the_company_an_allowance_tells_its_evaluator():
    overdue = notices.read(_event("PaymentOverdue"), OWNERS).notices
    assert {n.recipient for n in overdue} == {"operators", f"company:{BRN}"}
    allowance = _event("PaymentDue", purpose="evaluator-allowance", application_id=None, evaluator_id="EV-01",
                       breakdown=None)
    reading = notices.read(allowance, OWNERS)
    assert not reading.entries and [n.recipient for n in reading.notices] == ["evaluator:EV-01"]


def test_a_returned_report_gives_the_reasons_to_the_company_and_its_expert():
    reading = notices.read(_event("ReportReturned"), OWNERS)
    assert {n.recipient for n in reading.notices} == {f"company:{BRN}", f"expert:{BRN}"}
    assert all("전문가 서명" in n.body for n in reading.notices)


# --- the application form -------------------------------------------------------------------------------------

def _program() -> dict:
    return demo_program(NOW, source=SOS_2024)


def test_a_form_filled_from_an_application_goes_back_to_the_same_application():
    program = _program()
    form = sample_forms(program, NOW.date(), count=3, seed=4)[1]
    shown = {"application_id": "APP-X", "program_id": program["program_id"],
             "content": {**{k: v for k, v in form.items() if k not in ("program_id",)},
                         "project_manager": {k: v for k, v in form["project_manager"].items()
                                             if k not in ("phone", "email")},
                         "expert": ({k: v for k, v in form["expert"].items() if k != "contact"}
                                    if form.get("expert") else None),
                         "declarations": {"plans_to_relocate_outside_gimpo": False,
                                          "consent_given_at": "2026-11-30T00:00:00Z"}},
             "contacts": {"project_manager_phone": form["project_manager"]["phone"],
                          "project_manager_email": form["project_manager"]["email"],
                          "expert_contact": form["expert"]["contact"] if form.get("expert") else None}}
    again = forms.resubmission(shown, form["evidence"])
    expected = ApplicationForm.model_validate({**form, "declarations": {**form["declarations"],
                                                                         "plans_to_relocate_outside_gimpo": False}})
    assert ApplicationForm.model_validate(again) == expected


def test_blank_optional_parts_are_left_out_and_the_consent_is_a_tick():
    program = _program()
    posted = {"company.name": "(주)김포", "company.factory_address": " ", "expert.name": "",
              "expert.affiliation": "소속만", "consulting.schedule.0.month": "2027-01",
              "consulting.schedule.0.activity": "진단", "consulting.schedule.1.month": "",
              "declarations.plans_to_relocate_outside_gimpo": "no"}
    body = forms.application_json(posted, {"bonus.certifications": ["inno-biz"]}, program, [])
    assert "factory_address" not in body["company"] and "expert" not in body
    assert body["consulting"]["schedule"] == [{"month": "2027-01", "activity": "진단"}]
    assert body["declarations"] == {"plans_to_relocate_outside_gimpo": False, "consent_to_data_use": False}
    assert body["bonus"]["certifications"] == ["inno-biz"] and body["program_id"] == program["program_id"]
    assert body["company"]["regular_employees"] == ""  # required and blank: intake names it


def test_the_programs_own_questions_take_their_kinds():
    program = {"program_id": "p", "application_fields": [{"code": "designated", "kind": "yes-no"},
                                                          {"code": "staff", "kind": "count"},
                                                          {"code": "note", "kind": "text"}]}
    posted = {"program_fields.designated": "yes", "program_fields.staff": "12", "program_fields.note": "12"}
    assert forms.program_answers(posted, program) == {"designated": True, "staff": 12, "note": "12"}
    assert forms.program_answers({"program_fields.staff": "열둘"}, program) == {"staff": "열둘"}


def test_intakes_problems_sit_beside_their_fields_in_korean_with_the_rule_in_words():
    errors = forms.field_errors([
        {"field": "company.regular_employees", "rule": "A1", "message": "Input should be a valid integer, unable"},
        {"field": "company.regular_employees", "rule": "A1", "message": "Field required"},
        {"field": "evidence.0.issued_on", "rule": "E6", "message": "issued 400 days before the application"}])
    assert errors["company.regular_employees"] == ("숫자만 입력해 주세요 — A1 (신청서 필수 항목); "
                                                   "필수 항목입니다 — A1 (신청서 필수 항목)")
    assert errors["evidence.0.issued_on"].endswith("E6 (증빙 서류는 신청일 전 1년 이내 발급분)")
    assert forms.unplaced(errors, {"company.regular_employees"}) == {
        "evidence.0.issued_on": errors["evidence.0.issued_on"]}


# --- the program report ---------------------------------------------------------------------------------------

def _agreement(n: int, status: str, amount: int) -> dict:
    return {"agreement_id": f"AGR-{n}", "application_id": f"APP-{n}", "company_name": f"기업{n}", "status": status,
            "agreed_amount": amount, "sessions_held": {"on-site": n, "follow-up": 1}}


def _payment(n: int, status: str, amount: int, **more) -> dict:
    return {"purpose": "subsidy", "application_id": f"APP-{n}", "status": status, "amount": amount,
            "due_on": "2027-01-10", "overdue": False, "clawback_amount": None, **more}


def test_the_report_is_in_ranking_order_and_an_ended_agreement_is_no_longer_agreed():
    agreements = [_agreement(1, "completed", 5_000_000), _agreement(2, "given-up", 4_000_000),
                  _agreement(3, "in-force", 3_000_000)]
    payments = [_payment(1, "paid", 5_000_000), _payment(3, "due", 1_500_000, overdue=True),
                {**_payment(9, "paid", 20_000), "purpose": "evaluator-allowance"}]
    rows = report.rows(agreements, payments, {"APP-3": 1, "APP-1": 2, "APP-2": 3})
    assert [r.application_id for r in rows] == ["APP-3", "APP-1", "APP-2"]
    assert [r.agreed for r in rows] == [3_000_000, 5_000_000, 0] and "해제" in rows[2].note
    assert "기한 경과" in rows[0].note
    assert report.totals(rows) == {"agreed": 8_000_000, "paid": 5_000_000, "due": 1_500_000,
                                   "sessions_on_site": 6, "sessions_follow_up": 3}


@given(st.lists(st.tuples(st.sampled_from(["in-force", "completed", "given-up", "terminated"]),
                          st.integers(0, 10**9), st.integers(0, 10**9)), max_size=20))
def test_the_reports_totals_are_the_sums_of_its_columns(cases):
    agreements = [_agreement(n, status, amount) for n, (status, amount, _) in enumerate(cases)]
    payments = [_payment(n, "paid", paid) for n, (_, _, paid) in enumerate(cases)]
    rows = report.rows(agreements, payments, {})
    totals = report.totals(rows)
    assert totals["agreed"] == sum(r.agreed for r in rows) == sum(
        a for s, a, _ in cases if s not in report.ENDED)
    assert totals["paid"] == sum(p for _, _, p in cases)


def test_the_report_as_csv_opens_in_excel_and_as_xlsx_adds_up():
    rows = report.rows([_agreement(1, "completed", 5_000_000), _agreement(2, "in-force", 2_500_000)],
                       [_payment(1, "paid", 5_000_000)], {"APP-1": 1, APP2: 2})
    data = report.as_csv(rows)
    assert data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == list(report.HEADERS) and table[-1][1] == "합계" and table[-1][6] == "7500000"
    sheet = load_workbook(io.BytesIO(report.as_xlsx(rows, "시험 사업"))).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0][0] == "시험 사업" and values[-1][6] == 7_500_000 == values[2][6] + values[3][6]


def test_instants_show_in_kst_and_amounts_in_won():
    assert labels.kst("2026-11-30T15:30:00Z") == "2026-12-01(화) 00:30 KST"
    assert labels.kst("2024-04-09T14:59:59.999999Z") == "2024-04-09(화) 24:00 KST"  # a deadline: the day's end
    assert labels.won(1_234_567) == "1,234,567원" and labels.won(None) == "—"
    assert labels.day(date(2027, 1, 5)) == "2027-01-05(화)"


def test_a_closing_rounds_progress_counts_each_outcome_evaluation_gives():
    from portal.operator import _counts
    statuses = ["selected", "rechecking", "rechecking", "waitlisted", "below-pass-mark"]
    assert _counts({"applications": [{"status": s} for s in statuses]}) == \
        "선정 1, 재확인 중 2, 예비 1, 최저점 미달 1"


KOREAN_WORDS = st.lists(st.text(st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3), min_size=1, max_size=8)
                        | st.sampled_from(["[SOS 컨설팅]", "—", "2027-07-19까지", "(주)김포정밀", ":"]),
                        min_size=1, max_size=25)


@settings(deadline=None)  # the first example imports the e-mail machinery
@given(KOREAN_WORDS)
def test_a_notices_korean_subject_reads_back_from_the_email_exactly_spaces_and_all(words):
    """Issue 32: the standard library's folding dropped the space between encoded words ("협약서서명 요청")."""
    subject = " ".join(words)
    raw = email_message(mail_from="김포산업진흥원 기업지원 <support@gimpo-center.example>", to=["pm@company.example"],
                        subject=subject, body="본문 그대로\n두 줄", message_id="<n-1@sme-portal>").as_bytes()
    assert all(len(line) <= 998 for line in raw.split(b"\n")) and raw.isascii()
    read = email.message_from_bytes(raw, policy=email.policy.default)
    assert read["Subject"] == subject
    assert read.get_content() == "본문 그대로\n두 줄"
    assert read["From"].addresses[0].display_name == "김포산업진흥원 기업지원"


def _program_file(name: str) -> dict:
    import json

    from sme_runtime.settings import REPO_PROGRAMS

    return json.loads((REPO_PROGRAMS / f"{name}.json").read_text("utf-8"))


def test_the_smart_factory_form_speaks_of_the_build_not_of_consulting():
    """Issue 32 (A1): the application form's words come from the program file."""
    labels = forms.labels_for(_program_file("gimpo-smart-factory-2026"))
    titles = [title for title, _ in forms.sections_for(_program_file("gimpo-smart-factory-2026"))]
    assert labels["consulting.consulting_field"] == "구축 희망분야" and "스마트공장 구축 계획" in titles
    assert not [label for label in labels.values() if "컨설팅" in label or "컨설턴트" in label]
    sos = forms.labels_for(_program_file("gimpo-sos-2024"))
    assert sos["consulting.consulting_field"] == "컨설팅 희망분야" and set(sos) == set(labels)


def test_a_two_party_program_asks_for_no_expert():
    program = _program_file("seoul-sba-sandbox-pilot-2022")
    assert program["support"]["expert_party"] is False
    assert not [name for name in forms.labels_for(program) if name.startswith("expert.")]
    assert forms.EXPERT_SECTION not in [title for title, _ in forms.sections_for(program)]


@pytest.mark.parametrize("name", ["gimpo-sos-2024", "gimpo-smart-factory-2026", "seoul-sba-sandbox-pilot-2022"])
def test_the_form_names_the_programs_own_city_never_another_x1_q3(name):
    """Issue 32: a Seoul program's company was asked since when it has done business in 김포시."""
    program = _program_file(name)
    labels = forms.labels_for(program)
    assert labels["company.gimpo_business_since"] == f"{program['region_city']} 사업 시작일"
    others = {"김포", "서울"} - {program["region_city"][:2]}
    assert not [label for label in labels.values() for other in others if other in label]


def test_the_follow_up_report_names_each_kind_and_question_in_words():
    program = _program_file("gimpo-sos-2024")
    survey, outcome = program["follow_up"]["survey_items"][0], program["follow_up"]["outcome_questions"][0]
    m3 = {"program_id": "p", "as_of": "2027-01-01", "companies": 3,
          "survey": {"owed": 3, "answered": 2, "overdue": 1, "mean": {survey["code"]: "4.50"}},
          "outcome-6m": {"owed": 3, "answered": 1, "overdue": 0, "answers": {outcome["code"]: 1}}}
    lines = report.follow_up_lines(m3, program)
    assert [(line.kind, line.owed, line.answered, line.overdue) for line in lines] == [
        ("6개월 성과 보고", 3, 1, 0), ("만족도 조사", 3, 2, 1)]
    assert lines[1].detail == f"{survey['title']} 4.50" and lines[0].detail == f"{outcome['title']} 1"


@pytest.mark.parametrize("round_id, program_id, name", [
    ("gimpo-sos-2024-r1", "gimpo-sos-2024", "2024년 김포시 중소기업 SOS 컨설팅 지원사업 1회차 심사"),
    ("gimpo-sos-2024-r12", "gimpo-sos-2024", "2024년 김포시 중소기업 SOS 컨설팅 지원사업 12회차 심사"),
    ("legacy-round", "gimpo-sos-2024", "2024년 김포시 중소기업 SOS 컨설팅 지원사업 심사 회차"),
    ("seoul-x-r2", "seoul-x", "다른 기관 사업 2회차 심사"),
])
def test_a_round_is_called_by_its_program_and_number_never_its_id(round_id, program_id, name):
    names = {"gimpo-sos-2024": "2024년 김포시 중소기업 SOS 컨설팅 지원사업"}
    assert labels.round_name(round_id, program_id, names) == name
