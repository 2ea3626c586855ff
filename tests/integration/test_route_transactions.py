"""A route's transaction (sme_runtime.routes, issue 29) on the real database: it commits before the answer is sent,
so a commit that fails is the answer — never a 201 for a change that is not there — and a route that refuses
(a RuleViolation) leaves nothing behind."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator

import asyncpg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from sme_runtime.db import make_engine, session_factory
from sme_runtime.errors import install_error_handlers
from sme_runtime.problems import Problem, RuleViolation
from sme_runtime.routes import ReadSession, WriteSession
from tests.support import db_url

DB = db_url("payments")


async def _sql(statement: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(DB.replace("+asyncpg", ""))
    try:
        return await conn.fetch(statement)
    finally:
        await conn.close()


@pytest.fixture
def app(fresh_databases) -> FastAPI:
    # A parent reference checked only at COMMIT: the statement succeeds and the commit fails
    asyncio.run(_sql("CREATE TABLE route_probe (id text PRIMARY KEY, parent text REFERENCES route_probe "
                     "DEFERRABLE INITIALLY DEFERRED)"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(DB)
        app.state.sessions = session_factory(engine)
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    install_error_handlers(app, default_rule="T0")

    @app.post("/probes/{probe_id}", status_code=201)
    async def write(session: WriteSession, probe_id: str, parent: str | None = None,
                    refuse: bool = False) -> dict[str, str]:
        await session.execute(text("INSERT INTO route_probe (id, parent) VALUES (:i, :p)"),
                              {"i": probe_id, "p": parent})
        if refuse:
            raise RuleViolation(Problem("probe_id", "T0", "refused after writing"))
        return {"written": probe_id}

    @app.get("/probes")
    async def read(session: ReadSession) -> list[str]:
        return list((await session.execute(text("SELECT id FROM route_probe ORDER BY id"))).scalars())

    return app


def test_a_commit_that_fails_is_the_answer_and_nothing_is_written(app):
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.post("/probes/orphan", params={"parent": "nobody"})
        assert answer.status_code >= 500, answer.text  # not the route's 201: the commit ran before the answer
        assert client.get("/probes").json() == []
    assert asyncio.run(_sql("SELECT id FROM route_probe")) == []


def test_a_written_change_is_committed_when_the_answer_arrives(app):
    with TestClient(app) as client:
        assert client.post("/probes/first").status_code == 201
        assert [r["id"] for r in asyncio.run(_sql("SELECT id FROM route_probe"))] == ["first"]
        assert client.post("/probes/second", params={"parent": "first"}).status_code == 201
        assert client.get("/probes").json() == ["first", "second"]


def test_a_refused_route_leaves_nothing_behind(app):
    with TestClient(app) as client:
        answer = client.post("/probes/refused", params={"refuse": "true"})
        assert answer.status_code == 422 and answer.json()["errors"][0]["rule"] == "T0"
    assert asyncio.run(_sql("SELECT id FROM route_probe")) == []
