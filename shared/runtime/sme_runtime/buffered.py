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


@dataclass(frozen=True)
class AppendOnly:
    """A table a transaction appends to: `sql` inserts arrays named after `columns` (`:<column>`), in order."""

    name: str
    columns: tuple[str, ...]
    sql: str


def append(session: AsyncSession | Session, table: AppendOnly, row: dict[str, object]) -> None:
    session.info.setdefault(PENDING, {}).setdefault(table, []).append(row)


def pending(session: AsyncSession | Session, table: AppendOnly) -> list[dict[str, object]]:
    """Rows appended and not yet written (for a test, or a read that must see this transaction's own rows)."""
    return list(session.info.get(PENDING, {}).get(table, ()))


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    # Runs inside the async session's greenlet, so the synchronous execute is the async driver underneath.
    tables = session.info.pop(PENDING, None)
    for table, rows in (tables or {}).items():
        session.execute(text(table.sql), {column: [row[column] for row in rows] for column in table.columns})


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING, None)
