"""Intake's business counters (the delivery metrics come from sme_runtime.metrics)."""
from __future__ import annotations

from prometheus_client import Counter

from sme_runtime.problems import RuleViolation

APPLICATIONS = Counter("intake_applications_total", "Applications accepted, by channel and what they did",
                       ["program", "channel", "disposition"])
REFUSALS = Counter("intake_refusals_total", "Submissions refused, by rule", ["rule"])


def record_submission(program: str, channel: str, disposition: str | None) -> None:
    APPLICATIONS.labels(program, channel, disposition or "unknown").inc()


def record_refusal(violation: RuleViolation) -> None:
    for problem in violation.problems:
        REFUSALS.labels(problem.rule).inc()
