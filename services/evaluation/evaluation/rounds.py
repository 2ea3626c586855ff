"""What a round's committee, declarations and scores add up to: who may see and score which application (F6),
which scores count (S3), which applications are short of evaluators, and whether the round may close. Pure."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping, Sequence

from evaluation.committee import SCORING_ROLES, Applicant, Conflict, Seat, detect_conflicts
from evaluation.scoring import EvaluatorScore
from sme_runtime.problems import Problem


@dataclass(frozen=True)
class Declaration:
    """An evaluator's own statement about one application (F6), recorded either way."""

    evaluator_id: str
    application_id: str
    conflicted: bool
    relation: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class ScoreShortfall:
    """S3: an application the round cannot close without — its valid scores against the minimum, who has not
    scored it yet, who is excluded for a conflict (F6, evaluator and reason), and whether too few evaluators
    without a conflict are seated to ever reach the minimum."""

    application_id: str
    company_name: str
    valid_scores: int
    needed: int
    not_scored_by: tuple[str, ...]
    excluded: tuple[tuple[str, str], ...]
    too_few_evaluators: bool

    def message(self) -> str:
        excluded = [f"{e} ({reason})" for e, reason in self.excluded]
        return (f"{self.company_name}: {self.valid_scores} valid scores of the {self.needed} needed"
                + (f"; not yet scored by {', '.join(self.not_scored_by)}" if self.not_scored_by else "")
                + (f"; excluded for conflicts (F6): {', '.join(excluded)}" if excluded else "")
                + ("; too few evaluators without a conflict: seat more" if self.too_few_evaluators else ""))


@dataclass(frozen=True)
class RoundView:
    seats: Sequence[Seat]
    applicants: Sequence[Applicant]
    declarations: Sequence[Declaration]
    scores: Mapping[tuple[str, str], EvaluatorScore]  # (evaluator id, application id) -> score
    as_of: date  # F6 look-back and 'present employer' are judged on the day the round opened
    lookback_days: int
    minimum: int  # S3

    @property
    def scorers(self) -> list[str]:
        return [s.evaluator.evaluator_id for s in self.seats if s.role in SCORING_ROLES]

    def conflicts(self) -> dict[tuple[str, str], list[Conflict]]:
        """Detected and declared conflicts per (evaluator, application)."""
        found: dict[tuple[str, str], list[Conflict]] = {}
        for seat in self.seats:
            if seat.role not in SCORING_ROLES:
                continue
            for c in detect_conflicts(seat.evaluator, self.applicants, as_of=self.as_of,
                                      lookback_days=self.lookback_days):
                found.setdefault((c.evaluator_id, c.application_id), []).append(c)
        for d in self.declarations:
            if d.conflicted:
                found.setdefault((d.evaluator_id, d.application_id), []).append(
                    Conflict(d.evaluator_id, d.application_id, "declared",
                             f"declared: {d.relation or 'conflict'}" + (f" — {d.detail}" if d.detail else "")))
        return found

    def assigned(self, application_id: str, conflicts: Mapping | None = None) -> list[str]:
        """The seated scorers without a conflict on the application: they see it and their scores count."""
        conflicts = self.conflicts() if conflicts is None else conflicts
        return [e for e in self.scorers if (e, application_id) not in conflicts]

    def may_see(self, evaluator_id: str, application_id: str) -> bool:
        return evaluator_id in self.assigned(application_id)

    def valid_scores(self, application_id: str, conflicts: Mapping | None = None) -> list[EvaluatorScore]:
        """S3: scores of assigned evaluators only; a score given before a conflict came to light no longer counts."""
        return [self.scores[(e, application_id)] for e in self.assigned(application_id, conflicts)
                if (e, application_id) in self.scores]

    def short_of_evaluators(self) -> list[str]:
        """Applications that can never reach the S3 minimum with this committee: flagged to operators."""
        conflicts = self.conflicts()
        return [a.application_id for a in self.applicants
                if len(self.assigned(a.application_id, conflicts)) < self.minimum]

    def score_shortfalls(self) -> list[ScoreShortfall]:
        """S3: each application of the round with fewer valid scores than the minimum, and why."""
        conflicts = self.conflicts()
        shortfalls = []
        for a in self.applicants:
            assigned = self.assigned(a.application_id, conflicts)
            valid = sum((e, a.application_id) in self.scores for e in assigned)
            if valid >= self.minimum:
                continue
            excluded = tuple(sorted({(c.evaluator_id, c.reason) for (e, app), cs in conflicts.items()
                                     if app == a.application_id for c in cs}))
            shortfalls.append(ScoreShortfall(
                a.application_id, a.company_name, valid, self.minimum,
                tuple(e for e in assigned if (e, a.application_id) not in self.scores), excluded,
                len(assigned) < self.minimum))
        return shortfalls

    def close_problems(self) -> list[Problem]:
        """Every reason the round cannot close yet, naming the application and the rule."""
        if not self.scorers:
            return [Problem("committee", "S3", "no committee has been formed for this round")]
        if not self.applicants:
            return [Problem("applications", "S3", "the round has no applications to rank")]
        return [Problem(f"applications.{s.application_id}", "S3", s.message()) for s in self.score_shortfalls()]
