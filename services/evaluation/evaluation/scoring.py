"""The two scores of an application: the document score (별표2, Q1–Q7) from the facts screening verified, and
the committee score (별표3, S1–S3) from the evaluators' chosen levels. Pure: no I/O.

Scores are exact fractions while they are computed; they are published rounded half-up to 4 decimals (`publish`),
and the published values are the ones that rank (F3), so anyone can re-check a ranking from the list itself."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Mapping, Sequence

from sme_runtime.problems import Problem
from sme_programs import Band, CommitteeScoreSheet, DocumentScoreSheet, full_years
from sme_schemas.screening import VerifiedFacts

PLACES = Decimal("0.0001")
Q7_NOTE = ("Q7: the sheet's scale values are used (Q1 and Q3 go to 30 although their headers say 20 and 15); "
           "the bonus is added and the total capped at {cap}")


def publish(value: Fraction | int) -> Decimal:
    """A score as published and ranked: 4 decimals, half up."""
    value = Fraction(value)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(PLACES, rounding=ROUND_HALF_UP)


def band_points(bands: Sequence[Band], value: int) -> int:
    """The points of the first band (highest threshold first) whose threshold the value reaches."""
    return next(b.points for b in bands if value >= b.at_least)


@dataclass(frozen=True)
class DocumentScore:
    """Q1–Q7 with every part shown; `total` is what ranks."""

    total: int
    uncapped: int
    parts: tuple[tuple[str, int, str], ...]  # (rule, points, what it was scored on)
    note: str

    def breakdown(self) -> dict[str, Any]:
        return {"total": self.total, "sum_before_cap": self.uncapped, "Q7": self.note,
                "parts": [{"rule": rule, "points": points, "basis": basis} for rule, points, basis in self.parts]}


def document_score(facts: VerifiedFacts, sheet: DocumentScoreSheet, announcement_date: date) -> DocumentScore:
    """Q1–Q6 from the verified facts (unproven claims are 0 already, E5); Q7 caps the sum."""
    years = full_years(facts.gimpo_business_since, announcement_date)
    bonus_items = sheet.proven_bonus_items(facts.certifications, facts.proven_answers)
    bonus_uncapped = sum(item.points for item in bonus_items)
    parts = (
        ("Q1", band_points(sheet.revenue_last_year, facts.revenue_last_year),
         f"revenue last year {facts.revenue_last_year:,} KRW"),
        ("Q2", band_points(sheet.regular_employees, facts.regular_employees),
         f"{facts.regular_employees} regular employees"),
        ("Q3", band_points(sheet.years_in_city, years),
         f"{years} full years in the city since {facts.gimpo_business_since} (to {announcement_date})"),
        ("Q4", band_points(sheet.research_staff, facts.research_staff), f"{facts.research_staff} research staff"),
        ("Q5", sheet.research_institute if facts.research_institute else 0,
         "registered research institute" if facts.research_institute else "no registered research institute"),
        ("Q6", min(sheet.bonus_cap, bonus_uncapped),
         (f"{len(bonus_items)} bonus items proven: " + ", ".join(item.title for item in bonus_items)
          if bonus_items else "no bonus item proven")
         + (f" ({bonus_uncapped} capped at {sheet.bonus_cap})" if bonus_uncapped > sheet.bonus_cap else "")),
    )
    uncapped = sum(points for _, points, _ in parts)
    return DocumentScore(total=min(sheet.total_cap, uncapped), uncapped=uncapped, parts=parts,
                         note=Q7_NOTE.format(cap=sheet.total_cap))


def max_document_score(sheet: DocumentScoreSheet) -> int:
    """The most any application can get on the sheet (for the rubric's own tests and the API's description)."""
    tops = (sheet.revenue_last_year[0].points + sheet.regular_employees[0].points + sheet.years_in_city[0].points
            + sheet.research_staff[0].points + sheet.research_institute + sheet.bonus_cap)
    return min(sheet.total_cap, tops)


@dataclass(frozen=True)
class EvaluatorScore:
    """One evaluator's sheet for one application (S1), its raw total and its total normalised to 100 (S2)."""

    levels: Mapping[str, int]
    raw_total: int
    normalised: Fraction


def check_levels(levels: Mapping[str, int], sheet: CommitteeScoreSheet) -> list[Problem]:
    """S1: every item scored, with one of its levels, and nothing else; each problem names the item and the levels."""
    problems = []
    for item in sheet.items:
        if item.code not in levels:
            problems.append(Problem(f"levels.{item.code}", "S1",
                                    f"{item.title} ({item.section}) is not scored; choose one of "
                                    f"{', '.join(map(str, item.levels))}"))
        elif levels[item.code] not in item.levels:
            problems.append(Problem(f"levels.{item.code}", "S1",
                                    f"{levels[item.code]} is not a level of {item.title}; choose one of "
                                    f"{', '.join(map(str, item.levels))}"))
    known = {item.code for item in sheet.items}
    problems += [Problem(f"levels.{code}", "S1", f"{code} is not an item of this program's committee sheet; items: "
                         f"{', '.join(sorted(known))}") for code in sorted(set(levels) - known)]
    return problems


def evaluator_score(levels: Mapping[str, int], sheet: CommitteeScoreSheet) -> EvaluatorScore:
    """S2: raw total x normalised_to / raw maximum (105 → 100 for SOS 2024). Call check_levels first."""
    problems = check_levels(levels, sheet)
    if problems:
        raise ValueError("; ".join(p.message for p in problems))
    raw = sum(levels[item.code] for item in sheet.items)
    return EvaluatorScore(levels=dict(levels), raw_total=raw, normalised=Fraction(raw * sheet.normalised_to,
                                                                                 sheet.raw_max))


@dataclass(frozen=True)
class QualitativeScore:
    """S3: the mean of the valid evaluators' normalised totals, with the mean raw total shown (S2)."""

    mean: Fraction
    raw_mean: Fraction
    evaluators: int


def qualitative_score(scores: Sequence[EvaluatorScore], minimum: int) -> QualitativeScore | None:
    """None until at least `minimum` valid scores are in (S3)."""
    if len(scores) < max(1, minimum):
        return None
    return QualitativeScore(mean=sum((s.normalised for s in scores), Fraction(0)) / len(scores),
                            raw_mean=Fraction(sum(s.raw_total for s in scores), len(scores)), evaluators=len(scores))
