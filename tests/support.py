"""What the integration and e2e tiers share: the suite's own infrastructure on its own ports and folder."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from deploy.local import groups, procs
from deploy.local.groups import consumer_groups, screening_groups  # noqa: F401 - re-exported
from deploy.local.procs import ROOT, headers_of, running  # noqa: F401 - re-exported for the tests

TEST_ENV = {
    "SME_LOCAL_DIR": str(ROOT / ".local-test"),
    "SME_KAFKA_PORT": os.environ.get("SME_TEST_KAFKA_PORT", "19092"),
    "SME_KAFKA_CONTROLLER_PORT": os.environ.get("SME_TEST_KAFKA_CONTROLLER_PORT", "19093"),
    "SME_PG_PORT": os.environ.get("SME_TEST_PG_PORT", "15432"),
    # The suite's broker is authenticated as a shared bus is (issue 27): every service process connects as its own
    # principal and meets the ACLs made from the catalog; the tests' own clients are the bus administrator.
    "SME_KAFKA_SECURITY": os.environ.get("SME_TEST_KAFKA_SECURITY", "sasl_ssl"),
}
KAFKA = f"127.0.0.1:{TEST_ENV['SME_KAFKA_PORT']}"
end_offsets = partial(procs.end_offsets, bootstrap=KAFKA)


async def read_topic(topic, start=None, **kwargs):
    return await procs.read_topic(topic, KAFKA, start, **kwargs)


def db_url(service: str) -> str:
    return f"postgresql+asyncpg://{service}:{service}@127.0.0.1:{TEST_ENV['SME_PG_PORT']}/{service}"


def local(script: str, *args: str) -> None:
    """Run a deploy/local script against the suite's own infrastructure."""
    subprocess.run(["bash", str(ROOT / "deploy/local" / script), *args], check=True,
                   env={**os.environ, **TEST_ENV}, stdout=sys.stderr, stderr=sys.stderr)


@contextmanager
def cpu_load(processes: int):
    """`processes` busy loops at normal priority (what `stress-ng --cpu N` does) for the duration: the loaded host
    a user's machine is (issue 28)."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield burners
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


class ServiceProcess(procs.ServiceProcess):
    def __init__(self, module, command, env, *, port=None):
        # The suite loads this machine itself (a broker, a cluster, a dozen processes): a late event loop is not
        # the overload admission control is for, so only a test that sets the limits sees requests shed
        lenient = {f"{module.upper()}_MAX_LOOP_LAG_MS": "10000"} if module.isidentifier() else {}
        super().__init__(module, command, {**lenient, **env}, port=port,
                         log=ROOT / ".local-test" / f"{module}-{command}.log")


start_groups_at_end = partial(groups.start_groups_at_end, bootstrap=KAFKA)
commit_offsets = partial(groups.commit_offsets, bootstrap=KAFKA)
lag = partial(groups.lag, bootstrap=KAFKA)


# --- replay: re-consume a service's inputs from a recorded start, with its inbox emptied --------------------

def group_positions(groups: dict[str, list[str]]) -> dict[str, dict[tuple[str, int], int]]:
    """Where each group's topics end now: the start of what a test is about to publish."""
    import asyncio

    return {g: {(t, p): o for t in topics for p, o in asyncio.run(end_offsets(t)).items()}
            for g, topics in groups.items()}


async def snapshot(tables: dict[str, tuple[str, ...]]) -> dict:
    """Every row of the services' tables (order-free) and the size of each outbox."""
    import json

    import asyncpg

    state = {}
    for service, names in tables.items():
        conn = await asyncpg.connect(db_url(service).replace("+asyncpg", ""))
        try:
            for table in names:
                rows = await conn.fetch(f"SELECT * FROM {table}")
                state[f"{service}.{table}"] = sorted(json.dumps(dict(r), default=str, ensure_ascii=False)
                                                     for r in rows)
            state[f"{service}.outbox"] = await conn.fetchval("SELECT count(*) FROM outbox")
        finally:
            await conn.close()
    return state


async def forget_processed_events(services) -> None:
    """Empty the services' inboxes, so a replay is deduplicated by nothing but the handlers themselves."""
    import asyncpg

    for service in services:
        conn = await asyncpg.connect(db_url(service).replace("+asyncpg", ""))
        try:
            await conn.execute("DELETE FROM processed_events")
        finally:
            await conn.close()


def rewind(positions: dict[str, dict[tuple[str, int], int]]) -> None:
    """Commit the (stopped) groups' offsets back to the recorded positions."""
    import asyncio

    for group, at in positions.items():
        asyncio.run(commit_offsets(group, at))


def wait_caught_up(groups: dict[str, list[str]], quiet: float = 60) -> None:
    """Until the groups have no lag, for as long as the lag keeps changing (issue 28)."""
    import asyncio

    from deploy.local.waiting import wait_while_moving

    wait_while_moving(lambda: asyncio.run(lag(groups)), lambda behind: behind == 0, what="consumer lag",
                      quiet=quiet)


def ensure_browser() -> str:
    """Debian's Chromium (and a Korean font, so the screenshots are legible), installed when missing."""
    missing = [p for p, present in (("chromium", shutil.which("chromium")),
                                    ("fonts-nanum", Path("/usr/share/fonts/truetype/nanum").exists())) if not present]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, stdout=sys.stderr)
    return shutil.which("chromium") or "/usr/bin/chromium"


def wait_for(predicate, timeout: float = 90, what: str = ""):
    """Polls `predicate` until it answers something true (returned), for at most `timeout` seconds of waiting on
    another process — never a test's assertion on time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what or 'the condition'}")
