"""A rule broken by a request or an event; pure, so domain code can return it without importing a web framework."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


class RuleViolation(Exception):
    """A request that breaks one or more rules; nothing was written."""

    def __init__(self, *problems: Problem, status_code: int = 422) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message} ({p.rule})" for p in problems))
        self.problems, self.status_code = problems, status_code
