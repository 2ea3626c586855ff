"""Circuit breaker for one registry: stop calling a registry that keeps failing, probe it now and then, and
close again on the first success. Pure state machine; the clock is passed in so tests control time."""
from __future__ import annotations

import time
from enum import StrEnum
from typing import Callable


class CircuitState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls are held back until the reset period has passed
    HALF_OPEN = "half-open"  # one probe call decides: success closes, failure opens again

    @property
    def gauge(self) -> int:
        """For the Prometheus gauge: 0 closed, 1 half-open, 2 open."""
        return {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}[self]


class CircuitBreaker:
    def __init__(self, *, failure_threshold: int, reset_seconds: float,
                 clock: Callable[[], float] = time.monotonic,
                 on_change: Callable[[CircuitState, CircuitState], None] | None = None) -> None:
        if failure_threshold < 1 or reset_seconds <= 0:
            raise ValueError("failure_threshold >= 1 and reset_seconds > 0")
        self.failure_threshold, self.reset_seconds, self.clock = failure_threshold, reset_seconds, clock
        self.on_change = on_change
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self.opened_count = 0  # times it opened, for operators and tests

    @property
    def state(self) -> CircuitState:
        if self._state is CircuitState.OPEN and self.clock() >= self._opened_at + self.reset_seconds:
            self._move(CircuitState.HALF_OPEN)
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def wait_seconds(self) -> float:
        """How long a caller must hold back before its call may go out (0: now)."""
        if self.state is CircuitState.OPEN:
            return max(0.0, self._opened_at + self.reset_seconds - self.clock())
        return 0.0

    def record_success(self) -> None:
        self._failures = 0
        if self._state is not CircuitState.CLOSED:
            self._move(CircuitState.CLOSED)

    def record_failure(self) -> None:
        self._failures += 1
        # A failed probe reopens at once; a closed circuit opens after `failure_threshold` failures in a row.
        if self.state is CircuitState.HALF_OPEN or self._failures >= self.failure_threshold:
            self._opened_at = self.clock()
            if self._state is not CircuitState.OPEN:
                self.opened_count += 1
                self._move(CircuitState.OPEN)

    def _move(self, new: CircuitState) -> None:
        old, self._state = self._state, new
        if self.on_change:
            self.on_change(old, new)
