"""D3 over the national corpus: what the most relevant prior projects of a plan mean for the applicant.

Plans of one kind share much of their wording, so a new plan resembles many prior plans a little, and its best
match's score alone says little: among a million synthetic projects a plan that copies nothing still has a best
cosine of 0.48–0.80, while a paraphrase of a funded plan has 0.22–0.50 with its source (it shares the rare words,
not the wording). A copy stands out from the crowd instead. The crowd is every candidate the search returned
(`CANDIDATES`, 200 at national scale): a match stands out when its relevance lies `outlier_z` standard deviations
above the mean of the others (and shares at least `MIN_SCORE` of the plan's weighted words). Measured (50 queries
per kind, development set): fresh plans stand out by at most
6.0σ at a million projects (7.5σ at 100,000), summaries and paraphrases of a funded plan by 5.2σ at least, most
by more than 10σ (`bench.duplicate_search` prints the verdicts per kind on the held-out set).

Real people's rewording shares meaning more than words (KorSTS: a paraphrase scored ≥ 4.5 shares a median 0.70 of
its weighted morphemes with its source, one scored ≤ 2.0 still 0.35), so a match also stands out by meaning: the
cosine of the goals' sentence vectors (`Match.semantic`) at least `semantic_threshold` and `semantic_z`
standard deviations above the other candidates' cosines. Tuned on KorSTS train (sentence1 searched against every
sentence2, goal only): of the pairs scored ≥ 4.5, 0.92 stand out with their partner at 0.89 / 3σ (with the words'
rule beside it the search refers 0.874 naming the partner); of those scored ≤ 2.0, 0.16 do (0.140): e5-small does
not tell "a man plays the guitar" from "a man plays the flute" well; the committee does. A plan that gives several
elements is read by its goal's vector only, so its match must also reach `borderline_threshold` of the per-element
word cosines to stand out by meaning.

Of the matches that stand out (among the `CROWD_RANK` most relevant):
- the applicant's own project (same business registration number, or the same CEO: the same project filed through
  a related company) with overall score ≥ `duplicate_threshold` (near-identical) → X5, excluded, with the match
  as evidence;
- otherwise → referred to the committee (D3 manual review) with both texts side by side; another company's project
  is never excluded automatically;
- none stands out → passes, with the most relevant project named so the center sees what was compared.

Fewer than `MIN_CROWD` candidates (a small corpus, or a plan of rare words) make no crowd: then the scores decide
alone, as in the own-projects check (≥ `duplicate_threshold` own → X5, ≥ `borderline_threshold` → committee)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from screening.lookup.messages import DuplicateVerdict
from screening.similarity.index import ELEMENTS, Match

CROWD_RANK = 10
MIN_CROWD = 30
# A project sharing this little of the plan's weighted words is no copy however far it ranks ahead: a plan from
# another field (the main job's consulting plans against manufacturing R&D) can lead its crowd by one rare word
# (5.3σ at 0.07). The lowest a planted paraphrase scored against its source was 0.19 (1,000,000 projects).
MIN_SCORE = 0.15


@dataclass(frozen=True)
class Thresholds:
    """D3 thresholds (program data: `duplicate_threshold`, `borderline_threshold`, `national_outlier_z`,
    `national_semantic_threshold`, `national_semantic_z`)."""

    duplicate_threshold: float = 0.75
    borderline_threshold: float = 0.45
    outlier_z: float = 6.0
    semantic_threshold: float = 0.89
    semantic_z: float = 3.0


@dataclass(frozen=True)
class Applicant:
    brn: str
    ceo: str | None = None

    def owns(self, match: Match) -> bool:
        record = match.record
        same_ceo = bool(self.ceo) and (record.get("ceo") or "").strip() == (self.ceo or "").strip()
        return record.get("company_brn") == self.brn or same_ceo


@dataclass(frozen=True)
class Judgement:
    verdict: DuplicateVerdict
    match: Match | None
    z: float  # standard deviations of relevance above the crowd's mean (0 without a crowd)
    own: bool  # the match is the applicant's (same company or CEO)
    semantic_z: float = 0.0  # standard deviations of the goals' cosine above the crowd's (0 without a dense arm)

    def evidence(self) -> str:
        """The registry, project id, title and the per-element scores, in the center's words."""
        if self.match is None:
            return "비교할 선행 과제 없음"
        record, scores = self.match.record, self.match.scores
        per_element = ", ".join(f"{_KOREAN[e]} {scores[e]:.2f}" for e in ELEMENTS if e in scores)
        whose = "신청 기업(또는 동일 대표자)의 과제" if self.own else f"타 기업({record.get('company_brn')})의 과제"
        crowd = f", 유사 과제군 대비 {self.z:.1f}σ" if self.z else ""
        meaning = (f"; 개발목표 의미 유사도 {self.match.semantic:.2f} (유사 과제군 대비 {self.semantic_z:.1f}σ)"
                   if self.match.semantic else "")
        return (f"{record.get('registry')} {record.get('id')} 「{record.get('title')}」 — {whose}; {per_element} "
                f"(종합 {self.match.overall:.2f}{crowd}){meaning}")


_KOREAN = {"goal": "개발목표", "method": "개발방법", "content": "개발내용"}


def judge(pool: list[Match], applicant: Applicant, thresholds: Thresholds) -> Judgement:
    """The verdict on a plan from every candidate the search returned, most relevant first
    (`PriorProjectIndex.search(plan, top=None)`)."""
    if not pool:
        return Judgement(DuplicateVerdict.DIFFERENT, None, 0.0, False)
    if len(pool) < MIN_CROWD:
        return _by_scores(pool, applicant, thresholds)
    # each arm's crowd is what that arm found: a project only the other arm brought has no number of this one
    lexical = _Crowd([m.relevance for m in pool if m.relevance > 0])
    semantic = _Crowd([m.semantic for m in pool if m.semantic > 0])

    def judged(verdict: DuplicateVerdict, m: Match) -> Judgement:
        return Judgement(verdict, m, lexical.z(m.relevance), applicant.owns(m),
                         semantic.z(m.semantic) if m.semantic else 0.0)

    def stands_out(j: Judgement) -> bool:
        assert j.match is not None
        by_words = j.z >= thresholds.outlier_z and j.match.overall >= MIN_SCORE
        by_meaning = j.match.semantic >= thresholds.semantic_threshold and j.semantic_z >= thresholds.semantic_z
        if len(j.match.scores) > 1:
            # the vector reads the goal only: a plan of several elements must also share the committee's share of
            # their words (synthetic development set: 2 of 12 new plans stood out by their goal's meaning alone)
            by_meaning = by_meaning and j.match.overall >= thresholds.borderline_threshold
        return by_words or by_meaning

    outstanding = [j for j in (judged(DuplicateVerdict.BORDERLINE, m) for m in pool[:CROWD_RANK]) if stands_out(j)]
    for j in outstanding:
        if j.own and j.match is not None and j.match.overall >= thresholds.duplicate_threshold:
            return judged(DuplicateVerdict.DUPLICATE, j.match)
    return outstanding[0] if outstanding else judged(DuplicateVerdict.DIFFERENT, pool[0])


class _Crowd:
    """How far one candidate's number lies above the others': the crowd is every candidate but the highest (a
    copy must not raise the bar it is measured against)."""

    def __init__(self, values: list[float]) -> None:
        others = sorted(values, reverse=True)[1:]
        self.mean = sum(others) / len(others) if others else 0.0
        self.spread = math.sqrt(sum((v - self.mean) ** 2 for v in others) / len(others)) if others else 0.0

    def z(self, value: float) -> float:
        return round((value - self.mean) / self.spread, 2) if self.spread else 0.0


def _by_scores(pool: list[Match], applicant: Applicant, thresholds: Thresholds) -> Judgement:
    """A crowd too small to stand out from: the numbers decide alone (the own-projects check's lines, and the
    goals' cosine at its line)."""
    own = [m for m in pool if applicant.owns(m) and m.overall >= thresholds.duplicate_threshold]
    if own:
        return Judgement(DuplicateVerdict.DUPLICATE, own[0], 0.0, True)
    best = max(pool, key=lambda m: m.overall)
    close = [m for m in pool if m.overall >= thresholds.borderline_threshold
             or m.semantic >= thresholds.semantic_threshold]
    if close:
        return Judgement(DuplicateVerdict.BORDERLINE, close[0], 0.0, applicant.owns(close[0]))
    return Judgement(DuplicateVerdict.DIFFERENT, best, 0.0, applicant.owns(best))
