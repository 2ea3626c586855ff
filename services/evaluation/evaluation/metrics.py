"""Evaluation's business metrics (the delivery plumbing's are in sme_runtime.metrics)."""
from __future__ import annotations

from prometheus_client import Counter, Gauge

SCORES = Counter("sme_evaluation_scores_total", "Evaluator score sheets accepted (S1), replacements included")
ROUNDS_CLOSED = Counter("sme_evaluation_rounds_closed_total", "Evaluation rounds closed by operators")
SELECTED = Counter("sme_evaluation_selected_total", "Applications notified as selected after the X11 re-check",
                   ["via"])
CANDIDATES = Gauge("sme_evaluation_applications", "Applications in evaluation by status", ["status"])
SHORT_OF_EVALUATORS = Gauge("sme_evaluation_short_of_evaluators",
                            "Applications of open rounds with fewer evaluators without a conflict than S3 needs")
RECHECKS_WAITING = Gauge("sme_evaluation_rechecks_waiting", "X11 re-checks asked of screening and not answered")
RECHECK_OLDEST_SECONDS = Gauge("sme_evaluation_oldest_recheck_seconds", "Age of the oldest unanswered X11 re-check")
BUDGET_AVAILABLE = Gauge("sme_evaluation_budget_available_krw",
                         "Budget of a program not yet committed to selected applications (F4, F5)", ["program"])
