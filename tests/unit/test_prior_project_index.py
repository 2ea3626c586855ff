"""D1–D2 at national scale: the prior-project index finds every kind of planted duplicate among thousands of
prior projects, answers plans that give one element only, and refuses bad registry exports naming the line and
the field. (Index files are local: no broker, no database.)"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.registry.projects import KINDS, planted_queries, write_corpus
from screening.similarity.index import (MAX_QUERY_TERMS, IndexInputError, PriorProjectIndex, build, query_terms,
                                         read_jsonl)

PROJECTS = 3_000


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prior-projects")
    sources = write_corpus(folder / "corpus.jsonl", PROJECTS, seed=11, keep_sources=200)
    report = build(read_jsonl(folder / "corpus.jsonl"), folder / "index")
    queries = planted_queries(sources, per_kind=12, seed=12, fresh=12)
    return folder, PriorProjectIndex.open(folder / "index"), queries, report


def test_the_build_reports_what_it_indexed(national):
    _, index, _, report = national
    assert report.projects == PROJECTS == len(index)
    assert report.bytes_on_disk > 0 and report.distinct_words > 100


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_planted_duplicate_is_found(national, kind):
    _, index, queries, _ = national
    mine = [q for q in queries if q["kind"] == kind]
    first = [index.search(q, top=10) for q in mine]
    found_first = sum(matches[0].record["id"] == q["expected"] for q, matches in zip(mine, first))
    found_in_ten = sum(q["expected"] in {m.record["id"] for m in matches} for q, matches in zip(mine, first))
    assert found_in_ten == len(mine), kind
    assert found_first >= len(mine) - 1, kind  # rank 1 for all, or all but one


def test_a_verbatim_copy_scores_one_on_every_element_and_names_the_match(national):
    _, index, queries, _ = national
    query = next(q for q in queries if q["kind"] == "verbatim")
    best = index.search(query, top=1)[0]
    assert best.scores == {"goal": 1.0, "method": 1.0, "content": 1.0} and best.overall == 1.0
    shown = best.as_json()
    assert shown["id"] == query["expected"] and shown["registry"] in ("NTIS", "SMTECH", "GSTEP-PMS")
    assert shown["title"] and shown["company_brn"]


def test_each_candidates_scores_are_its_own_whenever_they_are_read(national):
    """Scores are worked out on first read (issue 30): read last-to-first, long after the search, each candidate
    still gets its own words' cosines, the copy alone scoring 1, and what a referral shows is plain JSON."""
    _, index, queries, _ = national
    query = next(q for q in queries if q["kind"] == "verbatim")
    pool = index.search(query, top=None)
    overall = {m.record["id"]: m.overall for m in reversed(pool)}
    assert [i for i, score in overall.items() if score == 1.0] == [query["expected"]]
    assert len(set(overall.values())) > len(pool) // 2  # distinct candidates, distinct scores
    shown = json.loads(json.dumps([m.as_json() for m in pool[:3]]))
    assert shown[0]["scores"] == {"goal": 1.0, "method": 1.0, "content": 1.0}


def test_a_plan_that_gives_only_its_goal_is_still_searched(national):
    _, index, queries, _ = national
    query = next(q for q in queries if q["kind"] == "reinflected")
    matches = index.search({"goal": query["goal"]}, top=10)
    assert query["expected"] in {m.record["id"] for m in matches}
    assert set(matches[0].scores) == {"goal"}


def test_a_plan_without_any_element_finds_nothing(national):
    _, index, _, _ = national
    assert index.search({"goal": "  ", "method": None}) == []


def test_a_duplicate_stands_out_more_than_a_new_plan_does(national):
    """A fresh plan resembles many prior plans a little; a copy is far more relevant than the rest (D3's crowd)."""
    from screening.similarity.verdict import Applicant, Thresholds, judge

    _, index, queries, _ = national

    def z(query):
        return judge(index.search(query, top=None), Applicant("0000000000"), Thresholds()).z

    copies = [z(q) for q in queries if q["kind"] in ("verbatim", "reordered", "reinflected")]
    fresh = [z(q) for q in queries if q["kind"] == "fresh"]
    assert min(copies) > max(fresh)


@pytest.mark.parametrize("line, problem", [
    ("not json", "line 1: not JSON"),
    (json.dumps({"id": "X", "registry": "NTIS", "title": "t", "goal": "목표"}), "line 1: company_brn is required"),
    (json.dumps({"id": "X", "registry": "NTIS", "title": "t", "company_brn": "1"}), "goal, method or content"),
    (json.dumps({"id": "X", "registry": "NTIS", "title": "t", "company_brn": "1", "goal": "a\x00b"}), "NUL"),
    (json.dumps({"id": "X", "registry": "NTIS", "title": "t", "company_brn": "1", "goal": 3}), "goal must be text"),
])
def test_a_bad_export_line_is_refused_naming_line_and_field(tmp_path, line, problem):
    path = tmp_path / "export.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(IndexInputError, match=problem):
        build(read_jsonl(path), tmp_path / "index")


def test_the_command_line_indexes_and_searches(national, tmp_path):
    folder, _, queries, _ = national
    lines = [{"id": q["id"], "method": q["method"]} for q in queries if q["kind"] == "synonyms"][:3]
    (tmp_path / "q.jsonl").write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in lines), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "screening", "similarity", "search", "--index",
                          str(folder / "index"), "--in", str(tmp_path / "q.jsonl"), "--top", "3"],
                         capture_output=True, text=True, check=True)
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["query"] for r in results] == [q["id"] for q in lines]
    assert all(len(r["matches"]) == 3 and set(r["matches"][0]["scores"]) == {"method"} for r in results)
    assert all(0 <= m["score"] <= 1 and 0 <= m["semantic"] <= 1 for r in results for m in r["matches"])
    refused = subprocess.run([sys.executable, "-m", "screening", "similarity", "search", "--index",
                              str(tmp_path / "nowhere"), "--in", str(tmp_path / "q.jsonl")],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "not a prior-project index" in refused.stderr


@given(st.lists(st.sampled_from([f"낱말{n}" for n in range(60)]), max_size=120), st.randoms())
def test_a_plans_query_keeps_its_rarest_terms_and_breaks_ties_by_the_term(terms, random):
    """Terms of equal rarity at the cut were kept in set order, which Python's hash seed shuffles per process: two
    replicas could give the same application another crowd and another σ in its evidence (found measuring issue
    30). The kept terms are a function of the terms alone, whatever their order."""
    rarity = {t: float(int(t[2:]) % 4) for t in terms}  # four levels of rarity: many ties
    shuffled = random.sample(terms, len(terms))
    kept = query_terms(shuffled, rarity.__getitem__)
    assert kept == query_terms(terms, rarity.__getitem__)
    assert kept == sorted(set(terms), key=lambda t: (-rarity[t], t))[:MAX_QUERY_TERMS]


def test_d3_verdicts_on_the_corpus_exclude_own_copies_refer_others_and_pass_new_plans(national):
    from screening.lookup.messages import DuplicateVerdict
    from screening.similarity.verdict import Applicant, Thresholds, judge

    _, index, queries, _ = national
    verdicts = {}
    for query in queries:
        if query["kind"] in ("verbatim", "reordered", "reinflected", "fresh"):
            judgement = judge(index.search(query, top=None), Applicant(query["company_brn"], query["ceo"]),
                              Thresholds())
            verdicts[query["id"]] = (query, judgement)
    fresh = [j for q, j in verdicts.values() if q["kind"] == "fresh"]
    # a new plan is never excluded; the crowd of a 3,000-project corpus is small, so one may stand out enough
    # to be shown to the committee (the benchmark reports the rate at 100,000 and 1,000,000)
    assert all(j.verdict is not DuplicateVerdict.DUPLICATE for j in fresh)
    assert sum(j.verdict is DuplicateVerdict.BORDERLINE for j in fresh) <= len(fresh) // 4
    for query, judgement in verdicts.values():
        if query["kind"] == "fresh":
            continue
        assert judgement.match.record["id"] == query["expected"]
        own = judgement.match.record["company_brn"] == query["company_brn"]
        expected = DuplicateVerdict.DUPLICATE if own else DuplicateVerdict.BORDERLINE
        assert judgement.verdict is expected, judgement.evidence()


def _subject(query: dict, brn: str):
    from datetime import date

    from screening.lookup.messages import LookupSubject

    return LookupSubject(business_registration_number=brn, company_name="(주)김포정밀", ceo_name="홍길동",
                         project_manager_name="박과장", founded_on=date(2012, 3, 15),
                         announcement_date=date(2024, 3, 25), as_of=date(2024, 4, 10), goal=query["goal"],
                         method=query["method"], content=query["content"], duplicate_threshold=0.75,
                         borderline_threshold=0.45, national_outlier_z=6.0)


def test_the_duplicate_projects_lookup_judges_against_the_national_index(national):
    """X5 for the applicant's own copy found nationally, D3 with the match's own words for another company's,
    a pass naming the best match for a new plan; the registry's answer (own ongoing projects) still counts."""
    from screening.lookup.adapters import interpret_prior_projects
    from screening.lookup.messages import Verdict

    _, index, queries, _ = national
    copy = next(q for q in queries if q["kind"] == "verbatim")
    source = index.search(copy, top=1)[0].record
    nothing_ongoing = {"items": []}

    own = interpret_prior_projects(nothing_ongoing, _subject(copy, source["company_brn"]), index)
    assert own.verdict is Verdict.EXCLUDED and own.findings[0].rule == "X5"
    assert source["id"] in own.findings[0].detail and f"{PROJECTS:,}건" in own.findings[0].detail

    other = interpret_prior_projects(nothing_ongoing, _subject(copy, "1248100998"), index)
    assert other.verdict is Verdict.REFER and [f.rule for f in other.findings] == ["D3"]
    assert source["id"] in other.findings[0].detail and source["goal"][:40] in other.findings[0].detail

    unlike = {"goal": "온라인 쇼핑몰 매출 확대를 위한 마케팅 전략을 수립한다.",
              "method": "고객 세분화와 검색광고 운영, 상세페이지 개선을 컨설팅한다.",
              "content": "수출 바이어 발굴과 온라인 판로 다변화 방안을 마련한다."}
    passed = interpret_prior_projects(nothing_ongoing, _subject(unlike, "1248100998"), index)
    assert passed.verdict is Verdict.CLEAR and "전국 선행 과제 3,000건 중 최고 유사" in passed.findings[0].detail
    fresh = next(q for q in queries if q["kind"] == "fresh")

    ongoing = {"items": [{"registry": "NTIS", "project_id": "N-1", "title": "수행 중 과제", "company_brn": "1248100998",
                          "goal": fresh["goal"], "method": fresh["method"], "content": fresh["content"]}]}
    still = interpret_prior_projects(ongoing, _subject(fresh, "1248100998"), index)
    assert still.verdict is Verdict.EXCLUDED and "N-1" in still.findings[0].detail


def test_registry_updates_reach_a_running_search_without_a_restart(national, tmp_path):
    """`similarity update`: a new project is added, a known id replaces its project; an index a worker already
    has open sees both at its next search."""
    folder, _, queries, _ = national
    lines = (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:300]
    (tmp_path / "export.jsonl").write_text("\n".join(lines), encoding="utf-8")
    build(read_jsonl(tmp_path / "export.jsonl"), tmp_path / "index")
    running = PriorProjectIndex.open(tmp_path / "index")
    fresh = next(q for q in queries if q["kind"] == "fresh")
    assert running.search(fresh, top=1)[0].scores != {"goal": 1.0, "method": 1.0, "content": 1.0}

    renamed = {**json.loads(lines[0]), "title": "과제명 정정 (등록기관 갱신)"}
    funded = {"id": "GSTEP-PMS-2026-9000001", "registry": "GSTEP-PMS", "title": "신규 협약 과제",
              "company_brn": "1248100998", **{e: fresh[e] for e in ("goal", "method", "content")}}
    (tmp_path / "updates.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in (renamed, funded)),
                                            encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "screening", "similarity", "update", "--index",
                          str(tmp_path / "index"), "--in", str(tmp_path / "updates.jsonl")],
                         check=True, capture_output=True, text=True)
    # only the new goal is embedded: the renamed project's goal is the same text, its vector stays
    assert {k: json.loads(run.stdout)[k] for k in ("embedded", "reused_vectors")} == {"embedded": 1,
                                                                                      "reused_vectors": 1}

    assert len(running) == 301
    best = running.search(fresh, top=1)[0]
    assert best.record["id"] == funded["id"] and best.overall == 1.0 and best.semantic > 0.95
    again = running.search({e: renamed[e] for e in ("goal", "method", "content")}, top=1)[0]
    assert again.record["id"] == renamed["id"] and again.record["title"] == renamed["title"]


def test_loading_an_export_says_how_far_it_has_got(capsys):
    from screening.similarity.cli import with_progress

    records = [{"id": str(n)} for n in range(25)]
    assert list(with_progress(iter(records), every=10)) == records
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" projects")[0] for line in lines] == ["similarity: 10", "similarity: 20"]
