"""Intake as one deployable: HTTP API, its event subscriptions, the outbox relay, /health and /metrics.

All of intake's subscriptions and routes are registered here, top to bottom."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from intake import api, handlers
from intake.config import IntakeSettings
from sme_runtime.bus_acl import filing_topics
from sme_runtime.service import service_app, service_consumers
from sme_runtime.unit import in_unit
from sme_schemas.intake import ApplicationFiledByMunicipalSystem
from sme_schemas.screening import ApplicationRejected, ScreeningPassed, ScreeningStarted, SupplementRequested

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SERVICE = "intake"


# What intake consumes, each event with its handler (checked against sme_schemas.catalog.CONSUMES at start-up)
SUBSCRIPTIONS: dict[type, Callable[[handlers.Intake], Any]] = {
    ApplicationFiledByMunicipalSystem: handlers.file_from_municipal_system,
    ScreeningStarted: lambda _: handlers.on_screening_started,
    ScreeningPassed: lambda _: handlers.on_screening_passed,
    ApplicationRejected: lambda _: handlers.on_application_rejected,
    SupplementRequested: lambda _: handlers.on_supplement_requested,
}


def build_broker(settings: IntakeSettings, sessions, intake: handlers.Intake) -> KafkaBroker:
    consumers = service_consumers(settings, sessions, SERVICE,
                                  {event: make(intake) for event, make in SUBSCRIPTIONS.items()},
                                  unit_of=handlers.unit)
    # Each registered filing system's own topic (only it may write there on an authenticated bus): a filing read
    # there is from that system, and one that claims another sender is refused (handlers.file_from_municipal_system)
    for system in settings.filing_systems:
        consumers.subscribe(ApplicationFiledByMunicipalSystem,
                            in_unit(handlers.file_from_municipal_system(intake, system), handlers.unit),
                            group_id=f"{SERVICE}.filed-by.{system.name}", topic=system.filing_topic)
    return consumers.broker


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    intake = handlers.Intake(programs=settings.programs, clock=settings.clock())
    return service_app(
        settings, service=SERVICE, title="Intake — 김포시 중소기업 지원사업 신청 접수",
        description="Applications (서식1, 서식2, evidence metadata): submit, amend before screening, withdraw, "
                    "read. Every error names the field and the rule (DOMAIN.md).",
        migrations=MIGRATIONS, build_broker=lambda sessions: build_broker(settings, sessions, intake),
        router=api.router, default_rule="A1", intake=intake,
        internal_topics=tuple(filing_topics(settings.filing_systems)))
