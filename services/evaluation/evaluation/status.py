"""Where an application and a round stand in evaluation: the values of `candidates.status` and `rounds.status`
(the gauges are labelled with them; tests/unit/test_statuses.py checks the SQL writes no other)."""
from __future__ import annotations

from enum import StrEnum


class CandidateStatus(StrEnum):
    AWAITING_ROUND = "awaiting-round"  # passed screening; no round of its call (K1) open yet
    IN_ROUND = "in-round"  # in the open round, being scored
    BELOW_PASS_MARK = "below-pass-mark"  # F2, at the round's close
    WAITLISTED = "waitlisted"  # passed, the budget ran out (F4); may move up (F5)
    RECHECKING = "rechecking"  # selected; screening's X11 re-check asked before anyone is told
    SELECTED = "selected"  # re-check clear, the company told (ApplicationSelected)
    EXCLUDED = "excluded"  # the X11 re-check excluded it
    RELEASED = "released"  # given up (C6) or terminated (C7) after it was selected or waitlisted


# F4: whose planned subsidy is spoken for; F5: who can no longer leave (nothing to free)
COMMITTED = (CandidateStatus.RECHECKING, CandidateStatus.SELECTED)
GONE = (CandidateStatus.RELEASED, CandidateStatus.EXCLUDED, CandidateStatus.BELOW_PASS_MARK)


class RoundStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
