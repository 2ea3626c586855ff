"""Expert grade (G1–G3): recognised years from degree, experience and licences; grade 3 or better is required.
Pure and shared: screening grades the expert an application names, contracts the one an amendment names (C5)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from sme_schemas.application import Degree, ExpertQualification, Licence


class Grade(IntEnum):
    """Lower is better; SPECIAL is 특급."""

    SPECIAL = 0
    FIRST = 1
    SECOND = 2
    THIRD = 3
    FOURTH = 4
    FIFTH = 5


# G2: minimum recognised years per grade, best first.
GRADE_YEARS = ((Grade.SPECIAL, 24), (Grade.FIRST, 19), (Grade.SECOND, 12), (Grade.THIRD, 9), (Grade.FOURTH, 6),
               (Grade.FIFTH, 3))
# G3: reference daily fee by grade (KRW); the program itself pays its own daily fee.
REFERENCE_DAILY_FEE = {Grade.SPECIAL: 985_000, Grade.FIRST: 834_000, Grade.SECOND: 757_000, Grade.THIRD: 644_000,
                       Grade.FOURTH: 518_000, Grade.FIFTH: 388_000}
DEGREE_YEARS = {Degree.DOCTORATE: 6, Degree.MASTER: 2}  # highest degree only (G1)
ENGINEER_YEARS = 6  # 기술사
LICENSED_PROFESSION_YEARS = 3  # once, however many licences
LICENSED_PROFESSIONS = frozenset(Licence) - {Licence.PROFESSIONAL_ENGINEER}


@dataclass(frozen=True)
class GradeAssessment:
    """The grade and how it was reached, so an operator can explain it."""

    grade: Grade | None
    recognised_years: int
    breakdown: tuple[str, ...]


def recognised_years(q: ExpertQualification) -> tuple[int, tuple[str, ...]]:
    """G1: consulting years plus the extra years the guideline recognises."""
    parts = [f"consulting {q.consulting_years}y"]
    total = q.consulting_years
    if q.highest_degree in DEGREE_YEARS:
        total += DEGREE_YEARS[q.highest_degree]
        parts.append(f"{q.highest_degree.value} +{DEGREE_YEARS[q.highest_degree]}y")
    if Licence.PROFESSIONAL_ENGINEER in q.licences:
        total += ENGINEER_YEARS
        parts.append(f"professional engineer +{ENGINEER_YEARS}y")
    if LICENSED_PROFESSIONS.intersection(q.licences):
        total += LICENSED_PROFESSION_YEARS
        parts.append(f"licensed profession +{LICENSED_PROFESSION_YEARS}y")
    return total, tuple(parts)


def assess_grade(q: ExpertQualification) -> GradeAssessment:
    """G1–G2: no bachelor's degree means no grade at all, whatever the years."""
    if q.highest_degree is Degree.NONE:
        return GradeAssessment(None, 0, ("no bachelor's degree (G1)",))
    years, parts = recognised_years(q)
    grade = next((g for g, minimum in GRADE_YEARS if years >= minimum), None)
    return GradeAssessment(grade, years, parts)


def grade_acceptable(assessment: GradeAssessment, worst_allowed: int) -> bool:
    """The program's minimum grade (3 for SOS): grade 4, 5 or no grade is rejected (the company may amend)."""
    return assessment.grade is not None and assessment.grade <= worst_allowed


def grade_label(grade: Grade | None) -> str:
    return {None: "none", Grade.SPECIAL: "special"}.get(grade, str(int(grade)) if grade is not None else "none")
