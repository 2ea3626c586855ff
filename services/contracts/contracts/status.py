"""Where an agreement and a result report stand: the values of `agreements.status` and `reports.status` (the
gauges are labelled with them; tests/unit/test_statuses.py checks the SQL writes no other)."""
from __future__ import annotations

from enum import StrEnum


class AgreementStatus(StrEnum):
    DRAFTED = "drafted"  # C2: waiting for the signatures (C1)
    IN_FORCE = "in-force"  # every party signed; consulting under way
    COMPLETED = "completed"  # the result report accepted (C8)
    GIVEN_UP = "given-up"  # C6
    TERMINATED = "terminated"  # C7


# An agreement that can still change, be given up or be worked under
OPEN = (AgreementStatus.DRAFTED, AgreementStatus.IN_FORCE)


class ReportStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"
