"""Typed rows (issue 29): what a store reads comes back as a frozen dataclass of the columns its query selects, so
mypy and go-to-definition follow a column from the SQL to every handler and route that reads it.

A store builds its SELECT list from the row class (`columns(PaymentRow)`), so the query and the class cannot drift
apart; a row is made by column name, so a query that selects a column the class lacks (or misses one it has)
fails on its first run, naming the column, instead of handing a handler a shape nobody checked."""
from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

RowT = TypeVar("RowT")

# A jsonb column as asyncpg gives it back through SQLAlchemy: an object decoded from JSON.
JsonObject = dict[str, Any]


def columns(model: type[DataclassInstance], table: str | None = None) -> str:
    """The row class's fields as a SELECT list, qualified by `table` (or its alias) in a join."""
    prefix = f"{table}." if table else ""
    return ", ".join(prefix + f.name for f in fields(model))


def first(model: Callable[..., RowT], result: Result[Any]) -> RowT | None:
    """The query's first row as `model` (None: no row)."""
    row = result.first()
    return None if row is None else model(**row._mapping)


def every(model: Callable[..., RowT], result: Result[Any]) -> list[RowT]:
    """Every row of the query as `model`, in the query's order."""
    return [model(**row._mapping) for row in result]


def known(row: RowT | None, what: str) -> RowT:
    """A row the caller knows is there (its own transaction just wrote it, or its own rows name it): its absence is
    a bug, raised as one naming `what`, not a None for the caller to trip over."""
    if row is None:
        raise LookupError(f"{what} is not there")
    return row


async def select_one(session: AsyncSession, model: Callable[..., RowT], sql: str, **params: Any) -> RowT | None:
    return first(model, await session.execute(text(sql), params))


async def select_all(session: AsyncSession, model: Callable[..., RowT], sql: str, **params: Any) -> list[RowT]:
    return every(model, await session.execute(text(sql), params))


async def returns_row(session: AsyncSession, sql: str, **params: Any) -> bool:
    """Whether the statement returned a row: an INSERT … ON CONFLICT DO NOTHING RETURNING 1 that wrote one."""
    return (await session.execute(text(sql), params)).first() is not None
