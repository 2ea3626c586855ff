"""Final score, ranking, selection within budget and the waitlist (F1–F5). Pure: no I/O."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Iterable, Sequence

from evaluation.scoring import QualitativeScore, publish
from sme_schemas.evaluation import Outcome

# F3's levels, in the order they break ties; the last one is ours so the order is total even for equal instants.
TIE_BREAKS = ("final", "qualitative", "quantitative", "submission", "application id")


@dataclass(frozen=True)
class Candidate:
    """An application of a round with both scores in."""

    application_id: str
    company_name: str
    quantitative: int
    qualitative: QualitativeScore
    planned_subsidy: int
    submitted_at: datetime


@dataclass(frozen=True)
class Ranked:
    rank: int
    candidate: Candidate
    quantitative: Decimal
    qualitative: Decimal
    final: Decimal
    passed: bool  # F2
    tie_broken_by: str | None  # the F3 level that put it below the one ranked just above, when the finals tie

    @property
    def application_id(self) -> str:
        return self.candidate.application_id


def final_score(quantitative: int, qualitative: Fraction, quantitative_weight_percent: int) -> Fraction:
    """F1: 0.3 x quantitative + 0.7 x qualitative for SOS 2024; the weight is program data."""
    w = quantitative_weight_percent
    return (Fraction(quantitative) * w + qualitative * (100 - w)) / 100


def _key(c: Candidate, weight: int) -> tuple:
    """F3 on the published values: final, qualitative, quantitative descending; earlier submission first."""
    return (-publish(final_score(c.quantitative, c.qualitative.mean, weight)), -publish(c.qualitative.mean),
            -publish(c.quantitative), c.submitted_at, c.application_id)


def rank(candidates: Iterable[Candidate], *, quantitative_weight_percent: int, pass_mark: int) -> list[Ranked]:
    """F1–F3: every candidate in one total order, the same for any input order."""
    keyed = sorted(((_key(c, quantitative_weight_percent), c) for c in candidates), key=lambda kc: kc[0])
    out: list[Ranked] = []
    for i, (key, c) in enumerate(keyed):
        final = -key[0]
        tie = None
        if i and keyed[i - 1][0][0] == key[0]:
            tie = TIE_BREAKS[next(level for level, (a, b) in enumerate(zip(keyed[i - 1][0], key)) if a != b)]
        out.append(Ranked(rank=i + 1, candidate=c, quantitative=-key[2], qualitative=-key[1], final=final,
                          passed=final >= pass_mark, tie_broken_by=tie))
    return out


def walk(order: Sequence[tuple[str, int]], available: int) -> list[str]:
    """F4/F5: in rank order, take each (id, planned subsidy) that still fits what is left; skip the rest."""
    taken = []
    for application_id, planned in order:
        if planned <= available:
            taken.append(application_id)
            available -= planned
    return taken


def select(ranking: Sequence[Ranked], available: int) -> dict[str, Outcome]:
    """F2 + F4: the outcome of every ranked application given the budget still available."""
    passed = [(r.application_id, r.candidate.planned_subsidy) for r in ranking if r.passed]
    selected = set(walk(passed, available))
    return {r.application_id: (Outcome.SELECTED if r.application_id in selected
                               else Outcome.WAITLISTED if r.passed else Outcome.BELOW_PASS_MARK) for r in ranking}


def promote(waitlist: Sequence[tuple[str, int]], available: int) -> list[str]:
    """F5: freed budget goes down the waitlist (rank order) to each application whose planned subsidy fits."""
    return walk(waitlist, available)
