"""Where a payment stands: the values of `payments.status` (the gauges and the API use them;
tests/unit/test_statuses.py checks the SQL writes no other)."""
from __future__ import annotations

from enum import StrEnum


class PaymentStatus(StrEnum):
    DUE = "due"  # owed, by its due date (P3)
    RETURNED = "returned"  # 서식4 returned as deficient: the clock stops until the complete request comes (P3)
    PAID = "paid"
    CANCELLED = "cancelled"  # no longer owed (a give-up, a termination before it was paid)
    CLAWED_BACK = "clawed-back"  # paid, then (part) recovered (C7, P4, I2, I3)


OWED = (PaymentStatus.DUE, PaymentStatus.RETURNED)  # not paid, not cancelled: the commitment still stands
SETTLED = (PaymentStatus.PAID, PaymentStatus.CLAWED_BACK)  # money went out
CLOSED = (PaymentStatus.CANCELLED, PaymentStatus.CLAWED_BACK)  # nothing more to do
