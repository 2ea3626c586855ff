"""The portal as one deployable: the pages, the notifier's subscriptions (timeline and notices), the e-mail
sender, /health and /metrics. It owns a database of accounts, sessions, uploads and notices, and calls the five
services' APIs for the person signed in."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from faststream.kafka import KafkaBroker

from portal import agreements, company, evaluator, notifier, operator, security, signin, store, web
from portal.config import PortalSettings
from portal.services import Services
from sme_runtime import tracing
from sme_runtime.logs import configure_logging
from sme_runtime.service import admit_within, every, install_operations, service_consumers, service_lifespan
from sme_schemas.catalog import CONSUMES

log = logging.getLogger("portal")
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SERVICE = "portal"


# Every event the portal reads goes the same way (checked against the catalog): timeline lines and notices, each
# in its own program's words (a handler made with the programs' short names)
SUBSCRIPTIONS = {event: notifier.on_event_of for event in CONSUMES[SERVICE]}


def build_broker(settings: PortalSettings, sessions) -> KafkaBroker:
    # The portal judges nothing by a program's rules: it tells people what happened, whichever program it was
    terms = notifier.program_terms(settings.programs)
    return service_consumers(settings, sessions, SERVICE, {event: make(terms) for event, make in SUBSCRIPTIONS.items()},
                             by_program=False, unit_of=notifier.unit).broker


def create_app(settings: PortalSettings | None = None) -> FastAPI:
    settings = settings or PortalSettings()
    if not logging.getLogger().handlers:
        configure_logging(SERVICE)
    channel = notifier.EmailChannel(settings)
    inner = service_lifespan(
        settings, service=SERVICE, migrations=MIGRATIONS, topics=_topics(),
        build_broker=lambda sessions: build_broker(settings, sessions),
        background=(every(settings.mail_seconds, lambda sessions: notifier.send_waiting(
            sessions, channel, settings.public_url), log, "sending notices"),))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with inner(app):
            async with app.state.sessions() as session, session.begin():
                db = store.PortalStore(session)
                await db.interrupt_jobs(web.now())
            app.state.services = Services(settings)
            try:
                yield
            finally:
                await app.state.services.close()

    app = FastAPI(title=f"포털 — {settings.name}", version="1.0.0", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.jobs = set()
    app.state.session_lifetime = security.SessionLifetime(timedelta(minutes=settings.session_idle_minutes),
                                                          timedelta(hours=settings.session_max_hours))
    web.install(app)
    app.add_middleware(tracing.TraceRequests)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for module in (signin, company, agreements, evaluator, operator):
        app.include_router(module.router)
    install_operations(app, SERVICE)
    admit_within(app, settings, SERVICE, for_browsers=True)
    return app


def _topics() -> list[str]:
    from sme_runtime.topics import service_topics

    return service_topics(SERVICE)
