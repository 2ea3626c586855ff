"""The registry circuit breaker: opens after failures in a row, holds calls back, probes once, closes on success."""
from hypothesis import given, strategies as st

import pytest

from screening.lookup.circuit import CircuitBreaker, CircuitState


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(threshold: int = 3, reset: float = 10.0):
    clock, changes = Clock(), []
    b = CircuitBreaker(failure_threshold=threshold, reset_seconds=reset, clock=clock,
                       on_change=lambda old, new: changes.append((old.value, new.value)))
    return b, clock, changes


def test_opens_after_threshold_failures_in_a_row_and_not_before():
    b, _, _ = breaker(threshold=3)
    b.record_failure(), b.record_failure()
    assert b.state is CircuitState.CLOSED and b.wait_seconds() == 0
    b.record_failure()
    assert b.state is CircuitState.OPEN and b.wait_seconds() == pytest.approx(10.0)


def test_a_success_resets_the_count_of_failures():
    b, _, _ = breaker(threshold=3)
    b.record_failure(), b.record_failure(), b.record_success(), b.record_failure(), b.record_failure()
    assert b.state is CircuitState.CLOSED


def test_open_holds_back_until_the_reset_period_then_one_probe_decides():
    b, clock, changes = breaker(threshold=1, reset=10)
    b.record_failure()
    clock.now += 9.999
    assert b.state is CircuitState.OPEN and b.wait_seconds() == pytest.approx(0.001)
    clock.now += 0.001
    assert b.state is CircuitState.HALF_OPEN and b.wait_seconds() == 0
    b.record_failure()  # the probe failed: open again, for a whole new period
    assert b.state is CircuitState.OPEN and b.wait_seconds() == pytest.approx(10.0)
    clock.now += 10
    assert b.state is CircuitState.HALF_OPEN
    b.record_success()
    assert b.state is CircuitState.CLOSED
    assert changes == [("closed", "open"), ("open", "half-open"), ("half-open", "open"), ("open", "half-open"),
                       ("half-open", "closed")]
    assert b.opened_count == 2


def test_a_failed_probe_reopens_even_below_the_threshold():
    b, clock, _ = breaker(threshold=5, reset=1)
    for _ in range(5):
        b.record_failure()
    clock.now += 1
    assert b.state is CircuitState.HALF_OPEN
    b.record_success()
    b.record_failure()  # closed again: one failure is not enough to reopen
    assert b.state is CircuitState.CLOSED


def test_settings_are_checked():
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0, reset_seconds=1)
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=1, reset_seconds=0)


@given(st.lists(st.sampled_from(["ok", "fail", "tick"]), max_size=60), st.integers(1, 5))
def test_state_always_matches_the_history(events, threshold):
    b, clock, _ = breaker(threshold=threshold, reset=5)
    in_row = 0
    for e in events:
        if e == "tick":
            clock.now += 2.5
        elif e == "ok":
            b.record_success()
            in_row = 0
            assert b.state is CircuitState.CLOSED
        else:
            was = b.state
            b.record_failure()
            in_row += 1
            if was is CircuitState.HALF_OPEN or in_row >= threshold:
                assert b.state is CircuitState.OPEN
        assert (b.wait_seconds() > 0) == (b.state is CircuitState.OPEN)
