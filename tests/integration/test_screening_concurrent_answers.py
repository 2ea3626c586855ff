"""Two batches of registry answers for the same application, in two transactions at once (two registries answer
close together, on different topics), on the real database: whichever takes the application's lock second must see
the answer the first committed, or both decide "still waiting" and the application stays in screening for good
(issue 28: the main job's "screening did not settle … 'screening': 2")."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from screening.store import NewLookup, ScreeningStore
from screening.app import MIGRATIONS
from screening.handlers import SCREENING
from screening.status import ScreeningStatus
from sme_runtime.db import make_engine, migrate, session_factory
from tests.support import db_url

NOW = datetime(2026, 12, 6, 1, 0, tzinfo=timezone.utc)
APP = "APP-CONCURRENTANSWERS000000001"


def answer(lookup_id: str) -> dict:
    return {"lookup_id": lookup_id, "at": NOW, "verdict": "clear", "findings": [], "attempts": 1}


async def _two_answers_at_once() -> dict[str, bool]:
    engine = make_engine(db_url("screening"))
    await migrate(engine, MIGRATIONS)
    sessions = session_factory(engine)
    try:
        async with sessions() as setup, setup.begin():
            await ScreeningStore(setup).insert(application_id=APP, program_id="gimpo-sos-demo", brn="1234567890",
                                               revision=1, status=ScreeningStatus.SCREENING, submitted_at=NOW, at=NOW,
                                               content={}, required_evidence=[])
            await ScreeningStore(setup).insert_lookups([
                NewLookup(f"LK-{registry}", APP, SCREENING, registry)
                for registry in ("sanctions", "tax")], at=NOW)
        async with sessions() as first, sessions() as second:
            await first.begin()
            await second.begin()
            await ScreeningStore(first).record_answers([answer("LK-sanctions")])
            await ScreeningStore(first).dossiers([APP], SCREENING)  # holds the application's lock
            await ScreeningStore(second).record_answers([answer("LK-tax")])
            waiting = asyncio.create_task(ScreeningStore(second).dossiers([APP], SCREENING))
            await asyncio.sleep(0.5)
            assert not waiting.done(), "the second transaction must wait for the first one's lock"
            await first.commit()
            seen = (await waiting)[APP]
            await second.commit()
        return {lk.lookup_id: lk.answered_at is not None for lk in seen.lookups}
    finally:
        await engine.dispose()


def test_the_second_of_two_concurrent_answer_batches_sees_the_first_ones_answer(fresh_databases):
    answered = asyncio.run(_two_answers_at_once())

    assert answered == {"LK-sanctions": True, "LK-tax": True}
