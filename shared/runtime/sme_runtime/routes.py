"""What a route is given (issue 29): its database session — read-only, or one transaction committed before the
answer leaves — and what the service set up at start, each typed, through FastAPI dependencies. Routes never
reach into `request.app.state` themselves, so every route reads its store and writes through its unit of work
the one way the use cases do.

A writing route's transaction commits when the route returns and BEFORE the response is sent (`scope="function"`):
a client is never told "done" of a change that then failed to commit — the commit's error is the answer instead —
and a route that raises rolls everything back."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Annotated, AsyncIterator, Awaitable, Callable, Generic, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")


def state_of(request: Request, name: str, kind: type[T]) -> T:
    """What the service put on app.state as `name` at start-up, checked to be a `kind`."""
    value = getattr(request.app.state, name)
    if not isinstance(value, kind):
        raise TypeError(f"app.state.{name} is a {type(value).__name__}, not a {kind.__name__}")
    return value


# Every dependency here is `async def`: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per
# dependency per request (7% of intake's throughput, three per submission, measured A/B).

def started(name: str, kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency giving what the service put on app.state as `name` at start-up (state_of)."""

    async def dependency(request: Request) -> T:
        return state_of(request, name, kind)

    dependency.__name__ = f"started_{name}"
    return dependency


def _sessions_of(request: Request) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = state_of(request, "sessions", async_sessionmaker)
    return sessions


async def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return _sessions_of(request)


async def _reading(sessions: Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]
                   ) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


async def _writing(sessions: Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]
                   ) -> AsyncIterator[AsyncSession]:
    async with sessions() as session, session.begin():
        yield session


# The session factory itself, for a route that needs several transactions (intake retries a submission whose
# concurrent twin won the race)
Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]
# A session for reads; closed when the route returns
ReadSession = Annotated[AsyncSession, Depends(_reading, scope="function")]
# One transaction around the route, committed before the response is sent, rolled back if the route raises
WriteSession = Annotated[AsyncSession, Depends(_writing, scope="function")]

StoreT = TypeVar("StoreT")
UnitT = TypeVar("UnitT")


def reader(store: Callable[[AsyncSession], StoreT]) -> Callable[[AsyncSession], Awaitable[StoreT]]:
    """A dependency giving the service's store over a read session (`Reader = Annotated[XStore,
    Depends(reader(XStore))]`)."""

    async def dependency(session: ReadSession) -> StoreT:
        return store(session)

    return dependency


def writer(unit_of: Callable[[AsyncSession], UnitT]) -> Callable[[AsyncSession], Awaitable[UnitT]]:
    """A dependency giving the service's unit of work over the route's one transaction (`Writer =
    Annotated[XUnit, Depends(writer(handlers.unit))]`): its store reads and writes, its outbox publishes."""

    async def dependency(session: WriteSession) -> UnitT:
        return unit_of(session)

    return dependency


class Transactions(Generic[StoreT]):
    """A route's store when it also calls other services (the portal): each read or write is its own short
    transaction (`async with tables.writing() as db:`), never one held open across a call to another service."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], store: Callable[[AsyncSession], StoreT]) -> None:
        self._sessions, self._store = sessions, store

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[StoreT]:
        async with self._sessions() as session:
            yield self._store(session)

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[StoreT]:
        """Committed when the block ends, rolled back when it raises."""
        async with self._sessions() as session, session.begin():
            yield self._store(session)


def transactions_of(request: Request, store: Callable[[AsyncSession], StoreT]) -> Transactions[StoreT]:
    return Transactions(_sessions_of(request), store)


def transactions(store: Callable[[AsyncSession], StoreT]) -> Callable[[Request], Awaitable[Transactions[StoreT]]]:
    """A dependency giving the store's `Transactions` (transactions_of, given the request)."""

    async def dependency(request: Request) -> Transactions[StoreT]:
        return transactions_of(request, store)

    return dependency
