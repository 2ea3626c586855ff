"""The committee of a round, conflicts of interest (F6) and evaluator allowances (F7). Pure: no I/O.

Composition (DOMAIN.md parameters, 'committee'): 3 to 7 external evaluators, one of them the chair; center staff
sit only as secretary, unpaid, and never score."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Iterable, Sequence

from sme_runtime.problems import Problem


class Kind(StrEnum):
    EXTERNAL = "external"
    CENTER_STAFF = "center-staff"


class SeatRole(StrEnum):
    CHAIR = "chair"
    MEMBER = "member"
    SECRETARY = "secretary"


SCORING_ROLES = (SeatRole.CHAIR, SeatRole.MEMBER)


@dataclass(frozen=True)
class Employment:
    """A past or present employer of an evaluator; `until` None means present."""

    brn: str
    name: str
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class Evaluator:
    evaluator_id: str
    name: str
    affiliation: str
    kind: Kind
    fields: tuple[str, ...] = ()
    employers: tuple[Employment, ...] = ()


@dataclass(frozen=True)
class Seat:
    evaluator: Evaluator
    role: SeatRole


@dataclass(frozen=True)
class Applicant:
    """What F6 detection knows of an application (from the facts screening verified)."""

    application_id: str
    brn: str
    company_name: str
    expert_name: str | None = None
    expert_affiliation: str | None = None


@dataclass(frozen=True)
class Conflict:
    evaluator_id: str
    application_id: str
    reason: str  # employer | former-employer | expert | competitor | declared
    detail: str = field(compare=False)


def check_committee(seats: Sequence[Seat], *, minimum: int, maximum: int) -> list[Problem]:
    """Every reason a proposed committee cannot sit, each naming the seat and the rule."""
    problems = []
    ids = [s.evaluator.evaluator_id for s in seats]
    problems += [
        Problem("members", "S3", f"{i} is named more than once") for i in sorted({i for i in ids if ids.count(i) > 1})
    ]
    for n, seat in enumerate(seats):
        if seat.evaluator.kind is Kind.CENTER_STAFF and seat.role is not SeatRole.SECRETARY:
            problems.append(Problem(f"members[{n}].role", "F7", f"{seat.evaluator.name} is center staff: only the "
                                    "(unpaid) secretary's seat is open to center staff"))
        if seat.role is SeatRole.SECRETARY and seat.evaluator.kind is not Kind.CENTER_STAFF:
            problems.append(Problem(f"members[{n}].role", "S3", f"{seat.evaluator.name} is an external evaluator: "
                                    "seat them as chair or member; the secretary is center staff"))
    chairs = sum(s.role is SeatRole.CHAIR for s in seats)
    if chairs != 1:
        problems.append(Problem("members", "S3", f"a committee has exactly one chair; {chairs} named"))
    if sum(s.role is SeatRole.SECRETARY for s in seats) > 1:
        problems.append(Problem("members", "S3", "at most one secretary"))
    scoring = sum(s.role in SCORING_ROLES and s.evaluator.kind is Kind.EXTERNAL for s in seats)
    if not minimum <= scoring <= maximum:
        problems.append(Problem("members", "S3", f"{scoring} external evaluators named; this program's committee "
                                f"has {minimum} to {maximum}, the chair included"))
    return problems


def _same(a: str | None, b: str | None) -> bool:
    def norm(s: str) -> str:
        return "".join(unicodedata.normalize("NFC", s).split()).casefold()

    return a is not None and b is not None and bool(a and b) and norm(a) == norm(b)


def detect_conflicts(evaluator: Evaluator, applicants: Iterable[Applicant], *, as_of: date,
                     lookback_days: int) -> list[Conflict]:
    """F6 from what the service knows, without waiting for a declaration:
    - the applicant is a present employer, or a past one within the look-back period;
    - the evaluator is the applicant's own expert (same name and affiliation);
    - the evaluator's present employer applies in the same round: it competes with every other applicant for the
      same budget."""
    applicants = list(applicants)
    horizon = as_of - timedelta(days=lookback_days)
    present = {e.brn: e for e in evaluator.employers if e.until is None or e.until >= as_of}
    recent = {e.brn: e for e in evaluator.employers if e.until is not None and horizon <= e.until < as_of}
    competing = {a.brn: a for a in applicants if a.brn in present}
    found = []
    for a in applicants:
        me = (evaluator.evaluator_id, a.application_id)
        if a.brn in present:
            found.append(Conflict(*me, "employer", f"{evaluator.name} works for {a.company_name} ({a.brn})"))
        elif a.brn in recent:
            found.append(Conflict(*me, "former-employer", f"{evaluator.name} worked for {a.company_name} ({a.brn}) "
                                  f"until {recent[a.brn].until}, within {lookback_days} days"))
        if _same(evaluator.name, a.expert_name) and _same(evaluator.affiliation, a.expert_affiliation):
            found.append(Conflict(*me, "expert", f"{evaluator.name} ({evaluator.affiliation}) is the applicant's "
                                  "own expert"))
        for brn, rival in competing.items():
            if brn != a.brn:
                found.append(Conflict(*me, "competitor", f"{evaluator.name}'s employer {rival.company_name} applies "
                                      f"in the same round ({rival.application_id})"))
    return found


def allowance(applications_scored: int, *, kind: Kind, per_application: int, cap: int, already_in_program: int) -> int:
    """F7: per application scored, capped per evaluator per program (earlier rounds count); center staff get none."""
    if kind is Kind.CENTER_STAFF:
        return 0
    return max(0, min(per_application * applications_scored, cap - already_in_program))
