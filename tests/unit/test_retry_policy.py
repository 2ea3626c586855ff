"""The one retry policy (sme_runtime.retry): exponential, capped, jittered so processes come back apart."""
import random

from hypothesis import given, strategies as st

from sme_runtime.retry import Backoff


@given(first=st.floats(0.01, 5), cap=st.floats(0.01, 60), failures=st.integers(1, 80), seed=st.integers())
def test_each_wait_lies_in_the_upper_half_of_a_doubling_capped_ceiling(first, cap, failures, seed):
    backoff = Backoff(first=first, cap=cap, rng=random.Random(seed))
    for n in range(failures):
        ceiling = min(cap, first * 2 ** n)
        assert ceiling / 2 <= backoff.next_delay() <= ceiling


def test_processes_that_failed_together_retry_at_different_instants():
    waits = [[Backoff(first=0.5, cap=15, rng=random.Random(p)).next_delay() for _ in range(1)] for p in range(9)]
    assert len({round(w[0], 6) for w in waits}) == 9


def test_a_success_starts_the_next_failure_from_the_first_wait():
    backoff = Backoff(first=1, cap=30, rng=random.Random(0))
    for _ in range(6):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() <= 1
