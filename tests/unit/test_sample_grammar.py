"""Issue 32: the sample plans are Korean a person would write. They reach operator notices and the national
corpus, and "서버를 갖춤한다" (a nominalised verb, 갖추+ㅁ, with 한다 attached) is no sentence at all. Kiwi
(kiwipiepy, the tokeniser screening uses) reads every text the samples can produce; a nominalising ending (ETN)
followed by 하 is refused."""
from __future__ import annotations

import json
import random
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any, Iterator

import pytest
from kiwipiepy import Kiwi

from deploy.registry.projects import ELEMENT_UNITS, ENDINGS, _fill, corpus, draw_slots, planted_queries
from deploy.sample.program_call import demo_program, sample_forms
from deploy.sample.screening_scenario import adjust_forms
from sme_runtime.settings import REPO_PROGRAMS

TODAY = date(2026, 12, 7)


@lru_cache(maxsize=1)
def kiwi() -> Kiwi:
    return Kiwi()


def nominal_ending_with_ha(text: str) -> list[str]:
    """Each place where a nominalised verb takes 하 (갖춤한다, 만듦함), as the tokens Kiwi read there."""
    tokens = kiwi().tokenize(text)
    return [f"{a.form}/{a.tag} {b.form}/{b.tag} in {text!r}"
            for a, b in zip(tokens, tokens[1:]) if a.tag == "ETN" and b.form == "하"]


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def test_the_check_refuses_what_the_issue_found_and_takes_good_korean():
    assert nominal_ending_with_ha("네트워크와 서버를 갖춤한다.")
    assert nominal_ending_with_ha("관리 화면을 새로 만듦함.")
    assert nominal_ending_with_ha("네트워크와 서버를 구비한다.") == []
    assert nominal_ending_with_ha("수집 서버를 구축하고 데이터를 수집하는 것을 목표로 한다.") == []


def test_every_wording_of_every_plan_unit_reads_in_every_ending():
    values = draw_slots(random.Random(1)).values()
    found = [bad for units, _, _ in ELEMENT_UNITS.values() for unit in units for wording in unit
             for ending in ENDINGS for bad in nominal_ending_with_ha(_fill(wording, values, ending))]
    assert found == []


@pytest.mark.parametrize("program_file", sorted(REPO_PROGRAMS.glob("*.json")), ids=lambda p: p.stem)
def test_the_main_jobs_sample_forms_read_as_korean(program_file):
    program = demo_program(datetime(2026, 12, 7, tzinfo=timezone.utc), source=program_file)
    forms = adjust_forms(sample_forms(program, TODAY, count=31, seed=11), TODAY)
    found = [bad for form in forms for text in strings(json.loads(json.dumps(form, default=str)))
             for bad in nominal_ending_with_ha(text)]
    assert found == []


def test_the_national_corpus_and_its_planted_rewrites_read_as_korean():
    sources = list(corpus(120, seed=5))
    queries = planted_queries(sources, per_kind=15, seed=6, fresh=15)
    texts = [t for record, _, _ in sources for t in strings(record)] + [t for q in queries for t in strings(q)]
    found = [bad for text in texts for bad in nominal_ending_with_ha(text)]
    assert found == []
