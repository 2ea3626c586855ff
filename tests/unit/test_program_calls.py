"""K1/K2: a program of several calls, or a rolling call cut into rounds by date — each application belongs to the
call open when it was submitted, is refused between calls (A3), and is selected within its call's share."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from pydantic import ValidationError

from evaluation.handlers import call_of
from intake.domain import window_problem
from sme_schemas.periods import KST, local_date
from sme_programs import ProgramDefinition

SOS = json.loads((Path(__file__).resolve().parents[2] / "deploy/programs/gimpo-sos-2024.json").read_text("utf-8"))


def kst(day: str, hour: int = 0) -> str:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), KST).replace(hour=hour).isoformat()


HALVES = {"window": {"opens_at": kst("2024-03-01", 9), "closes_at": kst("2024-09-30", 18)},
          "calls": [{"call_id": "h1", "title": "상반기 모집", "budget": 60_000_000,
                     "window": {"opens_at": kst("2024-03-01", 9), "closes_at": kst("2024-03-29", 18)}},
                    {"call_id": "h2", "title": "하반기 모집", "budget": 40_000_000,
                     "window": {"opens_at": kst("2024-09-02", 9), "closes_at": kst("2024-09-30", 18)}}]}
ROLLING = {"window": {"opens_at": kst("2024-03-01", 9), "closes_at": kst("2024-06-28", 18)},
           "rolling": {"window": {"opens_at": kst("2024-03-01", 9), "closes_at": kst("2024-06-28", 18)},
                       "cut_on": ["2024-03-31", "2024-04-30", "2024-05-31"], "budget_per_round": 25_000_000}}


def program(**changes) -> ProgramDefinition:
    return ProgramDefinition.model_validate({**SOS, **changes})


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(kst(day, hour)).replace(minute=minute).astimezone(timezone.utc)


def test_k1_without_calls_the_program_is_one_call_of_its_window_and_budget():
    p = program()
    [call] = p.program_calls()
    assert (call.call_id, call.budget, call.window) == ("main", 100_000_000, p.window)


@pytest.mark.parametrize("when, call", [
    (at("2024-03-01", 9), "h1"), (at("2024-03-29", 18), "h1"),            # both ends belong to the call
    (at("2024-03-29", 18, 1), None), (at("2024-09-02", 8, 59), None),     # between the calls
    (at("2024-09-02", 9), "h2"), (at("2024-09-30", 18), "h2"),
])
def test_k1_an_application_belongs_to_the_call_open_when_it_was_submitted(when, call):
    p = program(**HALVES)
    assert (p.call_at(when).call_id if p.call_at(when) else None) == call
    problem = window_problem(p, when)
    assert (problem is None) == (call is not None)
    if problem is not None:
        assert (problem.field, problem.rule) == ("submitted_at", "A3")
        assert "no call of gimpo-sos-2024 is open" in problem.message and "하반기 모집" in problem.message


def test_k1_a_late_entry_between_calls_is_scored_with_the_last_call_that_opened():
    p = program(**HALVES)
    assert call_of(p, at("2024-05-01", 10)) == "h1"
    assert call_of(p, at("2024-10-05", 10)) == "h2"
    assert call_of(p, at("2024-02-01", 10)) == "h1"


@pytest.mark.parametrize("change, named", [
    ({"calls": [HALVES["calls"][0], {**HALVES["calls"][1], "window": HALVES["calls"][0]["window"]}]}, "overlap"),
    ({"calls": [HALVES["calls"][0], {**HALVES["calls"][1], "call_id": "h1"}]}, "call ids must be unique"),
    ({"calls": [HALVES["calls"][0], {**HALVES["calls"][1], "budget": 40_000_001}]},
     "add up to 100,000,001 KRW, more than the budget 100,000,000 KRW"),
    ({"calls": [{**HALVES["calls"][0], "window": {"opens_at": kst("2024-02-28", 9),
                                                  "closes_at": kst("2024-03-29", 18)}}]},
     "h1's window is not inside the program's window"),
    ({"rolling": ROLLING["rolling"]}, "calls or a rolling call, not both"),
])
def test_k1_malformed_calls_are_refused_naming_the_field(change, named):
    with pytest.raises(ValidationError, match=named):
        program(**{**HALVES, **change})


def test_k2_a_rolling_call_is_cut_into_rounds_at_the_end_of_each_cut_day():
    rounds = program(**ROLLING).program_calls()
    assert [(c.call_id, c.budget) for c in rounds] == [("r1", 25_000_000), ("r2", 25_000_000), ("r3", 25_000_000),
                                                        ("r4", 25_000_000)]
    assert [local_date(c.window.closes_at) for c in rounds] == [date(2024, 3, 31), date(2024, 4, 30),
                                                                 date(2024, 5, 31), date(2024, 6, 28)]
    p = program(**ROLLING)
    assert p.call_at(at("2024-03-31", 23, 59)).call_id == "r1"   # the last minute of the cut day, KST
    assert p.call_at(at("2024-04-01", 0, 0)).call_id == "r2"


@given(st.datetimes(datetime(2024, 3, 1, 0, 0), datetime(2024, 6, 28, 8, 59)).map(
    lambda d: d.replace(tzinfo=timezone.utc)))
def test_k2_every_instant_of_a_rolling_window_belongs_to_exactly_one_round(when):
    p = program(**ROLLING)
    inside = [c for c in p.program_calls() if c.window.opens_at <= when <= c.window.closes_at]
    assert len(inside) == (1 if p.window.opens_at <= when <= p.window.closes_at else 0)


@pytest.mark.parametrize("cuts, named", [
    (["2024-04-30", "2024-03-31"], "cut_on: each day once, in order"),
    (["2024-06-28"], "every cut inside the window"),
    (["2024-02-28"], "every cut inside the window"),
])
def test_k2_cuts_outside_the_window_or_out_of_order_are_refused(cuts, named):
    with pytest.raises(ValidationError, match=named):
        program(**{**ROLLING, "rolling": {**ROLLING["rolling"], "cut_on": cuts}})


def test_k2_the_rounds_budgets_must_fit_the_program():
    with pytest.raises(ValidationError, match="add up to 100,000,004 KRW"):
        program(**{**ROLLING, "rolling": {**ROLLING["rolling"], "budget_per_round": 25_000_001}})


def test_k_the_windows_are_korean_days():
    rounds = program(**ROLLING).program_calls()
    assert rounds[1].window.opens_at - rounds[0].window.closes_at == timedelta(microseconds=1)
