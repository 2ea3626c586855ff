"""Payments: the subsidy request, its amount (P2), the 30-day due date (P3), payment, adjustments and
clawback (P4), evaluator allowances (P5)."""
