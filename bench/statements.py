"""Statements and round trips a service's database served, from PostgreSQL's own count (pg_stat_statements).

The local cluster loads the extension (deploy/local/postgres.sh); the bench resets the counts before a run and
reads them after, per database, as the cluster's superuser over its local socket (trusted there, as pgbench's
own setup is). A *statement* is a query the service ran (SELECT, INSERT, UPDATE, DELETE, COPY…); a *round trip*
adds the transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT) each of which also waits for the server.
The bench's own polling queries are left out by their text, so only the service's work is counted.
"""
from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from deploy.local.endpoints import LOCAL_DIR

SOCKET_DIR = LOCAL_DIR / "postgres" / "run"
_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|START TRANSACTION|END)\b", re.IGNORECASE)
_LITERAL = re.compile(r"'(?:[^']|'')*'|\b\d+\b")


@dataclass(frozen=True)
class Served:
    statements: int
    control: int

    @property
    def round_trips(self) -> int:
        return self.statements + self.control

    def per(self, applications: int) -> tuple[float, float]:
        """(statements, round trips) per application."""
        return self.statements / applications, self.round_trips / applications


async def _superuser(database: str = "postgres") -> asyncpg.Connection:
    return await asyncpg.connect(host=str(SOCKET_DIR), port=int(os.environ.get("SME_PG_PORT", "5432")),
                                 user="postgres", database=database)


async def reset() -> bool:
    """Zero the counts; False when the cluster was started without the extension (restart it with
    `bash deploy/local/postgres.sh restart` to load it)."""
    conn = await _superuser()
    try:
        loaded = await conn.fetchval("SELECT 'pg_stat_statements' = ANY(string_to_array("
                                     "current_setting('shared_preload_libraries'), ', '))")
        if not loaded:
            return False
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await conn.execute("SELECT pg_stat_statements_reset()")
        return True
    finally:
        await conn.close()


def _normalised(sql: str) -> str:
    count = iter(range(1, 1000))
    return " ".join(_LITERAL.sub(lambda _: f"${next(count)}", sql).split())


async def served(databases: list[str], *, besides: Sequence[str] = ()) -> dict[str, Served]:
    """What each database served since the reset, without the queries in `besides` (the bench's own)."""
    skip = {_normalised(q) for q in besides}
    conn = await _superuser()
    try:
        rows = await conn.fetch("SELECT d.datname, s.query, s.calls FROM pg_stat_statements s "
                                "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = ANY($1)", databases)
    finally:
        await conn.close()
    totals = {db: [0, 0] for db in databases}
    for row in rows:
        if " ".join(row["query"].split()) in skip:
            continue
        totals[row["datname"]][1 if _CONTROL.match(row["query"]) else 0] += row["calls"]
    return {db: Served(statements, control) for db, (statements, control) in totals.items()}
