"""A1: a program's own questions beyond 서식1, and how an answer is judged."""
from __future__ import annotations

from datetime import date
from typing import Iterable, Literal, Mapping

from pydantic import Field, model_validator

from sme_schemas.base import Contract
from sme_schemas.values import ShortText


def yes_no_or_number_problem(kind: str, value: object) -> str | None:
    """Why `value` is no answer of a yes-no, count or KRW question (None: it is, or the kind is another); shared
    by the application's questions (A1) and the outcome reports' (M1)."""
    if kind == "yes-no" and not isinstance(value, bool):
        return "true or false"
    if kind in ("count", "amount-krw") and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        return "a whole number, 0 or more" + (" (KRW)" if kind == "amount-krw" else "")
    return None


class ApplicationField(Contract):
    """A1: a question of the program's own application form, beyond 서식1 (e.g. a sandbox pilot's 규제특례 지정
    여부); answered in the application's `program_fields` under `code`."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$")
    title: ShortText = Field(description="The question as the form asks it")
    kind: Literal["yes-no", "count", "amount-krw", "text", "date", "choice"]
    required: bool = True
    choices: tuple[ShortText, ...] = Field((), description="kind choice: the answers allowed")

    @model_validator(mode="after")
    def _choices_for_a_choice(self) -> "ApplicationField":
        if (self.kind == "choice") != bool(self.choices):
            raise ValueError(f"{self.code}: choices are given for a choice, and only for a choice")
        return self

    def problem(self, value: object) -> str | None:
        """Why `value` does not answer this question (None: it does)."""
        if (why := yes_no_or_number_problem(self.kind, value)) is not None:
            return why
        if self.kind in ("text", "choice", "date") and not isinstance(value, str):
            return "text"
        if self.kind == "text" and isinstance(value, str) and (not value.strip() or "\x00" in value):
            return "text, not empty"
        if self.kind == "choice" and value not in self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind == "date":
            try:
                date.fromisoformat(str(value))
            except ValueError:
                return "a date, YYYY-MM-DD"
        return None


def program_field_problems(fields: "Iterable[ApplicationField]", answers: "Mapping[str, object]") -> list[
        tuple[str, str]]:
    """A1: (field path, why) for every required question unanswered, answer of the wrong kind, or answer to no
    question of the program."""
    fields = tuple(fields)
    known = {f.code for f in fields}
    problems = [(f"program_fields.{code}", "no such question in this program") for code in answers
                if code not in known]
    for f in fields:
        if f.code not in answers:
            if f.required:
                problems.append((f"program_fields.{f.code}", f"{f.title}: required by this program"))
        elif (why := f.problem(answers[f.code])) is not None:
            problems.append((f"program_fields.{f.code}", f"{f.title}: {why}"))
    return problems
