"""V1 on the real broker: evaluation runs with two versions of one program loaded (the center raised the bonus
points and lowered the cap in version 2 while the call ran). Each application is scored and planned by the
version it applied under, whatever is newest; one without a version (an older producer) gets the newest; one
naming a version not deployed here is dead-lettered under V1, and the next one is still applied."""
from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from datetime import datetime, timezone

from sqlalchemy import text

from deploy.local.procs import evaluation_env, publish_event, running
from deploy.sample.evaluation_scenario import EvaluationDesk, screening_passed
from deploy.sample.program_call import demo_program
from sme_runtime.db import make_engine
from sme_schemas.application import PreferenceCertification as Cert
from sme_schemas.screening import ScreeningPassed
from tests.support import KAFKA, ROOT, TEST_ENV, ServiceProcess, consumer_groups, db_url, start_groups_at_end

PORT = 18083


def versions(program_id: str) -> tuple[dict, dict]:
    v1 = demo_program(datetime.now(timezone.utc), program_id=program_id)
    v2 = json.loads(json.dumps(v1))
    v2["version"] = 2
    v2["support"]["cap"] = 3_000_000
    v2["document_score"] = {**v2["document_score"], "bonus_items": [
        {**item, "points": 5} for item in v2["document_score"]["bonus_items"]]}
    return v1, v2


def passed(program_id: str, n: int, version: int | None) -> ScreeningPassed:
    # the same company facts each time (one seed), so only the version can make the scores differ
    event = screening_passed(program_id, n, random.Random(0), 5_000_000, datetime.now(timezone.utc))
    facts = event.facts.model_copy(update={"certifications": (Cert.INNO_BIZ, Cert.VENTURE)})
    return event.model_copy(update={"program_version": version, "facts": facts})


async def dead_letter_of(event_id: str) -> list[str]:
    engine = make_engine(db_url("evaluation"))
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text("SELECT error FROM dead_letters WHERE event_id = :e"),
                                            {"e": event_id})).scalars())
    finally:
        await engine.dispose()


def test_each_application_is_judged_by_the_version_it_applied_under(programs_dir, fresh_databases):
    program_id = f"gimpo-sos-versions-{uuid.uuid4().hex[:8]}"
    v1, v2 = versions(program_id)
    for v in (v1, v2):
        file = programs_dir / f"{program_id}-v{v['version']}.json"
        file.write_text(json.dumps(v, ensure_ascii=False), "utf-8")
    env = {**evaluation_env(kafka=KAFKA, pg_port=TEST_ENV["SME_PG_PORT"], http_port=PORT,
                            programs_path=f"{ROOT / 'deploy/programs'}:{programs_dir}"),
           "EVALUATION_ENVIRONMENT": "test"}
    asyncio.run(start_groups_at_end(consumer_groups("evaluation")))
    under_v1, under_v2, unversioned = passed(program_id, 1, 1), passed(program_id, 2, 2), passed(program_id, 3, None)
    undeployed, after = passed(program_id, 4, 7), passed(program_id, 5, 1)
    with running(ServiceProcess("evaluation", "serve", env, port=PORT)):
        for event in (under_v1, under_v2, unversioned):
            asyncio.run(publish_event(event, KAFKA, source="/sme/screening"))
        refused_id = asyncio.run(publish_event(undeployed, KAFKA, source="/sme/screening"))
        asyncio.run(publish_event(after, KAFKA, source="/sme/screening"))
        rows = {r["application_id"]: r for r in EvaluationDesk(f"http://127.0.0.1:{PORT}").wait_for_candidates(
            program_id, 4)}
        deadline = time.monotonic() + 30
        while not (errors := asyncio.run(dead_letter_of(refused_id))):
            assert time.monotonic() < deadline, "the event naming an undeployed version was not dead-lettered"
            time.sleep(0.3)
    # Q6 under v1: two items of 2 points; under v2: two of 5. F4: v1's cap 5,000,000, v2's 3,000,000.
    bonus = {a: rows[a.application_id]["quantitative"] for a in (under_v1, under_v2, unversioned, after)}
    assert bonus[under_v2] - bonus[under_v1] == 6 and bonus[unversioned] == bonus[under_v2]
    assert bonus[after] == bonus[under_v1]
    planned = {a: rows[a.application_id]["planned_subsidy"] for a in (under_v1, under_v2, unversioned, after)}
    assert planned == {under_v1: 5_000_000, under_v2: 3_000_000, unversioned: 3_000_000, after: 5_000_000}
    assert undeployed.application_id not in rows
    assert len(errors) == 1 and errors[0].startswith("[V1] program_version: ") and "has no version 7" in errors[0]
