"""Where an application and an X11 re-check stand in screening: the values of `screenings.status` and
`rechecks.status` (the gauges are labelled with them; tests/unit/test_statuses.py checks the SQL writes no other)."""
from __future__ import annotations

from enum import StrEnum

from screening.rules import ScreeningOutcome


class ScreeningStatus(StrEnum):
    SCREENING = "screening"  # the rules are waiting on a registry (or have not run yet)
    SUPPLEMENT_REQUESTED = "supplement-requested"  # E6: documents asked for, with a deadline
    MANUAL_REVIEW = "manual-review"  # an operator's ruling is needed (X4, X6, D3, an unsettled lookup)
    PASSED = "passed"  # ScreeningPassed published
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # by the company, before or during screening


FINAL = (ScreeningStatus.REJECTED, ScreeningStatus.WITHDRAWN)  # nothing changes them any more
DECIDED = (*FINAL, ScreeningStatus.PASSED)  # an amendment, an answer or a ruling no longer reopens them


def status_after(outcome: ScreeningOutcome) -> ScreeningStatus:
    """The application's status once the rules decided `outcome` (still waiting on a registry: screening)."""
    return ScreeningStatus.SCREENING if outcome is ScreeningOutcome.WAITING else ScreeningStatus(outcome.value)


class RecheckStatus(StrEnum):
    WAITING = "waiting"  # on the registries' answers
    MANUAL_REVIEW = "manual-review"
    CLEAR = "clear"
    EXCLUDED = "excluded"


RECHECK_DONE = (RecheckStatus.CLEAR, RecheckStatus.EXCLUDED)
