"""`python -m payments rotate-account-key` re-seals every stored bank account with the newest key, on the real
database, so the old key can be dropped without losing a row."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import date, datetime, timezone

from cryptography.fernet import Fernet
from sqlalchemy import text

from payments.accounts import AccountVault
from payments.app import MIGRATIONS
from payments.config import DEVELOPMENT_ACCOUNT_KEY
from sme_runtime.db import make_engine, migrate
from tests.support import ROOT, db_url

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


async def _seed(ids: list[str]) -> None:
    engine = make_engine(db_url("payments"))
    await migrate(engine, MIGRATIONS)
    async with engine.begin() as conn:
        for n, payment_id in enumerate(ids):
            await conn.execute(text(
                "INSERT INTO payments (payment_id, purpose, program_id, evaluator_id, payee_name, amount, status, "
                "request_received_on, due_on, account_ciphertext, account_last4, filed_by, created_at) VALUES "
                "(:p, 'evaluator-allowance', 'gimpo-sos-demo', :e, '최평가', 20000, 'due', :d, :d, :c, '0001', "
                "'test', :t)"), {"p": payment_id, "e": f"EV-{n}", "d": date(2026, 1, 5),
                                 "c": AccountVault(OLD).seal(f"100-200-30000{n}"), "t": datetime.now(timezone.utc)})
    await engine.dispose()


async def _sealed(ids: list[str]) -> list[bytes]:
    engine = make_engine(db_url("payments"))
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT account_ciphertext FROM payments WHERE payment_id = ANY(:ids) "
                                        "ORDER BY payment_id"), {"ids": ids})).scalars().all()
    await engine.dispose()
    return [bytes(r) for r in rows]


def test_rotating_the_account_key_keeps_every_account_readable_with_the_new_key_alone(infrastructure):
    run = uuid.uuid4().hex[:8]
    ids = [f"PAY-ROT-{run}-{n}" for n in range(2)]  # in payment_id order: account ...0 then ...1
    asyncio.run(_seed(ids))
    # other tests' payments in this database were sealed with the development key: listed too, so they rotate
    keys = f"{NEW},{OLD},{DEVELOPMENT_ACCOUNT_KEY}"
    env = {**os.environ, "PAYMENTS_DATABASE_URL": db_url("payments"), "PAYMENTS_ACCOUNT_KEY": keys}
    run = subprocess.run([sys.executable, "-m", "payments", "rotate-account-key"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "bank accounts re-sealed" in run.stdout
    assert [AccountVault(NEW).open(s) for s in asyncio.run(_sealed(ids))] == ["100200300000", "100200300001"]
