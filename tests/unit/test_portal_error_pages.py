"""Issue 32: every 4xx/5xx a person can meet in the portal is a Korean page — never FastAPI's JSON, an English
sentence or a field's path — and a service's English message is put in plain Korean."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from portal import forms
from portal.app import create_app
from portal.config import PortalSettings

HANGUL = re.compile(r"[가-힣]")


@pytest.fixture(scope="module")
def portal() -> TestClient:
    # No lifespan: these pages need neither the database nor the broker (nobody is signed in)
    return TestClient(create_app(PortalSettings()), raise_server_exceptions=False)


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/no-such-page", 404),
    ("GET", "/operator/report.csv", 400),
    ("DELETE", "/login", 405),
    ("GET", "/static/no-such-file.css", 404),
])
def test_an_error_the_portal_itself_answers_is_a_korean_page(portal: TestClient, method, path, status):
    answer = portal.request(method, path, follow_redirects=False)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")
    assert HANGUL.search(answer.text) and '"detail"' not in answer.text and "Not Found" not in answer.text
    if status == 405:
        assert "GET" in answer.headers["Allow"]


def test_a_report_address_without_its_program_is_a_korean_400_not_fastapis_json(portal: TestClient):
    answer = portal.get("/operator/report", follow_redirects=False)
    assert answer.status_code == 400 and answer.headers["content-type"].startswith("text/html")
    assert "주소가 올바르지 않습니다" in answer.text and "program_id" not in answer.text


@pytest.mark.parametrize("english, korean", [
    ("has a wrong check digit", "사업자등록번호의 검증 숫자가 맞지 않습니다"),
    ("Tuple should have at least 1 item after validation", "하나 이상 입력해 주세요"),
    ("Value error, the plan names no measurable target", "입력한 값이 규칙에 맞지 않습니다"),
    ("계획서에 목표가 없습니다", "계획서에 목표가 없습니다"),
])
def test_a_services_english_message_reads_as_korean(english, korean):
    assert forms.plain_message(english) == korean


@pytest.mark.parametrize("path, words", [
    ("company.ceo_name", "대표자 성명"), ("evidence.2.issued_on", "증빙 3번째 줄"),
    ("account.number", "계좌번호"), ("members.0.evaluator_id", "평가위원"), ("a.path.nobody.named", ""),
])
def test_a_problem_names_its_field_in_words_never_its_path(path, words):
    assert forms.field_label(path) == words


def test_every_page_bears_the_deploying_centers_name_and_none_other():
    """Issue 32: the header, title and footer are the deploying center's settings, not Gimpo's written in."""
    seoul = TestClient(create_app(PortalSettings(name="서울 기업지원 포털", operator_name="서울산업진흥원")),
                       raise_server_exceptions=False)
    for path in ("/login", "/no-such-page"):
        page = seoul.get(path, follow_redirects=False).text
        assert "서울 기업지원 포털</a>" in page and "서울산업진흥원 ·" in page and "김포" not in page, page[:800]
