"""Contracts' business metrics (the delivery plumbing's are in sme_runtime.metrics)."""
from __future__ import annotations

from prometheus_client import Counter, Gauge

DRAFTED = Counter("sme_contracts_agreements_drafted_total", "Agreements drafted for selected applications (C2)")
SIGNED = Counter("sme_contracts_agreements_signed_total", "Agreements in force: all three parties signed (C1)")
SESSIONS = Counter("sme_contracts_sessions_logged_total", "Consulting sessions logged (C3)", ["kind"])
REPORTS = Counter("sme_contracts_reports_reviewed_total", "Result reports reviewed by the center (C8)", ["outcome"])
ENDED = Counter("sme_contracts_agreements_ended_total", "Agreements given up (C6) or terminated (C7)", ["how"])
AGREEMENTS = Gauge("sme_contracts_agreements", "Agreements by status", ["status"])
UNSIGNED_PAST_DEADLINE = Gauge("sme_contracts_unsigned_past_deadline",
                               "Drafted agreements not signed by all three parties by their signing deadline (C1)")
