"""Issue 32: what a person reads — the checker the browser flow runs on every page (tests/readable.py), and every
notice and timeline line the portal makes of every event of every program: no rule id without its Korean words,
no internal code, no English."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from portal import labels, notices, notifier
from sme_schemas.catalog import CONSUMES
from sme_runtime.settings import REPO_PROGRAMS
from sme_programs import load_programs
from tests.fakes.portal import example_owners
from tests.fakes.unit import example
from tests.readable import bare_rule_ids, unreadable_text

PROGRAMS = load_programs(str(REPO_PROGRAMS))
TERMS = notifier.program_terms(PROGRAMS)
HANGUL = st.text(st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3), max_size=12)


@given(rule_id=st.sampled_from(sorted(labels.RULES)), before=HANGUL, after=HANGUL)
def test_a_rule_id_with_its_words_reads(rule_id, before, after):
    assert bare_rule_ids(f"{before} — {labels.rule(rule_id)} {after}") == []
    assert unreadable_text(labels.cited("다시 입력해 주세요", rule_id)) == []


@given(rule_id=st.sampled_from(sorted(labels.RULES)), before=HANGUL)
def test_a_rule_id_alone_or_with_other_words_is_refused(rule_id, before):
    assert bare_rule_ids(f"{before} ({rule_id})")
    assert bare_rule_ids(f"{before} {rule_id}: 확인")
    assert bare_rule_ids(f"{before} {rule_id} (다른 말)")  # words, but not this rule's


@pytest.mark.parametrize("line", ["협약 변경 (C5)", "사후관리 (M1)", "(C6, X10)", "순위표 (F1–F4)",
                                  "재확인(X11)이 끝났습니다", "증빙 서류 (E1–E6)", "아직 필요한 서류 E5…",
                                  "기한 경과 (P3)", "Q8 (정량 평가)"])
def test_the_pages_old_citations_would_be_refused(line):
    assert unreadable_text(line), line


@pytest.mark.parametrize("line", ["업종 코드 예: C29", "EV-01 평가위원1", "서식4", "P3a", "2026-12-07(월)",
                                  "PNG·JPEG", "(주)구래산업 1234-56"])
def test_codes_that_are_not_rule_ids_pass(line):
    assert bare_rule_ids(line) == []


def test_internal_codes_and_english_are_refused():
    assert unreadable_text("증빙 docs://intake/sample/1")
    assert unreadable_text("PAY-SUB-APP-1 지급")
    assert unreadable_text("has a wrong check digit")
    assert unreadable_text("당사자 center, company, expert")


@pytest.mark.parametrize("program_id", sorted(PROGRAMS))
@pytest.mark.parametrize("kind", CONSUMES["portal"], ids=lambda k: k.__name__)
def test_every_notice_and_timeline_line_reads_in_korean(kind, program_id):
    owners = example_owners()
    event = example(kind).model_copy(update={"program_id": program_id})
    reading = notices.read(event, owners, TERMS)
    texts = [t for e in reading.entries for t in (e.title, e.detail)]
    texts += [t for n in reading.notices for t in (n.subject, n.body)]
    assert [problem for t in texts for problem in unreadable_text(t)] == []
