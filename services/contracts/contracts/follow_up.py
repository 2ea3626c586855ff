"""사후관리 (M1–M3), pure: what a company owes after its result report was accepted, whether its answers are
complete, when the center is reminded, and the program's report.

M1 From the day the report is accepted the company owes the satisfaction survey (within `survey_within_days`)
   and an outcome report at each of `outcome_reports_after_months` (a year at most). Answers follow the program's
   questions: 1–5 per survey item; per outcome question yes/no, a count, KRW or text; a question that `requires`
   another is yes or above zero only when that one is yes (won requires applied). A late answer is still taken.
M2 A reminder `remind_days_before` the due date and another the day after it passed, each once, as events.
M3 The report per program: owed, answered, overdue per obligation; the mean of each survey item; per outcome
   report the yes answers, counts and amounts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterable, Literal

from sme_runtime.problems import Problem
from sme_schemas.periods import WorkingCalendar
from sme_programs import FollowUp, yes_no_or_number_problem

SURVEY = "survey"
Answer = bool | int | str
Reminder = Literal["due-soon", "overdue"]


def outcome_kind(months: int) -> str:
    return f"outcome-{months}m"


def obligations(terms: FollowUp, accepted_on: date, calendar: WorkingCalendar) -> list[tuple[str, date]]:
    """M1: (kind, due date) of everything owed once the report was accepted on `accepted_on` (KST), each period
    counted as the law counts it (민법 제157조, 제160조: 6 months from 31 Aug end on 28 Feb) and a last day on a
    weekend or holiday moved to the next working day (제161조)."""
    owed = [(SURVEY, calendar.due_date(accepted_on, days=terms.survey_within_days))]
    return owed + [(outcome_kind(m), calendar.due_date(accepted_on, months=m))
                   for m in terms.outcome_reports_after_months]


def answer_problems(terms: FollowUp, kind: str, answers: dict[str, Answer]) -> list[Problem]:
    """M1: every question answered in its kind, nothing else; each problem names `answers.<code>`."""
    if kind == SURVEY:
        return _survey_problems(terms, answers)
    if kind not in {outcome_kind(m) for m in terms.outcome_reports_after_months}:
        return [Problem("kind", "M1", f"{kind!r} is not owed in this program: survey or "
                        + ", ".join(outcome_kind(m) for m in terms.outcome_reports_after_months))]
    return _outcome_problems(terms, answers)


def _unknown(codes: Iterable[str], answers: dict[str, Answer]) -> list[Problem]:
    known = set(codes)
    return [Problem(f"answers.{code}", "M1", "no such question in this program") for code in answers
            if code not in known]


def _survey_problems(terms: FollowUp, answers: dict[str, Answer]) -> list[Problem]:
    problems = _unknown((i.code for i in terms.survey_items), answers)
    for item in terms.survey_items:
        value = answers.get(item.code)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            problems.append(Problem(f"answers.{item.code}", "M1", f"{item.title}: 1 (매우 불만족) to 5 (매우 만족)"))
    return problems


def _outcome_problems(terms: FollowUp, answers: dict[str, Answer]) -> list[Problem]:
    problems = _unknown((q.code for q in terms.outcome_questions), answers)
    for q in terms.outcome_questions:
        value, where = answers.get(q.code), f"answers.{q.code}"
        if (why := yes_no_or_number_problem(q.kind, value)) is not None:
            problems.append(Problem(where, "M1", f"{q.title}: {why}"))
        elif q.kind == "text" and not (isinstance(value, str) and len(value) <= 2000):
            problems.append(Problem(where, "M1", f"{q.title}: text of at most 2,000 characters (may be empty)"))
        elif q.requires and value and answers.get(q.requires) is not True:
            problems.append(Problem(where, "M1", f"{q.title}: only with {q.requires} answered yes"))
    return problems


def reminder_due(due_on: date, today: date, terms: FollowUp, *, answered: bool, reminded_soon: bool,
                 reminded_overdue: bool) -> Reminder | None:
    """M2: which reminder, if any, is owed today for an obligation: overdue from the day after the due date,
    due-soon from `remind_days_before` before it (skipped once it is overdue)."""
    if answered:
        return None
    if today > due_on:
        return None if reminded_overdue else "overdue"
    if today >= due_on - timedelta(days=terms.remind_days_before) and not reminded_soon:
        return "due-soon"
    return None


@dataclass(frozen=True)
class Obligation:
    kind: str
    due_on: date
    answers: dict[str, Answer] | None


def report(terms: FollowUp, owed: list[Obligation], today: date) -> dict[str, Any]:
    """M3: per obligation kind, owed / answered / overdue; the survey's mean per item (two decimals, as the
    center reports it); each outcome report's yes answers, and totals of counts and amounts."""
    kinds = [SURVEY, *(outcome_kind(m) for m in terms.outcome_reports_after_months)]
    out: dict[str, Any] = {}
    for kind in kinds:
        rows = [o for o in owed if o.kind == kind]
        answered = [o.answers for o in rows if o.answers is not None]
        line: dict[str, Any] = {"owed": len(rows), "answered": len(answered),
                                "overdue": sum(1 for o in rows if o.answers is None and today > o.due_on)}
        if kind == SURVEY:
            line["mean"] = {i.code: _mean([int(a[i.code]) for a in answered]) for i in terms.survey_items}
        else:
            line["answers"] = {q.code: _tally(q.kind, [a[q.code] for a in answered]) for q in terms.outcome_questions
                               if q.kind != "text"}
        out[kind] = line
    return out


def _mean(values: list[int]) -> str | None:
    if not values:
        return None
    hundredths = (sum(values) * 100 * 2 + len(values)) // (2 * len(values))  # half up, in integers
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def _tally(kind: str, values: list[Answer]) -> int:
    """yes-no: how many answered yes; a count or an amount: the sum."""
    if kind == "yes-no":
        return sum(1 for v in values if v is True)
    return sum(int(v) for v in values)
