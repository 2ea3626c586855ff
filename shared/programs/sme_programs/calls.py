"""K1/K2, A3: when a program takes applications — its window, its calls, a rolling call's rounds."""
from __future__ import annotations

from datetime import date, timedelta

from pydantic import Field, model_validator

from sme_schemas.base import Contract
from sme_schemas.periods import end_of_day, local_date
from sme_schemas.values import Krw, ShortText, UtcInstant


class ApplicationWindow(Contract):
    opens_at: UtcInstant = Field(description="First instant applications are accepted (A3)")
    closes_at: UtcInstant = Field(description="Last instant applications are accepted (A3)")

    @model_validator(mode="after")
    def _ordered(self) -> "ApplicationWindow":
        if self.closes_at <= self.opens_at:
            raise ValueError("application window closes before it opens")
        return self


CallId = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,30}$", description="The call's key, e.g. h1, 2026-04")


class Call(Contract):
    """K1: one call of a program (모집 공고 차수) — its own window and its own share of the budget; applications
    belong to the call open when they were submitted, and are selected within its share."""

    call_id: str = CallId
    title: ShortText = Field(description="e.g. 상반기 모집")
    window: ApplicationWindow
    budget: Krw = Field(description="This call's share of the program's budget (F4 within it)")


class RollingCall(Contract):
    """K2: a rolling call (수시 모집): one long window cut into rounds on the given days (each round takes what was
    submitted up to the end of its day, KST), each round with the same budget share."""

    window: ApplicationWindow
    cut_on: tuple[date, ...] = Field(min_length=1, description="The last day of each round but the last, which "
                                                               "ends with the window")
    budget_per_round: Krw

    @model_validator(mode="after")
    def _cuts_inside(self) -> "RollingCall":
        cuts = list(self.cut_on)
        if cuts != sorted(set(cuts)):
            raise ValueError("cut_on: each day once, in order")
        first, last = local_date(self.window.opens_at), local_date(self.window.closes_at)
        if not (first <= cuts[0] and cuts[-1] < last):
            raise ValueError(f"cut_on: every cut inside the window, before its last day {last}")
        return self

    def calls(self) -> tuple[Call, ...]:
        ends = [end_of_day(d) for d in self.cut_on] + [self.window.closes_at]
        starts = [self.window.opens_at] + [e + timedelta(microseconds=1) for e in ends[:-1]]
        return tuple(Call(call_id=f"r{n + 1}", title=f"수시 모집 {n + 1}차", budget=self.budget_per_round,
                          window=ApplicationWindow(opens_at=s, closes_at=e))
                     for n, (s, e) in enumerate(zip(starts, ends)))
