"""Screening's business metrics (the delivery plumbing's are in sme_runtime.metrics)."""
from __future__ import annotations

from prometheus_client import Counter, Gauge

from sme_schemas.screening import Finding

DECISIONS = Counter("sme_screening_decisions_total", "Screening outcomes; rejections once per deciding rule",
                    ["outcome", "rule"])
WAITING = Gauge("sme_screening_waiting_applications", "Applications waiting on a registry's answer", ["registry"])
WAITING_SECONDS = Gauge("sme_screening_oldest_wait_seconds", "Age of the oldest unanswered lookup", ["registry"])
APPLICATIONS = Gauge("sme_screening_applications", "Applications in screening by status", ["status"])


def record(outcome: str, findings: tuple[Finding, ...]) -> None:
    rules = sorted({f.rule for f in findings}) or [""]
    for rule in rules:
        DECISIONS.labels(outcome, rule).inc()
