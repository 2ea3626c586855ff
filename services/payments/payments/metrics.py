"""Payments' business metrics (the delivery plumbing's are in sme_runtime.metrics)."""
from __future__ import annotations

from prometheus_client import Counter, Gauge

DUE = Counter("sme_payments_due_total", "Payments that fell due: subsidy requests (P3) and allowances (P5)",
              ["purpose"])
PAID = Counter("sme_payments_paid_krw_total", "KRW recorded as paid", ["purpose"])
OVERDUE_RAISED = Counter("sme_payments_overdue_raised_total", "PaymentOverdue raised: due date passed unpaid (P3)",
                         ["purpose"])
CLAWED_BACK = Counter("sme_payments_clawed_back_krw_total", "KRW demanded back after fraud or false evidence (P4)")
OPEN = Gauge("sme_payments_open", "Unpaid payments; overdue = past their due date (P3)", ["purpose", "overdue"])
OPEN_KRW = Gauge("sme_payments_open_krw", "KRW of unpaid payments; overdue = past their due date (P3)",
                 ["purpose", "overdue"])
PURPOSES = ("subsidy", "evaluator-allowance")
