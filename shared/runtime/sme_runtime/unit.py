"""The unit of work a use case runs in: one transaction's store and outbox.

A service's use cases (handlers.py) take a `Unit[TheirStore]` instead of a database session, so they can run on the
real thing (`SqlUnit`: the service's store class over the session, events into the outbox table, both committed
together) or on an in-memory fake of the same type in a unit test (tests/fakes: each fake store is declared a
subclass of the real one, so mypy holds its queries to the real signatures). Reads at the edges (API listings,
gauges) make the same store over their own session."""
from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from sme_runtime.consumer import Collected, collect_until_applied, defer_until_applied
from sme_runtime.outbox import append_to_outbox
from sme_schemas import Envelope, IntegrationEvent

StoreT = TypeVar("StoreT")
StoreT_co = TypeVar("StoreT_co", covariant=True)


class Unit(Protocol[StoreT_co]):
    """What a use case may touch: its service's store (`unit.store.<query>(…)`) and the outbox."""

    @property
    def store(self) -> StoreT_co:
        """The service's queries, inside this unit's transaction."""

    async def publish(self, event: IntegrationEvent, *, topic: str | None = None) -> str:
        """Add the event to the outbox of this transaction; returns its ce_id."""

    async def publish_all(self, events: list[tuple[IntegrationEvent, str | None]]) -> list[str]:
        """Several events (each with its topic override or None) in the order given."""

    def defer(self, key: str, work: Callable[[], Awaitable[object]]) -> None:
        """Run `work` once when the event (or its batch) has been applied, however many events defer `key`."""

    def collect(self, key: str, item: Any, work: Callable[[list[Collected[Any]]], Awaitable[object]]) -> None:
        """Keep `item` under `key`; once the event (or its batch) has been applied, `work` runs once with every
        item kept under `key`, in the order kept, each as a `Collected` with its event's trace: a batch's like
        events handled in one statement."""


# What a service's `on_<event>(deps)` factories return: a use case applying one consumed event on a unit of work
# (the event parameter is each handler's own event class).
EventHandler = Callable[[Unit[StoreT], Envelope, Any], Awaitable[None]]


class SqlUnit(Generic[StoreT]):
    """One database transaction: the service's store over its session, its events into the outbox table."""

    def __init__(self, session: AsyncSession, store: Callable[[AsyncSession], StoreT], *, source: str) -> None:
        self.session, self.source = session, source
        self.store = store(session)

    # The outbox rows are written as the transaction commits, all in one statement (sme_runtime.buffered)
    async def publish(self, event: IntegrationEvent, *, topic: str | None = None) -> str:
        return append_to_outbox(self.session, [(event, topic)], source=self.source)[0]

    async def publish_all(self, events: list[tuple[IntegrationEvent, str | None]]) -> list[str]:
        return append_to_outbox(self.session, events, source=self.source)

    def defer(self, key: str, work: Callable[[], Awaitable[object]]) -> None:
        defer_until_applied(self.session, key, work)

    def collect(self, key: str, item: Any, work: Callable[[list[Collected[Any]]], Awaitable[object]]) -> None:
        collect_until_applied(self.session, key, item, work)


def units(store: Callable[[AsyncSession], StoreT], *, source: str) -> Callable[[AsyncSession], SqlUnit[StoreT]]:
    """A service's maker of its unit of work from a transaction's session: its store class and its CloudEvents
    source (`handlers.unit = units(IntakeStore, source=SOURCE)`)."""
    return lambda session: SqlUnit(session, store, source=source)


def in_unit(handler: Callable[..., Awaitable[None]],
            unit_of: Callable[[AsyncSession], Unit[Any]]) -> Callable[..., Awaitable[None]]:
    """An event handler written against a Unit, as the consumers call it (with the session of the transaction)."""

    async def handle(session: AsyncSession, envelope: Any, event: Any) -> None:
        await handler(unit_of(session), envelope, event)

    functools.update_wrapper(handle, handler)
    answer = getattr(handler, "answers_refusal", None)
    if answer is not None:  # its answer to a refused event, on the same unit of work (sme_runtime.consumer)
        async def answers_refusal(session: AsyncSession, record: Any, event_id: str | None, exc: Exception) -> None:
            await answer(unit_of(session), record, event_id, exc)

        handle.answers_refusal = answers_refusal  # type: ignore[attr-defined]
    return handle
