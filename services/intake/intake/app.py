"""Intake as one deployable: HTTP API, its event subscriptions, the outbox relay, /health and /metrics.

All of intake's subscriptions and routes are registered here, top to bottom."""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import make_asgi_app
from sqlalchemy import text

from intake import api, handlers
from intake.config import IntakeSettings
from sme_runtime.consumer import ReliableConsumers
from sme_runtime.db import make_engine, migrate, session_factory
from sme_runtime.errors import install_error_handlers
from sme_runtime.metrics import REGISTRY
from sme_runtime.relay import OutboxRelay
from sme_runtime.topics import service_topics, start_when_kafka_answers
from sme_schemas.intake import ApplicationFiledByMunicipalSystem

log = logging.getLogger("intake")
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SERVICE = "intake"


def build_broker(settings: IntakeSettings, sessions, intake: handlers.Intake) -> KafkaBroker:
    """The broker with every subscription of intake."""
    broker = KafkaBroker(settings.kafka_bootstrap_servers, client_id=SERVICE, enable_idempotence=True, acks="all",
                         middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, app_name=SERVICE)])
    consumers = ReliableConsumers(broker, sessions, service=SERVICE,
                                  retry_max_seconds=settings.consumer_retry_max_seconds)
    consumers.subscribe(ApplicationFiledByMunicipalSystem, handlers.file_from_municipal_system(intake))
    for event, handler in handlers.SCREENING_EVENTS:
        consumers.subscribe(event, handler)
    return broker


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = make_engine(settings.database_url)
        await migrate(engine, MIGRATIONS)
        sessions = session_factory(engine)
        app.state.sessions = sessions
        app.state.engine = engine
        app.state.intake = handlers.Intake(programs=settings.programs)
        broker = build_broker(settings, sessions, app.state.intake)
        app.state.broker = broker
        tasks = [asyncio.create_task(start_when_kafka_answers(broker, settings.kafka_bootstrap_servers,
                                                          service_topics(SERVICE)))]
        relay = OutboxRelay(engine, service=SERVICE, bootstrap_servers=settings.kafka_bootstrap_servers,
                            batch_size=settings.relay_batch_size, idle_seconds=settings.relay_idle_seconds)
        if settings.run_relay:
            tasks.append(asyncio.create_task(relay.run()))
        try:
            yield
        finally:
            relay.stop()
            for task in tasks[:1]:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with suppress(Exception):
                await broker.stop()
            await engine.dispose()

    app = FastAPI(title="Intake — 김포시 중소기업 지원사업 신청 접수", version="1.0.0", lifespan=lifespan,
                  description="Applications (서식1, 서식2, evidence metadata): submit, amend before screening, "
                              "withdraw, read. Every error names the field and the rule (DOMAIN.md).")
    app.state.settings = settings
    install_error_handlers(app, default_rule="A1")
    app.include_router(api.router)
    app.mount("/metrics", make_asgi_app(REGISTRY))

    @app.get("/health", tags=["operations"], summary="Liveness and dependencies (no personal data)")
    async def health() -> JSONResponse:
        checks = {"database": False, "kafka": False, "outbox_pending": None}
        try:
            async with app.state.engine.connect() as conn:
                checks["outbox_pending"] = (await conn.execute(
                    text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))).scalar_one()
            checks["database"] = True
        except Exception as exc:  # noqa: BLE001 - health reports, it does not fail
            checks["database_error"] = str(exc)[:200]
        broker = app.state.broker
        checks["kafka"] = bool(broker.running) if hasattr(broker, "running") else False
        status = "ok" if checks["database"] and checks["kafka"] else "degraded"
        return JSONResponse({"service": SERVICE, "status": status, **checks},
                            status_code=200 if checks["database"] else 503)

    return app
