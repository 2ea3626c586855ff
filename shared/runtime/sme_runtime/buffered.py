"""Rows a transaction only appends and never reads back — its outbox events, its audit trail — written in one
statement per table as it commits, instead of one statement per row (issue 28: a batch of screening decisions
wrote an outbox row and an audit row per application, each its own round trip).

`append(session, table, row)` keeps the row in the session; just before the transaction commits, every table's
rows go in with one `INSERT … SELECT … FROM unnest(…)` in the order they were appended, so the outbox's ids
keep the order the events were published in. A rollback drops them with the rest of the transaction. Nothing is
lost or reordered: the rows are part of the same transaction as the state they describe, as before.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

PENDING = "sme_append_only_rows"


_SENT_AS_TEXT = ("jsonb", "uuid")  # sent as text arrays, cast in the statement


@dataclass(frozen=True)
class AppendOnly:
    """A table a transaction only appends to, and the columns it writes with their SQL types; a row is a dict by
    column. Its rows go in with one `INSERT … SELECT … FROM unnest(…) WITH ORDINALITY … ORDER BY n`."""

    table: str
    columns: tuple[tuple[str, str], ...]

    @property
    def sql(self) -> str:
        names = [column for column, _ in self.columns]
        arrays = ", ".join(f"CAST(:{column} AS {'text' if kind in _SENT_AS_TEXT else kind}[])"
                           for column, kind in self.columns)
        values = ", ".join(f"CAST(x.{column} AS {kind})" if kind in _SENT_AS_TEXT else f"x.{column}"
                           for column, kind in self.columns)
        return (f"INSERT INTO {self.table} ({', '.join(names)}) SELECT {values} FROM unnest({arrays}) "
                f"WITH ORDINALITY AS x({', '.join(names)}, n) ORDER BY x.n")


def append(session: AsyncSession | Session, table: AppendOnly, row: dict[str, object]) -> None:
    session.info.setdefault(PENDING, {}).setdefault(table, []).append(row)


async def write_pending(session: AsyncSession, table: AppendOnly) -> None:
    """The table's rows appended so far, written now: a transaction that reads back what it appended (a route that
    answers with the audit trail it just added to) sees them. Rows appended later still go in at the commit,
    after these, so the order holds."""
    rows = session.info.get(PENDING, {}).pop(table, None)
    if rows:
        await session.execute(text(table.sql), {column: [row[column] for row in rows] for column, _ in table.columns})


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    # Runs inside the async session's greenlet, so the synchronous execute is the async driver underneath.
    tables = session.info.pop(PENDING, None)
    for table, rows in (tables or {}).items():
        session.execute(text(table.sql), {column: [row[column] for row in rows] for column, _ in table.columns})


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING, None)
