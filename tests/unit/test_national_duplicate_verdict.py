"""D3 over the national corpus: a match counts by how far its relevance stands out from the crowd of similar plans,
then by its score and whose project it is (X5 only for the applicant's own near-identical one, or its CEO's; the
committee for the rest)."""
from hypothesis import given, strategies as st

from screening.similarity.index import Match
from screening.similarity.verdict import CROWD_RANK, MIN_CROWD, MIN_SCORE, Applicant, Thresholds, judge
from screening.lookup.messages import DuplicateVerdict

APPLICANT = Applicant(brn="1234567890", ceo="김민준")
LIMITS = Thresholds(duplicate_threshold=0.75, borderline_threshold=0.45, outlier_z=6.0)


def match(pid: str, score: float, relevance: float = 0.0, *, brn: str = "9999999999", ceo: str = "박서연") -> Match:
    record = {"id": pid, "registry": "NTIS", "title": f"과제 {pid}", "company_brn": brn, "ceo": ceo}
    return Match(record, {"goal": score, "method": score, "content": score}, relevance)


def crowd(n: int = 199, top: float = 0.55) -> list[Match]:
    """Plans that resemble the query a little, as every plan of its kind does: relevance 70 down to 50."""
    return [match(f"C-{i:03d}", round(top - i * 0.001, 4), 70 - i * 0.1) for i in range(n)]


COPY = 160.0  # a copy's relevance: (160 - 60) / 5.8 ≈ 17σ above this crowd


def test_the_applicants_own_copy_standing_out_is_excluded_with_the_match_as_evidence():
    own = match("NTIS-2023-0000042", 0.93, COPY, brn=APPLICANT.brn)
    judgement = judge([own, *crowd()], APPLICANT, LIMITS)
    assert judgement.verdict is DuplicateVerdict.DUPLICATE and judgement.own
    evidence = judgement.evidence()
    assert "NTIS NTIS-2023-0000042" in evidence and "과제 NTIS-2023-0000042" in evidence
    assert "개발목표 0.93" in evidence and "신청 기업" in evidence


def test_the_same_project_filed_through_a_related_company_of_the_same_ceo_is_excluded():
    related = match("SMTECH-2022-0000007", 0.9, COPY, brn="5555555555", ceo=APPLICANT.ceo)
    assert judge([related, *crowd()], APPLICANT, LIMITS).verdict is DuplicateVerdict.DUPLICATE


def test_another_companys_copy_goes_to_the_committee_never_excluded():
    theirs = match("GSTEP-PMS-2024-0000100", 1.0, COPY)
    judgement = judge([theirs, *crowd()], APPLICANT, LIMITS)
    assert judgement.verdict is DuplicateVerdict.BORDERLINE and not judgement.own
    assert "타 기업(9999999999)" in judgement.evidence()


def test_an_own_paraphrase_that_stands_out_below_the_duplicate_line_goes_to_the_committee():
    own = match("NTIS-2021-0000001", 0.35, COPY, brn=APPLICANT.brn)  # other words, same rare terms
    judgement = judge([own, *crowd()], APPLICANT, LIMITS)
    assert judgement.verdict is DuplicateVerdict.BORDERLINE and judgement.own and judgement.z > LIMITS.outlier_z


def test_a_best_match_no_more_relevant_than_the_crowd_passes_and_is_named():
    pool = crowd(top=0.78)  # a high score shared by many plans is wording, not copying
    judgement = judge(pool, APPLICANT, LIMITS)
    assert judgement.verdict is DuplicateVerdict.DIFFERENT and judgement.match.record["id"] == "C-000"


def test_an_own_project_of_high_score_that_does_not_stand_out_is_not_excluded():
    own = match("NTIS-2020-0000009", 0.80, 71, brn=APPLICANT.brn)
    assert judge([own, *crowd()], APPLICANT, LIMITS).verdict is DuplicateVerdict.DIFFERENT


def test_a_project_that_leads_by_one_rare_word_but_shares_almost_nothing_is_no_copy():
    unrelated = match("NTIS-2019-0000003", MIN_SCORE - 0.01, COPY)
    assert judge([unrelated, *crowd(top=0.10)], APPLICANT, LIMITS).verdict is DuplicateVerdict.DIFFERENT


def test_without_a_crowd_the_scores_decide_alone():
    few = [match("A", 0.5, 10), match("B", 0.2, 9)]
    assert judge(few, APPLICANT, LIMITS).verdict is DuplicateVerdict.BORDERLINE
    own = judge([match("A", 0.8, 10, brn=APPLICANT.brn), *few], APPLICANT, LIMITS)
    assert own.verdict is DuplicateVerdict.DUPLICATE
    assert judge([match("A", 0.3, 10)], APPLICANT, LIMITS).verdict is DuplicateVerdict.DIFFERENT


def test_nothing_to_compare_with_passes():
    judgement = judge([], APPLICANT, LIMITS)
    assert judgement.verdict is DuplicateVerdict.DIFFERENT and judgement.match is None
    assert judgement.evidence() == "비교할 선행 과제 없음"


@given(found=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 500)), min_size=1, max_size=80),
       owned=st.sets(st.integers(0, 79)))
def test_only_the_applicants_own_near_identical_projects_can_exclude(found, owned):
    pool = sorted((match(f"P-{i:02d}", round(s, 4), r, brn=APPLICANT.brn if i in owned else "9999999999")
                   for i, (s, r) in enumerate(found)), key=lambda m: -m.relevance)
    judgement = judge(pool, APPLICANT, LIMITS)
    if judgement.verdict is DuplicateVerdict.DUPLICATE:
        assert judgement.own and judgement.match.overall >= LIMITS.duplicate_threshold
    if judgement.verdict is not DuplicateVerdict.DIFFERENT and len(pool) >= MIN_CROWD:
        assert judgement.z >= LIMITS.outlier_z and judgement.match in pool[:CROWD_RANK]
        assert judgement.match.overall >= MIN_SCORE
    if judgement.verdict is not DuplicateVerdict.DIFFERENT and len(pool) < MIN_CROWD:
        assert judgement.match.overall >= LIMITS.borderline_threshold


def _by_meaning(elements: tuple[str, ...], words: float, cosine: float, *, brn: str = "9999999999") -> Match:
    """A match whose goal means what the plan's does (cosine) but whose words lie in the crowd (relevance 60)."""
    record = {"id": "SMTECH-2022-0000077", "registry": "SMTECH", "title": "과제", "company_brn": brn, "ceo": "박서연"}
    return Match(record, {e: words for e in elements}, 60.0, cosine)


def _semantic_crowd(elements: tuple[str, ...]) -> list[Match]:
    return [Match({"id": f"C-{i:03d}", "company_brn": "9999999999"}, {e: 0.3 for e in elements}, 70 - i * 0.1,
                  0.80 - i * 0.0005) for i in range(199)]


def test_a_rewording_that_stands_out_by_meaning_alone_goes_to_the_committee():
    """KorSTS: people's paraphrases share meaning more than words. The goal's cosine 0.95, far above the crowd's
    0.75–0.80, with the words in the crowd: the committee judges it (D3), never an exclusion."""
    judgement = judge([_by_meaning(("goal",), 0.2, 0.95), *_semantic_crowd(("goal",))], APPLICANT, Thresholds())
    assert judgement.verdict is DuplicateVerdict.BORDERLINE and judgement.semantic_z >= 3.0
    assert "의미 유사도 0.95" in judgement.evidence()
    below = judge([_by_meaning(("goal",), 0.2, 0.85), *_semantic_crowd(("goal",))], APPLICANT, Thresholds())
    assert below.verdict is DuplicateVerdict.DIFFERENT  # under the 0.89 line, however far above the crowd
    own = judge([_by_meaning(("goal",), 0.2, 0.99, brn=APPLICANT.brn), *_semantic_crowd(("goal",))], APPLICANT,
                Thresholds())
    assert own.verdict is DuplicateVerdict.BORDERLINE  # the applicant's own, reworded: not near-identical, no X5


def test_a_plan_of_several_elements_stands_out_by_meaning_only_with_the_committees_share_of_words():
    three = ("goal", "method", "content")
    goal_alike = judge([_by_meaning(three, 0.30, 0.95), *_semantic_crowd(three)], APPLICANT, Thresholds())
    assert goal_alike.verdict is DuplicateVerdict.DIFFERENT
    shared = judge([_by_meaning(three, 0.50, 0.95), *_semantic_crowd(three)], APPLICANT, Thresholds())
    assert shared.verdict is DuplicateVerdict.BORDERLINE
