"""D3 over the national corpus: a match counts by how far it stands out from the crowd of similar plans, then by
its score and whose project it is (X5 only for the applicant's own, or its CEO's; the committee for others)."""
from hypothesis import given, strategies as st

from screening.similarity.index import Match
from screening.similarity.verdict import Applicant, Thresholds, Verdict, judge

APPLICANT = Applicant(brn="1234567890", ceo="김민준")
LIMITS = Thresholds(duplicate_threshold=0.75, refer_threshold=0.30, outlier_z=4.0, margin=0.20)


def match(pid: str, score: float, *, brn: str = "9999999999", ceo: str = "박서연") -> Match:
    record = {"id": pid, "registry": "NTIS", "title": f"과제 {pid}", "company_brn": brn, "ceo": ceo}
    return Match(record, {"goal": score, "method": score, "content": score})


def crowd(n: int = 150, top: float = 0.55, step: float = 0.002) -> list[Match]:
    """Plans that resemble the query a little, as every plan of its kind does."""
    return [match(f"C-{i:03d}", round(top - i * step, 4)) for i in range(n)]


def test_the_applicants_own_copy_standing_out_is_excluded_with_the_match_as_evidence():
    own = match("NTIS-2023-0000042", 0.93, brn=APPLICANT.brn)
    judgement = judge([own, *crowd()], APPLICANT, LIMITS)
    assert judgement.verdict is Verdict.DUPLICATE and judgement.own
    evidence = judgement.evidence()
    assert "NTIS NTIS-2023-0000042" in evidence and "과제 NTIS-2023-0000042" in evidence
    assert "개발목표 0.93" in evidence and "신청 기업" in evidence


def test_the_same_project_filed_through_a_related_company_of_the_same_ceo_is_excluded():
    related = match("SMTECH-2022-0000007", 0.9, brn="5555555555", ceo=APPLICANT.ceo)
    assert judge([related, *crowd()], APPLICANT, LIMITS).verdict is Verdict.DUPLICATE


def test_another_companys_copy_goes_to_the_committee_never_excluded():
    theirs = match("GSTEP-PMS-2024-0000100", 1.0)
    judgement = judge([theirs, *crowd()], APPLICANT, LIMITS)
    assert judgement.verdict is Verdict.REFER and not judgement.own
    assert "타 기업(9999999999)" in judgement.evidence()


def test_an_own_project_that_stands_out_below_the_duplicate_line_goes_to_the_committee():
    own = match("NTIS-2021-0000001", 0.70, brn=APPLICANT.brn)
    assert judge([own, *crowd(top=0.40)], APPLICANT, LIMITS).verdict is Verdict.REFER


def test_a_best_match_no_higher_than_the_crowd_passes_and_is_named():
    pool = crowd(top=0.78)  # a high score shared by many plans is wording, not copying
    judgement = judge(pool, APPLICANT, LIMITS)
    assert judgement.verdict is Verdict.PASS and judgement.match.record["id"] == "C-000"


def test_nothing_to_compare_with_passes():
    judgement = judge([], APPLICANT, LIMITS)
    assert judgement.verdict is Verdict.PASS and judgement.match is None
    assert judgement.evidence() == "비교할 선행 과제 없음"


@given(scores=st.lists(st.floats(0, 1), min_size=1, max_size=60), owned=st.sets(st.integers(0, 59)))
def test_only_the_applicants_own_projects_can_exclude(scores, owned):
    pool = sorted((match(f"P-{i:02d}", round(s, 4), brn=APPLICANT.brn if i in owned else "9999999999")
                   for i, s in enumerate(scores)), key=lambda m: -m.overall)
    judgement = judge(pool, APPLICANT, LIMITS)
    if judgement.verdict is Verdict.DUPLICATE:
        assert judgement.own and judgement.match.overall >= LIMITS.duplicate_threshold
    if judgement.verdict is not Verdict.PASS:
        assert judgement.match.overall >= LIMITS.refer_threshold
        assert judgement.z >= LIMITS.outlier_z or judgement.margin >= LIMITS.margin
