"""The audit trail each service keeps: who did what, when, about which of its subjects (an application, a round, an
agreement, a payment). One table shape in every service — `audit (id, <subject columns>, at, actor, action,
detail)` — written and read here, so the four services no longer carry four copies of its statements (issue 29).

The trail is only ever appended to: a transaction's rows go in together as it commits, with one statement
(sme_runtime.buffered), and a rollback drops them with the state they describe."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from sme_runtime.buffered import AppendOnly, append, write_pending
from sme_runtime.db import as_json
from sme_runtime.rows import JsonObject, columns, every

_WHAT = (("at", "timestamptz"), ("actor", "text"), ("action", "text"), ("detail", "jsonb"))


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One line of a trail: when, who (rules, operator:<subject>, system), what, and its detail."""

    at: datetime
    actor: str
    action: str
    detail: JsonObject | None


@dataclass(frozen=True)
class AuditTrail:
    """A service's `audit` table, named by the columns that say what each line is about (its subjects)."""

    subjects: tuple[str, ...]
    table: str = "audit"

    @cached_property
    def _rows(self) -> AppendOnly:
        return AppendOnly(self.table, tuple((subject, "text") for subject in self.subjects) + _WHAT)

    def append(self, session: AsyncSession, *, at: datetime, actor: str, action: str,
               detail: dict[str, Any] | None = None, **subjects: str | None) -> None:
        """One line, written as the transaction commits. A subject the table has no column for is a programming
        error, refused here rather than lost."""
        self._known(subjects)
        append(session, self._rows, {**{s: subjects.get(s) for s in self.subjects}, "at": at, "actor": actor,
                                     "action": action,
                                     "detail": None if detail is None else as_json(detail)})

    async def of(self, session: AsyncSession, subject: str, value: str) -> list[AuditLine]:
        """Every line about `value` in the `subject` column, oldest first, the lines this transaction appended
        included."""
        self._known({subject: value})
        await write_pending(session, self._rows)
        return every(AuditLine, await session.execute(
            text(f"SELECT {columns(AuditLine)} FROM {self.table} WHERE {subject} = :value ORDER BY id"),
            {"value": value}))

    def _known(self, subjects: dict[str, str | None]) -> None:
        unknown = sorted(set(subjects) - set(self.subjects))
        if unknown:
            raise TypeError(f"the {self.table} table has no subject column {', '.join(unknown)} "
                            f"(its subjects: {', '.join(self.subjects)})")
