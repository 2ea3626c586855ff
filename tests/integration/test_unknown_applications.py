"""Events about an application a service has never received, on the real broker, handled alike by every consumer
(issue 13): a follow-up — an event that can only come after something this service received or published
first — is dead-lettered under `known-application` with nothing applied; an event that may overtake the one
introducing the application (another topic) is held, so the late introduction finds it."""
from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timezone

from sqlalchemy import text

from deploy.local.procs import ServiceProcess, evaluation_env, publish_event, running, screening_env
from screening.lookup.messages import LookupAnswered, Registry, Verdict
from sme_runtime.db import make_engine
from sme_schemas import IntegrationEvent
from sme_schemas.catalog import EVENTS
from sme_schemas.examples import EXAMPLES
from tests.support import KAFKA, TEST_ENV, db_url

BY_NAME = {e.__name__: e for e in EVENTS}


def about(name: str, application_id: str, **fields) -> IntegrationEvent:
    """The catalog's example of `name`, about `application_id` (and its own request id or lookup id)."""
    body = {**EXAMPLES[name], "program_id": "gimpo-sos-demo", "application_id": application_id, **fields}
    return BY_NAME[name].model_validate(body)


def unknown_app(n: int, run: str) -> str:
    return f"APP-{run}{n:010d}"


async def publish(events: list[IntegrationEvent]) -> None:
    for event in events:
        await publish_event(event, KAFKA, source="/sme/test-unknown-applications")


async def rows(service: str, sql: str, **params) -> list:
    engine = make_engine(db_url(service))
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


def test_follow_ups_about_unknown_applications_are_dead_lettered_by_every_consumer_and_overtakers_held(
        intake_env, programs_dir):
    run = uuid.uuid4().hex[:16].upper()
    now = datetime.now(timezone.utc)
    apps = iter(range(100))
    sent = [about(name, unknown_app(next(apps), run)) for name in
            ("ScreeningStarted", "ScreeningPassed", "ApplicationRejected", "SupplementRequested",
             "AgreementTerminated")]
    sent += [about("ParticipationGivenUp", unknown_app(next(apps), run), business_registration_number="2208162517"),
             about("RecheckRequested", unknown_app(next(apps), run), request_id=f"RQ-{run}"),
             about("RecheckCompleted", unknown_app(next(apps), run), request_id=f"RC-{run}"),
             LookupAnswered(program_id="gimpo-sos-demo", application_id=unknown_app(next(apps), run),
                            occurred_at=now, lookup_id=f"LK-{run}", registry=Registry.SANCTIONS, answered_at=now,
                            verdict=Verdict.CLEAR)]
    follow_ups = {  # what each service can only receive after it knew the application (or request, or lookup)
        # screening decides only what intake filed
        "intake": ("ScreeningStarted", "ScreeningPassed", "ApplicationRejected", "SupplementRequested"),
        # an agreement follows a screening that passed; evaluation re-checks only what screening passed; a worker
        # answers only lookups screening asked
        "screening": ("ParticipationGivenUp", "RecheckRequested", "LookupAnswered"),
        # screening answers only re-checks evaluation asked; an agreement follows evaluation's selection
        "evaluation": ("RecheckCompleted", "AgreementTerminated", "ParticipationGivenUp"),
    }
    # A withdrawal may overtake the submission (intake's two topics): screening holds it
    overtaker = about("ApplicationWithdrawn", unknown_app(next(apps), run))
    envs = {
        "intake": intake_env,
        "screening": {**screening_env(kafka=KAFKA, pg_port=TEST_ENV["SME_PG_PORT"], http_port=18002,
                                      programs_path=intake_env["INTAKE_PROGRAMS_PATH"], registry_ports={}),
                      "SCREENING_ENVIRONMENT": "test"},
        "evaluation": {**evaluation_env(kafka=KAFKA, pg_port=TEST_ENV["SME_PG_PORT"], http_port=18003,
                                        programs_path=intake_env["INTAKE_PROGRAMS_PATH"]),
                       "EVALUATION_ENVIRONMENT": "test"},
    }
    services = [ServiceProcess(s, "serve", envs[s], port=p)
                for s, p in (("intake", 18001), ("screening", 18002), ("evaluation", 18003))]
    with running(*services):
        asyncio.run(publish([*sent, overtaker]))

        def dead_lettered() -> dict[str, list]:
            return {s: asyncio.run(rows(s, "SELECT error FROM dead_letters WHERE error LIKE :run", run=f"%{run}%"))
                    for s in follow_ups}

        deadline = time.monotonic() + 120
        while not all(len(n) >= len(follow_ups[s]) for s, n in dead_lettered().items()):
            assert time.monotonic() < deadline, dead_lettered()
            time.sleep(0.5)

        def withdrawn_first() -> list:
            return asyncio.run(rows("screening", "SELECT status FROM screenings WHERE application_id = :a",
                                    a=overtaker.application_id))

        while not withdrawn_first():  # its own topic: applied on its own time on a loaded host
            assert time.monotonic() < deadline, "the withdrawal that overtook its submission was not held"
            time.sleep(0.5)
        time.sleep(1.0)  # and nothing beyond those comes
        found = dead_lettered()
        held = withdrawn_first()
    for service, names in follow_ups.items():
        events = [e for e in sent if type(e).__name__ in names]
        errors = sorted(r.error for r in found[service])
        assert len(errors) == len(events), (service, errors)
        assert all(e.startswith("[known-application] ") for e in errors), errors
        for event in events:
            field = {"LookupAnswered": "lookup_id", "RecheckCompleted": "request_id"}.get(type(event).__name__,
                                                                                        "application_id")
            named = f"{type(event).__name__} names {field} {getattr(event, field)}"
            assert any(named in e for e in errors), (named, errors)
    # nothing applied: no X10 restriction for an agreement that never was
    assert asyncio.run(rows("screening", "SELECT * FROM restrictions WHERE brn = '2208162517'")) == []
    assert [r.status for r in held] == ["withdrawn"]
