"""T1 on dead letters, on the real database: an operator lists and replays only the dead letters whose body names
one of their agencies' programs; one naming no program deployed here is the platform's operations team's alone,
and the CLI (database credentials) sees every one. A replay of one the caller may not see is refused as unknown and
records nothing."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from sme_runtime import dlq
from sme_runtime.auth import PLATFORM, Principal, Role
from sme_runtime.db import make_engine, migrate, session_factory
from sme_runtime.problems import RuleViolation
from tests.conftest import ROOT
from tests.fakes.unit import PROGRAMS
from tests.support import KAFKA, db_url

BODIES = {"gimpo": "gimpo-sos-2024", "seoul": "seoul-sba-sandbox-pilot-2022", "unknown": "busan-2030", "none": None}


def staff(*agencies: str) -> dlq.Visible:
    return dlq.Visible.to(Principal("op", Role.OPERATOR, agencies=frozenset(agencies)).within(PROGRAMS), PROGRAMS)


async def scenario() -> dict:
    engine = make_engine(db_url("screening"))
    try:
        await migrate(engine, ROOT / "services" / "screening" / "migrations")
        async with session_factory(engine)() as session, session.begin():
            ids = {}
            for n, (name, program) in enumerate(BODIES.items()):
                ids[name] = (await session.execute(text(
                    'INSERT INTO dead_letters (consumer, topic, partition, "offset", error, program_id) VALUES '
                    "('t1-test', 't1.topic', 0, :o, 'refused', :p) RETURNING id"),
                    {"o": 10**9 + n, "p": program})).scalar_one()
            mine = set(ids.values())

            async def listed(visible: dlq.Visible) -> set[str]:
                found = {r["id"] for r in await dlq.dead_letters(session, visible, consumer="t1-test")} & mine
                return {name for name, i in ids.items() if i in found}

            seen = {who: await listed(v) for who, v in {
                "gimpo": staff("gimpo"), "seoul": staff("seoul-sba"), "both": staff("gimpo", "seoul-sba"),
                "platform": staff(PLATFORM), "cli": dlq.Visible.everything()}.items()}
            with pytest.raises(RuleViolation) as refused:
                await dlq.replay(session, KAFKA, [ids["gimpo"]], by="operator:park", reason="다른 기관",
                                 visible=staff("seoul-sba"))
            seen["refusal"] = (refused.value.status_code, refused.value.problems[0].field)
            seen["replayed"] = (await session.execute(text(
                "SELECT count(*) FROM dead_letters WHERE id = :i AND replayed_at IS NOT NULL"),
                {"i": ids["gimpo"]})).scalar_one()
            await session.rollback()
        return seen
    finally:
        await engine.dispose()


def test_operators_see_and_replay_their_agencies_dead_letters_only(infrastructure):
    seen = asyncio.run(scenario())
    assert seen["gimpo"] == {"gimpo"} and seen["seoul"] == {"seoul"} and seen["both"] == {"gimpo", "seoul"}
    assert seen["platform"] == {"unknown", "none"}  # no agency's, so the operations team's
    assert seen["cli"] == set(BODIES)
    assert seen["refusal"] == (404, "ids") and seen["replayed"] == 0
