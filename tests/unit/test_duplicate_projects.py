"""D1–D3: per-element similarity against prior projects; duplicate, borderline (committee) or different."""
import pytest
from hypothesis import given, strategies as st

from screening.lookup.messages import DuplicateVerdict
from screening.lookup.duplicates import (
    PriorProject, ProjectText, check_duplicates, cosine, grams, idf,
)

PLAN = ProjectText(
    goal="CNC 가공 공정의 불량률을 1% 미만으로 낮추어 납기를 준수한다",
    method="현장 진단, 공정 FMEA, 작업표준서 개정, 측정시스템 분석",
    content="가공 불량 원인을 진단하고 공정 표준을 재정립한다",
)
PARAPHRASE = ProjectText(
    goal="CNC 가공공정 불량률을 1%미만으로 낮춰 납기 준수",
    method="공정 FMEA와 현장 진단, 측정시스템 분석 및 작업표준서 개정",
    content="가공불량의 원인을 진단하여 공정표준을 재정립함",
)
UNRELATED = ProjectText(
    goal="온라인 쇼핑몰 매출 확대를 위한 마케팅 전략 수립",
    method="고객 세분화, 검색광고 운영, 상세페이지 개선",
    content="수출 바이어 발굴과 온라인 판로 다변화",
)


def prior(pid: str, text: ProjectText, registry: str = "NTIS") -> PriorProject:
    return PriorProject(registry, pid, f"과제 {pid}", None, text)


CORPUS = [prior("A-1", UNRELATED), prior("B-2", PARAPHRASE, "SMTECH")]


def test_identical_plan_is_a_clear_duplicate_with_evidence():
    result = check_duplicates(PLAN, [prior("X-9", PLAN), *CORPUS], duplicate_threshold=0.75, borderline_threshold=0.45)
    assert result.verdict is DuplicateVerdict.DUPLICATE and result.best.project.project_id == "X-9"
    assert result.best.scores == {"goal": 1.0, "method": 1.0, "content": 1.0}
    assert "X-9" in result.evidence() and "goal 1.00" in result.evidence()


def test_a_paraphrase_with_particles_and_word_order_changed_is_caught():
    result = check_duplicates(PLAN, CORPUS, duplicate_threshold=0.75, borderline_threshold=0.45)
    assert result.best.project.project_id == "B-2"
    assert result.best.overall >= 0.45 and result.verdict in (DuplicateVerdict.DUPLICATE, DuplicateVerdict.BORDERLINE)


def test_an_unrelated_project_is_different():
    result = check_duplicates(PLAN, [prior("A-1", UNRELATED)], duplicate_threshold=0.75, borderline_threshold=0.45)
    assert result.verdict is DuplicateVerdict.DIFFERENT and result.best.overall < 0.2


def test_no_corpus_means_different():
    nothing = check_duplicates(PLAN, [], duplicate_threshold=0.75, borderline_threshold=0.45)
    assert nothing.verdict is DuplicateVerdict.DIFFERENT


def test_thresholds_are_inclusive_and_come_from_configuration():
    score = check_duplicates(PLAN, CORPUS, duplicate_threshold=0.99, borderline_threshold=0.01).best.overall
    assert (
        check_duplicates(PLAN, CORPUS, duplicate_threshold=score, borderline_threshold=0.01).verdict
        is DuplicateVerdict.DUPLICATE
    )
    assert (
        check_duplicates(PLAN, CORPUS, duplicate_threshold=1.0, borderline_threshold=score).verdict
        is DuplicateVerdict.BORDERLINE
    )
    assert (
        check_duplicates(PLAN, CORPUS, duplicate_threshold=1.0, borderline_threshold=score + 1e-4).verdict
        is DuplicateVerdict.DIFFERENT
    )


def test_the_evidence_does_not_depend_on_corpus_order():
    twins = [prior("Z-1", PLAN, "SMTECH"), prior("A-0", PLAN, "NTIS")]
    one = check_duplicates(PLAN, twins, duplicate_threshold=0.75, borderline_threshold=0.45)
    other = check_duplicates(PLAN, twins[::-1], duplicate_threshold=0.75, borderline_threshold=0.45)
    assert one.best.project == other.best.project and one.best.project.project_id == "A-0"


korean = st.text(alphabet="가나다라마바사아자차카타파하 공정개선불량률", min_size=0, max_size=40)


@given(korean, korean)
def test_cosine_is_symmetric_and_bounded(a, b):
    ga, gb = grams(a), grams(b)
    weights = idf([ga, gb])
    assert cosine(ga, gb, weights) == pytest.approx(cosine(gb, ga, weights))
    assert 0.0 <= cosine(ga, gb, weights) <= 1.0


@given(korean.filter(lambda t: len(t.replace(" ", "")) >= 2))
def test_a_text_is_fully_similar_to_itself(text):
    g = grams(text)
    assert cosine(g, g, idf([g])) == pytest.approx(1.0)


def sample_plan(problem) -> ProjectText:
    field, _, difficulty, purpose, method = problem
    return ProjectText(
        goal=purpose, method=method, content=f"{field} 분야의 현장 애로를 전문가 진단으로 해결합니다. {difficulty}"
    )


def test_the_sample_calls_planted_paraphrase_is_borderline_and_the_copy_a_duplicate():
    from deploy.sample.program_call import _PROBLEMS
    from deploy.sample.screening_scenario import _PARAPHRASE
    for problem in _PROBLEMS:
        if problem[0] not in _PARAPHRASE:
            continue
        plan = sample_plan(problem)
        para = ProjectText(*_PARAPHRASE[problem[0]])
        result = check_duplicates(plan, [prior("P-1", para)], duplicate_threshold=0.75, borderline_threshold=0.45)
        assert result.verdict is DuplicateVerdict.BORDERLINE, (problem[0], result.best.scores)


def test_different_sample_plans_are_never_duplicates_of_each_other():
    from deploy.sample.program_call import _PROBLEMS
    plans = [sample_plan(p) for p in _PROBLEMS]
    for i, plan in enumerate(plans):
        others = [prior(f"O-{j}", p) for j, p in enumerate(plans) if j != i]
        assert (
            check_duplicates(plan, others, duplicate_threshold=0.75, borderline_threshold=0.45).verdict
            is DuplicateVerdict.DIFFERENT
        )
