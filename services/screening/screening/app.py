"""Screening as one deployable: the operators' HTTP API, the event subscriptions, the outbox relay and the
sweeper (E6 supplement deadlines, waiting gauges). The lookup workers are separate processes (screening.lookup).

All of screening's subscriptions and routes are registered here, top to bottom."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from screening import api, handlers, metrics, store
from screening.config import ScreeningSettings
from screening.lookup.messages import LookupAnswered, LookupRequested, Registry
from screening.status import ScreeningStatus
from sme_runtime.consumer import dlq_topic
from sme_runtime.metrics import set_by_status
from sme_runtime.service import every, service_app, service_consumers
from sme_schemas.contracts import ParticipationGivenUp
from sme_schemas.evaluation import RecheckRequested
from sme_schemas.intake import ApplicationAmended, ApplicationSubmitted, ApplicationWithdrawn

log = logging.getLogger("screening")
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SERVICE = "screening"


def internal_topics() -> tuple[str, ...]:
    """Screening's own topics beyond the public catalog: one lookup topic per registry and the answers, with
    their DLQs."""
    internal = [LookupRequested.topic_for(r) for r in Registry] + [LookupAnswered.topic()]
    return tuple(sorted({*internal, *(dlq_topic(t) for t in internal)}))


# What screening consumes, each event with its handler (checked against sme_schemas.catalog.CONSUMES at start-up;
# LookupAnswered is its own workers' internal event)
SUBSCRIPTIONS: dict[type, Callable[[handlers.Screening], Any]] = {
    ApplicationSubmitted: handlers.on_submitted,
    ApplicationAmended: handlers.on_amended,
    ApplicationWithdrawn: handlers.on_withdrawn,
    ParticipationGivenUp: handlers.on_given_up,
    RecheckRequested: handlers.on_recheck_requested,
    LookupAnswered: handlers.on_lookup_answered,
}
INTERNAL = (LookupAnswered,)


def build_broker(settings: ScreeningSettings, sessions, screening: handlers.Screening) -> KafkaBroker:
    return service_consumers(settings, sessions, SERVICE,
                             {event: make(screening) for event, make in SUBSCRIPTIONS.items()},
                             internal=INTERNAL, unit_of=handlers.unit).broker


async def sweep(sessions, screening: handlers.Screening) -> None:
    """E6 deadlines (rows, not sleeping tasks, so they survive restarts) and the waiting/status gauges."""
    async with sessions() as session, session.begin():
        await handlers.expire_supplements(handlers.unit(session), screening)
    async with sessions() as session:
        db = store.ScreeningStore(session)
        waiting = await db.waiting_by_registry()
        statuses = await db.counts_by_status()
    now = datetime.now(timezone.utc)
    for registry in Registry:
        row = waiting.get(registry.value)
        metrics.WAITING.labels(registry.value).set(row.applications if row else 0)
        metrics.WAITING_SECONDS.labels(registry.value).set(
            (now - row.oldest_requested_at).total_seconds() if row else 0)
    set_by_status(metrics.APPLICATIONS, ScreeningStatus, statuses)


def create_app(settings: ScreeningSettings | None = None) -> FastAPI:
    settings = settings or ScreeningSettings()
    screening = handlers.Screening(programs=settings.programs, clock=settings.clock(),
                                   supplement_grace=timedelta(seconds=settings.supplement_grace_seconds))
    return service_app(
        settings, service=SERVICE, title="Screening — 김포시 중소기업 지원사업 요건 검토",
        description="Eligibility and exclusions (X1–X11), evidence (E1–E6), expert grade (G1–G3) and duplicate "
                    "projects (D1–D3): each application's decision with the rules and evidence behind it, the "
                    "operators' manual-review queue, and what waits on which registry.",
        migrations=MIGRATIONS, build_broker=lambda sessions: build_broker(settings, sessions, screening),
        router=api.router, default_rule="X4", internal_topics=internal_topics(), screening=screening,
        background=(every(settings.sweep_seconds, lambda sessions: sweep(sessions, screening), log, "sweep"),))
