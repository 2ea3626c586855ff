"""Contracts as one deployable: the parties' and operators' HTTP API, the event subscriptions, the outbox relay
and the gauges (agreements by status, unsigned past their deadline). All of contracts' subscriptions and routes are
registered here, top to bottom."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from contracts import api, handlers, metrics, store
from contracts.config import ContractsSettings
from contracts.status import AgreementStatus
from sme_runtime.metrics import set_by_status
from sme_runtime.service import every, service_app, service_consumers
from sme_schemas.evaluation import ApplicationSelected
from sme_schemas.screening import ScreeningPassed

log = logging.getLogger("contracts")
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SERVICE = "contracts"


# What contracts consumes, each event with its handler (checked against sme_schemas.catalog.CONSUMES at start-up)
SUBSCRIPTIONS: dict[type, Callable[[handlers.Contracts], Any]] = {
    ScreeningPassed: handlers.on_screening_passed,
    ApplicationSelected: handlers.on_application_selected,
}


def build_broker(settings: ContractsSettings, sessions, contracts: handlers.Contracts) -> KafkaBroker:
    return service_consumers(settings, sessions, SERVICE,
                             {event: make(contracts) for event, make in SUBSCRIPTIONS.items()},
                             unit_of=handlers.unit).broker


async def remind(sessions, contracts: handlers.Contracts) -> None:
    """M2: the follow-up reminders owed today."""
    async with sessions() as session, session.begin():
        await handlers.remind_follow_ups(handlers.unit(session), contracts)


async def refresh_gauges(sessions, contracts: handlers.Contracts) -> None:
    async with sessions() as session:
        db = store.ContractsStore(session)
        statuses = await db.counts_by_status()
        unsigned = await db.unsigned_past_deadline(contracts.clock())
    set_by_status(metrics.AGREEMENTS, AgreementStatus, statuses)
    metrics.UNSIGNED_PAST_DEADLINE.set(len(unsigned))


def create_app(settings: ContractsSettings | None = None) -> FastAPI:
    settings = settings or ContractsSettings()
    contracts = handlers.Contracts(programs=settings.programs, clock=settings.clock(),
                                   signature_days=settings.signature_days)
    return service_app(
        settings, service=SERVICE, title="Contracts — 김포시 중소기업 지원사업 협약·수행·결과보고",
        description="Three-party agreements (서식3) drafted for the selected applications (C1, C2), amendments "
                    "(C5), consulting sessions and logs (C3), give-up (C6), termination (C7), the result report "
                    "(C8) and the follow-up after it — the satisfaction survey and outcome reports, with reminders "
                    "(M1–M3); each record visible only to its parties and operators (C9).",
        migrations=MIGRATIONS, build_broker=lambda sessions: build_broker(settings, sessions, contracts),
        router=api.router, default_rule="C2", contracts=contracts,
        background=(every(settings.gauge_seconds, lambda sessions: refresh_gauges(sessions, contracts), log,
                          "gauges"),
                    every(settings.gauge_seconds, lambda sessions: remind(sessions, contracts), log, "reminders")))
