"""The in-memory unit of work, the clock and the rows every fake store shares."""
from __future__ import annotations

import asyncio
import copy
import itertools
import json
import uuid
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from types import SimpleNamespace
from dataclasses import fields
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Generic, Iterable, NoReturn, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

from sme_runtime.consumer import Collected
from sme_runtime.db import as_json
from sme_runtime.unit import StoreT
from sme_schemas import IntegrationEvent, wrap
from sme_schemas.examples import EXAMPLES
from sme_programs import load_programs

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

PROGRAMS = load_programs(str(Path(__file__).resolve().parents[2] / "deploy/programs"))  # every deployed program


def run(coroutine):
    """A use case run to its end (each test is synchronous; the use cases are coroutines)."""
    return asyncio.run(coroutine)


RowT = TypeVar("RowT", bound="DataclassInstance")


class _NoDatabase:
    """The session of an in-memory store: only a query its fake does not answer reaches it, and fails naming that."""

    def __getattr__(self, name: str) -> NoReturn:
        raise NotImplementedError(f"an in-memory store reached its database (session.{name}): the query that did is "
                                  "not faked; fake it in tests/fakes")


def no_database() -> AsyncSession:
    return cast(AsyncSession, _NoDatabase())


class FakeUnit(Generic[StoreT]):
    """A unit of work whose store is in memory and whose outbox is a list (`published`)."""

    def __init__(self, store: StoreT) -> None:
        self.store = store
        self.published: list[tuple[IntegrationEvent, str | None]] = []
        self._deferred: dict[str, Callable[[], Awaitable[object]]] = {}
        self._collected: dict[str, list[Any]] = {}

    async def publish(self, event: IntegrationEvent, *, topic: str | None = None) -> str:
        self.published.append((event, topic))
        return str(uuid.uuid4())

    async def publish_all(self, events: list[tuple[IntegrationEvent, str | None]]) -> list[str]:
        return [await self.publish(event, topic=topic) for event, topic in events]

    def defer(self, key: str, work: Callable[[], Awaitable[object]]) -> None:
        self._deferred[key] = work

    def collect(self, key: str, item: Any, work: Callable[[list[Collected[Any]]], Awaitable[object]]) -> None:
        self._collected.setdefault(key, []).append(Collected(item))
        self.defer(f"collected:{key}", lambda: work(self._collected.pop(key)))

    async def applied(self) -> None:
        """What the consumer does as the event's transaction ends: each deferred piece of work, once."""
        while self._deferred:
            work, self._deferred = self._deferred, {}
            for step in work.values():
                await step()

    def events(self, kind: type | None = None) -> list[Any]:
        return [e for e, _ in self.published if kind is None or isinstance(e, kind)]

    def take(self, kind: type | None = None) -> list[Any]:
        """The events published so far (of `kind`), forgetting all of them."""
        taken = self.events(kind)
        self.published.clear()
        return taken


async def consume(handler: Callable[..., Awaitable[None]], uow: FakeUnit, event: IntegrationEvent) -> None:
    """Deliver one event as the reliable consumer does: in its envelope, then the deferred work."""
    envelope = wrap(event, source="/sme/test", event_id=str(uuid.uuid4()))
    await handler(uow, envelope, event)
    await uow.applied()


def example(kind: Any, **changes: Any) -> Any:
    """The catalog's canonical example of an event (sme_schemas.examples), with `changes` on top."""
    return kind.model_validate({**EXAMPLES[kind.__name__], **changes})


class Clock:
    """A settable UTC clock; each reading is a microsecond later, as real instants are."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def jsonb(value: Any) -> Any:
    """What a jsonb column gives back: the value through JSON (dates and decimals as strings)."""
    return None if value is None else json.loads(as_json(value))


def _column(value: Any) -> Any:
    return str(value) if isinstance(value, StrEnum) else value  # a status enum is stored as its text


def row(**columns: Any) -> SimpleNamespace:
    """A stored row: its columns as the database gives them back."""
    return SimpleNamespace(**{name: _column(value) for name, value in columns.items()})


def update(record: SimpleNamespace, **columns: Any) -> None:
    """UPDATE … SET columns on one stored row."""
    vars(record).update({name: _column(value) for name, value in columns.items()})


def read(model: type[RowT], record: SimpleNamespace | None) -> RowT | None:
    """A stored row as the store's query returns it: the row class's columns, copied so that later updates do not
    change it; a column the fake never stored fails here, naming it, as the real query would."""
    if record is None:
        return None
    make = cast(Callable[..., RowT], model)
    return make(**{f.name: copy.deepcopy(getattr(record, f.name)) for f in fields(model)})


def read_all(model: type[RowT], records: Iterable[SimpleNamespace]) -> list[RowT]:
    return [cast(RowT, read(model, record)) for record in records]


SERIAL = itertools.count(1)
