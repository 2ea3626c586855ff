"""D3 over the national corpus: what the best matches of a plan mean for the applicant.

Plans of one kind share much of their wording, so a new plan resembles many prior plans a little and its best
match's score alone says little: among 10,000 synthetic projects a plan that copies nothing still scores up to
0.78 against its best match. A copy stands out from the crowd instead. The crowd is every candidate the search
re-ranked (150–180 projects): a match stands out when its score lies `outlier_z` standard deviations above the
crowd's mean, or `margin` above the crowd's `CROWD_RANK`-th best. Then its own score decides:

- the applicant's own project (same business registration number, or the same CEO: the same project filed through
  a related company) with score ≥ `duplicate_threshold` and margin ≥ `margin` → X5, excluded, with the match as
  evidence;
- any project with score ≥ `refer_threshold` and margin ≥ `margin` → referred to the committee (D3 manual review)
  with both texts side by side; another company's project is never excluded automatically;
- otherwise → passes, with the best match named so the center sees what was compared."""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from screening.similarity.index import ELEMENTS, Match

CROWD_RANK = 10


class Verdict(StrEnum):
    DUPLICATE = "duplicate"  # X5
    REFER = "refer"  # D3: the committee decides
    PASS = "pass"


@dataclass(frozen=True)
class Thresholds:
    """D3 thresholds for the national search (program data)."""

    duplicate_threshold: float = 0.75
    refer_threshold: float = 0.30
    outlier_z: float = 4.0
    margin: float = 0.20


@dataclass(frozen=True)
class Applicant:
    brn: str
    ceo: str | None = None

    def owns(self, match: Match) -> bool:
        record = match.record
        same_ceo = bool(self.ceo) and (record.get("ceo") or "").strip() == self.ceo.strip()
        return record.get("company_brn") == self.brn or same_ceo


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    match: Match | None
    margin: float  # above the crowd's CROWD_RANK-th best
    z: float  # standard deviations above the crowd's mean
    own: bool  # the match is the applicant's (same company or CEO)

    def evidence(self) -> str:
        """The registry, project id, title and the per-element scores, in the center's words."""
        if self.match is None:
            return "비교할 선행 과제 없음"
        record, scores = self.match.record, self.match.scores
        per_element = ", ".join(f"{_KOREAN[e]} {scores[e]:.2f}" for e in ELEMENTS if e in scores)
        whose = "신청 기업(또는 동일 대표자)의 과제" if self.own else f"타 기업({record.get('company_brn')})의 과제"
        return (f"{record.get('registry')} {record.get('id')} 「{record.get('title')}」 — {whose}; {per_element} "
                f"(종합 {self.match.overall:.2f}, 유사 과제군 대비 +{self.margin:.2f}, {self.z:.1f}σ)")


_KOREAN = {"goal": "개발목표", "method": "개발방법", "content": "개발내용"}


def judge(pool: list[Match], applicant: Applicant, thresholds: Thresholds) -> Judgement:
    """The verdict on a plan from every candidate the search re-ranked, best first
    (`PriorProjectIndex.search(plan, top=None)`)."""
    if not pool:
        return Judgement(Verdict.PASS, None, 0.0, 0.0, False)
    crowd = [m.overall for m in pool[1:]]
    tenth = pool[CROWD_RANK - 1].overall if len(pool) >= CROWD_RANK else 0.0
    mean = sum(crowd) / len(crowd) if crowd else 0.0
    spread = math.sqrt(sum((s - mean) ** 2 for s in crowd) / len(crowd)) if crowd else 0.0

    def judged(verdict: Verdict, m: Match) -> Judgement:
        z = (m.overall - mean) / spread if spread else 0.0
        return Judgement(verdict, m, round(m.overall - tenth, 4), round(z, 2), applicant.owns(m))

    def stands_out(m: Match) -> bool:
        j = judged(Verdict.PASS, m)
        return j.z >= thresholds.outlier_z or j.margin >= thresholds.margin

    outstanding = [m for m in pool[:CROWD_RANK] if stands_out(m)]
    for m in outstanding:
        if applicant.owns(m) and m.overall >= thresholds.duplicate_threshold:
            return judged(Verdict.DUPLICATE, m)
    for m in outstanding:
        if m.overall >= thresholds.refer_threshold:
            return judged(Verdict.REFER, m)
    return judged(Verdict.PASS, pool[0])
