"""Engine, sessions, schema migrations and the line between transient and permanent database errors."""
from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger(__name__)
MIGRATION_LOCK = 7_240_601  # advisory lock id: two replicas starting together migrate one at a time


def as_json(value: Any) -> str:
    """A value for a jsonb parameter: Korean text kept as it is, dates and decimals as strings."""
    return json.dumps(value, ensure_ascii=False, default=str)


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """Optimistic disconnect handling, not a ping per checkout: the ping was a round trip per request (7% of
    intake's CPU at 150 submissions/s). A connection the database dropped fails its first statement instead;
    SQLAlchemy then invalidates the whole pool, consumers retry the event (`is_transient`), intake retries the
    submission, and any other request gets 503 with Retry-After (sme_runtime.errors)."""
    return create_async_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=False, pool_recycle=1800)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _migration_files(service_dir: Path | None) -> list[tuple[str, str]]:
    runtime = resources.files("sme_runtime") / "migrations"
    files = [(f.name, f.read_text("utf-8")) for f in runtime.iterdir() if f.name.endswith(".sql")]
    if service_dir is not None:
        files += [(p.name, p.read_text("utf-8")) for p in service_dir.glob("*.sql")]
    return sorted(files)


async def migrate(engine: AsyncEngine, service_dir: Path | None) -> list[str]:
    """Apply the runtime's and the service's SQL migrations not yet applied, in name order."""
    applied_now: list[str] = []
    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK})
        await conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(name text PRIMARY KEY, applied_at timestamptz DEFAULT now())"
            )
        )
        done = set((await conn.execute(text("SELECT name FROM schema_migrations"))).scalars())
        for name, sql in _migration_files(service_dir):
            if name in done:
                continue
            # asyncpg runs a multi-statement script only through its simple-query protocol.
            raw = await conn.get_raw_connection()
            assert raw.driver_connection is not None, "an open connection has its asyncpg connection"
            await raw.driver_connection.execute(sql)
            await conn.execute(text("INSERT INTO schema_migrations (name) VALUES (:n)"), {"n": name})
            applied_now.append(name)
    if applied_now:
        log.info("applied migrations %s", applied_now)
    return applied_now


_TRANSIENT_PG = (
    asyncpg.exceptions.SerializationError, asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.TooManyConnectionsError, asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError, asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError, asyncpg.exceptions.PostgresConnectionError,
)


def is_transient(exc: BaseException) -> bool:
    """True when retrying later may succeed: the database or network was away, not the data wrong."""
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, (OSError, TimeoutError, ConnectionError, OperationalError, InterfaceError, _TRANSIENT_PG)):
            return True
        if isinstance(node, DBAPIError) and node.connection_invalidated:
            return True
        node = getattr(node, "orig", None) or node.__cause__ or node.__context__
    return False
