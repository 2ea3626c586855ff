"""The integration tier starts its own Kafka broker and PostgreSQL cluster (on their own ports and folder) and
stops them at the end; each test gets empty service databases."""
from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import asyncpg
import pytest

from deploy.sample.program_call import demo_program
from deploy.local.procs import bus_administrator, intake_env as intake_settings, retire_refused_demo_calls
from tests.support import KAFKA, ROOT, TEST_ENV, db_url, local


@pytest.fixture(scope="session")
def infrastructure():
    local("up.sh")
    # From here the service processes this suite starts are given their principals (procs.bus_credentials) and
    # its own clients the administrator's (procs.bus_administrator), both read from the environment
    os.environ.update({name: TEST_ENV[name] for name in ("SME_LOCAL_DIR", "SME_KAFKA_SECURITY")})
    # …and the local tools' waits watch this cluster's writes for progress (deploy.local.waiting, issue 28)
    os.environ["SME_PG_PORT"] = TEST_ENV["SME_PG_PORT"]
    os.environ.update(bus_administrator())
    yield TEST_ENV
    if not os.environ.get("SME_KEEP_TEST_INFRA"):
        local("down.sh")


@pytest.fixture(scope="session")
def programs_dir(infrastructure) -> Path:
    folder = ROOT / ".local-test" / "programs"
    folder.mkdir(parents=True, exist_ok=True)
    retire_refused_demo_calls(folder)  # earlier runs' demo calls, if this version's schema refuses them
    (folder / "gimpo-sos-demo.json").write_text(
        json.dumps(demo_program(datetime.now(timezone.utc)), ensure_ascii=False), "utf-8")
    return folder


async def _reset(service: str) -> None:
    conn = await asyncpg.connect(db_url(service).replace("+asyncpg", ""))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION " + service)
    finally:
        await conn.close()


def reset_databases() -> None:
    """Every service's database empty (its schema dropped; the next start migrates it again)."""
    for service in ("intake", "screening", "evaluation", "contracts", "payments", "portal"):
        asyncio.run(_reset(service))


@pytest.fixture
def fresh_databases(infrastructure):
    reset_databases()


@pytest.fixture
def intake_env(programs_dir, fresh_databases) -> dict[str, str]:
    env = intake_settings(kafka=KAFKA, pg_port=TEST_ENV["SME_PG_PORT"], http_port=18001,
                     programs_path=f"{ROOT / 'deploy/programs'}:{programs_dir}")
    return {**env, "INTAKE_ENVIRONMENT": "test"}
