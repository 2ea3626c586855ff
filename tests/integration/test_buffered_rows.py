"""Rows a transaction only appends — its outbox events, screening's audit trail — go to the real database in one
statement per table as the transaction commits (sme_runtime.buffered, issue 28), in the order they were appended,
and not at all when it rolls back."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest
from sqlalchemy import event as sa_event

from screening.store import ScreeningStore
from screening.app import MIGRATIONS
from sme_runtime.db import make_engine, migrate, session_factory
from sme_runtime.unit import units
from sme_schemas.intake import ApplicationWithdrawn
from tests.support import db_url

NOW = datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc)


def withdrawn(i: int) -> ApplicationWithdrawn:
    return ApplicationWithdrawn(program_id="gimpo-sos-demo", application_id=f"APP-BUFFERED{i:018d}",
                                occurred_at=NOW, withdrawn_at=NOW)


async def _rows(sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(db_url("screening").replace("+asyncpg", ""))
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def _in_one_transaction(work, *, fail: bool = False) -> list[str]:
    """Run `work(unit)` in one transaction of a screening unit of work; the statements sent, in order."""
    engine = make_engine(db_url("screening"))
    await migrate(engine, MIGRATIONS)
    statements: list[str] = []
    sa_event.listen(engine.sync_engine, "before_cursor_execute",
                    lambda conn, cursor, sql, params, context, many: statements.append(" ".join(sql.split())))
    unit_of = units(ScreeningStore, source="/sme/screening")
    try:
        async with session_factory(engine)() as session:
            try:
                async with session.begin():
                    await work(unit_of(session))
                    if fail:
                        raise RuntimeError("the handler failed after appending")
            except RuntimeError:
                pass
            async with session.begin():  # the same session's next transaction writes nothing left over
                await session.connection()
    finally:
        await engine.dispose()
    return statements


async def _publish_and_audit(unit) -> None:
    for i in range(3):
        await unit.publish(withdrawn(i))
        await unit.store.audit(f"APP-BUFFERED{i:018d}", at=NOW + timedelta(seconds=i), actor="company",
                               action="withdrawn", detail={"i": i, "note": "철회 — 회사 사정"})
    await unit.publish_all([(withdrawn(i), None) for i in range(3, 6)])


def test_appended_rows_are_written_at_commit_in_one_statement_per_table_in_order(fresh_databases):
    statements = asyncio.run(_in_one_transaction(_publish_and_audit))

    inserts = [s for s in statements if s.startswith("INSERT")]
    assert [s.split()[2] for s in inserts] == ["outbox", "audit"] or [s.split()[2] for s in inserts] == [
        "audit", "outbox"], inserts  # one statement per table, however many rows
    outbox = asyncio.run(_rows("SELECT event_key, topic, headers->>'ce_type' AS type FROM outbox ORDER BY id"))
    assert [r["event_key"] for r in outbox] == [f"APP-BUFFERED{i:018d}" for i in range(6)]  # the order published
    assert {r["topic"] for r in outbox} == {ApplicationWithdrawn.topic()}
    audit = asyncio.run(_rows("SELECT application_id, at, detail FROM audit ORDER BY id"))
    assert [r["application_id"] for r in audit] == [f"APP-BUFFERED{i:018d}" for i in range(3)]
    assert [r["at"] for r in audit] == [NOW + timedelta(seconds=i) for i in range(3)]
    assert '"철회 — 회사 사정"' in audit[0]["detail"]


def test_a_transaction_that_rolls_back_writes_none_of_its_appended_rows_then_or_later(fresh_databases):
    statements = asyncio.run(_in_one_transaction(_publish_and_audit, fail=True))

    assert not [s for s in statements if s.startswith("INSERT")]
    assert asyncio.run(_rows("SELECT count(*) AS n FROM outbox"))[0]["n"] == 0
    assert asyncio.run(_rows("SELECT count(*) AS n FROM audit"))[0]["n"] == 0


@pytest.mark.parametrize("count", [1, 500])
def test_any_number_of_events_is_one_outbox_statement(fresh_databases, count):
    async def publish(unit) -> None:
        await unit.publish_all([(withdrawn(i), None) for i in range(count)])

    statements = asyncio.run(_in_one_transaction(publish))

    assert sum(s.startswith("INSERT INTO outbox") for s in statements) == 1
    assert asyncio.run(_rows("SELECT count(DISTINCT event_id) AS n FROM outbox"))[0]["n"] == count


@pytest.mark.parametrize("service, store_class, subject", [
    ("contracts", "contracts.store:ContractsStore", "agreement_id"),
    ("payments", "payments.store:PaymentsStore", "payment_id"),
    ("evaluation", "evaluation.store:EvaluationStore", "application_id"),
])
def test_every_services_audit_trail_is_one_statement_at_commit_and_reads_back_in_order(
        fresh_databases, service, store_class, subject):
    """The audit trail is one shape written one way in every service (sme_runtime.audit, issue 29): a
    transaction's lines go in with one INSERT as it commits and read back through the store, oldest first; a line
    without detail stores SQL NULL."""
    import importlib

    module_name, class_name = store_class.split(":")
    store = getattr(importlib.import_module(module_name), class_name)
    migrations = importlib.import_module(f"{service}.app").MIGRATIONS

    async def run() -> tuple[list[str], list]:
        engine = make_engine(db_url(service))
        await migrate(engine, migrations)
        statements: list[str] = []
        sa_event.listen(engine.sync_engine, "before_cursor_execute",
                        lambda conn, cursor, sql, params, context, many: statements.append(sql.split()[0]))
        try:
            async with session_factory(engine)() as session, session.begin():
                db = store(session)
                for i in range(3):
                    await db.audit(at=NOW + timedelta(seconds=i), actor="operator:kim", action=f"step-{i}",
                                   detail={"메모": "보완 요청"} if i else None, **{subject: "SUBJECT-1"})
                await db.audit(at=NOW, actor="rules", action="elsewhere", **{subject: "SUBJECT-2"})
            async with session_factory(engine)() as session:
                return statements, await store(session).audit_of("SUBJECT-1")
        finally:
            await engine.dispose()

    statements, trail = asyncio.run(run())

    assert statements.count("INSERT") == 1, statements
    assert [line.action for line in trail] == ["step-0", "step-1", "step-2"]
    assert [line.at for line in trail] == [NOW + timedelta(seconds=i) for i in range(3)]
    assert trail[0].detail is None and trail[1].detail == {"메모": "보완 요청"}


def test_a_transaction_that_reads_its_audit_trail_back_sees_what_it_appended(fresh_databases):
    """A route that answers with the trail it just added to (screening's ruling, issue 29) reads its own lines: they
    are written when read, those appended after at the commit, and the trail keeps their order."""
    from contracts.app import MIGRATIONS as CONTRACTS
    from contracts.store import ContractsStore

    async def run() -> tuple[list[str], list[str]]:
        engine = make_engine(db_url("contracts"))
        await migrate(engine, CONTRACTS)
        try:
            async with session_factory(engine)() as session, session.begin():
                db = ContractsStore(session)
                for action in ("signed", "amended"):
                    await db.audit(at=NOW, actor="operator:kim", action=action, agreement_id="AGR-1")
                inside = [line.action for line in await db.audit_of("AGR-1")]
                await db.audit(at=NOW, actor="operator:kim", action="accepted", agreement_id="AGR-1")
            async with session_factory(engine)() as session:
                return inside, [line.action for line in await ContractsStore(session).audit_of("AGR-1")]
        finally:
            await engine.dispose()

    inside, after = asyncio.run(run())

    assert inside == ["signed", "amended"]
    assert after == ["signed", "amended", "accepted"]
