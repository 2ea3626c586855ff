"""Waiting as a person at a busy machine waits (issue 28): as long as things keep moving, and, once nothing does,
no longer than a quiet period — then failing with what stopped moving. A fixed deadline fails a slow but healthy
run on a loaded host (load 15–38 on 2 cores made the main job fail 5 times in 6) and waits needlessly long on a
dead one.

Moving means: the answer waited on changed, or one of the `signals` did — the rows the services' databases have
written (every consumer's work is a transaction), a process's CPU time while it starts."""
from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable, TypeVar

T = TypeVar("T")
Signal = Callable[[], Hashable]

# How long nothing may move before a wait gives up; SME_QUIET_SECONDS overrides it (a slower machine)
QUIET_SECONDS = float(os.environ.get("SME_QUIET_SECONDS", "60"))
SERVICE_DATABASES = ("intake", "screening", "evaluation", "contracts", "payments", "portal")


class Stalled(TimeoutError):
    """Nothing moved for the quiet period: the message says what was awaited and what was last seen."""


def wait_while_moving(read: Callable[[], T], done: Callable[[T], bool], *, what: str,
                      quiet: float = QUIET_SECONDS, signals: Iterable[Signal] = (),
                      interval: float = 0.3, ceiling: float | None = None) -> T:
    """`read()` until `done(value)`; raises Stalled once neither the value nor any signal changed for `quiet`
    seconds, or (a signal that never stops moving, like a background loop's writes) after `ceiling` seconds in
    all (default: ten quiet periods, at least ten minutes)."""
    signals = tuple(signals)
    last_seen: tuple | None = None
    began = last_move = time.monotonic()
    ceiling = ceiling if ceiling is not None else max(10 * quiet, 600.0)
    while True:
        value = read()
        if done(value):
            return value
        seen = (repr(value), *(signal() for signal in signals))
        now = time.monotonic()
        if seen != last_seen:
            last_seen, last_move = seen, now
        elif now - last_move > quiet:
            raise Stalled(f"{what}: nothing moved for {quiet:g} s (no change in what was awaited, nor in "
                          f"{', '.join(_name(s) for s in signals) or 'anything else'}); last seen: {_brief(value)}")
        if now - began > ceiling:
            raise Stalled(f"{what}: still not done after {ceiling:g} s though things kept moving; last seen: "
                          f"{_brief(value)}")
        time.sleep(interval)


def _name(signal: Signal) -> str:
    doc = getattr(signal, "__doc__", None)
    return doc.splitlines()[0].rstrip(".") if doc else repr(signal)


def _brief(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


class DatabaseWrites:
    """rows the services' databases wrote."""

    def __init__(self, pg_port: str | None = None, *, every: float = 1.0) -> None:
        self.pg_port, self.every = pg_port, every
        self._at, self._value = 0.0, None  # type: tuple[float, int | None]

    def __call__(self) -> Hashable:
        if time.monotonic() - self._at >= self.every:
            self._at, self._value = time.monotonic(), self._read()
        return self._value

    def _read(self) -> int | None:
        import asyncpg

        port = self.pg_port or os.environ.get("SME_PG_PORT", "5432")

        async def total() -> int:
            conn = await asyncpg.connect(f"postgresql://intake:intake@127.0.0.1:{port}/intake", timeout=5)
            try:
                return await conn.fetchval(
                    "SELECT coalesce(sum(tup_inserted + tup_updated + tup_deleted), 0) FROM pg_stat_database "
                    "WHERE datname = ANY($1)", list(SERVICE_DATABASES))
            finally:
                await conn.close()

        try:
            return asyncio.run(total())
        except Exception:  # noqa: BLE001 - an unreadable signal is no progress, not a failure of the wait
            return None


SERVICE_WRITES = DatabaseWrites()  # one per process: it reads the port from the environment when first asked


def cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used (user + system), from /proc; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
