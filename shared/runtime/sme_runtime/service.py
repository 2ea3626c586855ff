"""What every service's process does the same way: the lifespan (database, migrations, broker, relay, background
tasks), /health and /metrics, and the `relay | migrate | token` commands of its CLI."""
from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import logging
import signal
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Mapping, TypeVar

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, make_asgi_app
from pydantic import Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sme_runtime import dlq, lag, telemetry, tracing
from sme_runtime.admission import AdmissionControl
from sme_runtime.auth import TokenVerifier
from sme_runtime.consumer import FAILING_POLLS, ReliableConsumers
from sme_runtime.kafka_access import KafkaAccess
from sme_runtime.docs import offline_docs_app
from sme_runtime.db import is_transient, make_engine, migrate, session_factory
from sme_runtime.errors import document_errors, install_error_handlers
from sme_runtime.logs import broker_logging, configure_logging
from sme_runtime.metrics import REGISTRY
from sme_runtime.problems import Problem, RuleViolation
from sme_runtime.relay import OutboxRelay
from sme_runtime.settings import ServiceSettings
from sme_runtime.topics import service_topics, start_when_kafka_answers
from sme_runtime.unit import Unit, in_unit
from sme_runtime.views import View
from sme_schemas import export
from sme_schemas.catalog import BY_TYPE

log = logging.getLogger(__name__)

BrokerFactory = Callable[[async_sessionmaker[AsyncSession]], KafkaBroker]
Background = Callable[[async_sessionmaker[AsyncSession]], Coroutine[Any, Any, None]]
State = TypeVar("State")
LAG_SECONDS = 15  # how often sme_consumer_lag is measured (a Prometheus scrape interval)


def service_broker(kafka: KafkaAccess, client_id: str, *, traced: bool = True, **options: Any) -> KafkaBroker:
    """The broker every process of the platform publishes and consumes with: an idempotent producer, acks=all,
    the Prometheus middleware, the platform's logging, and the tracing middleware unless `traced=False` — a process
    whose messages carry their own traceparent (the lookup workers' answers: each its lookup's span) must not have
    it replaced by the span of the poll that published them."""
    from faststream.kafka.prometheus import KafkaPrometheusMiddleware

    traces = telemetry.broker_middlewares(client_id) if traced else ()
    return KafkaBroker(kafka.bootstrap_servers, security=kafka.security(), client_id=client_id,
                       enable_idempotence=True, acks="all",
                       middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, app_name=client_id), *traces],
                       **broker_logging(), **options)


@asynccontextmanager
async def kafka_running(broker: KafkaBroker, settings: ServiceSettings, topics: list[str],
                        service: str) -> AsyncIterator[None]:
    """The broker's consumers started once Kafka answers (its topics created first) and the group's lag measured,
    while the block runs — the HTTP side works meanwhile; both stopped, and the broker with them, at its end."""
    tasks = [asyncio.create_task(start_when_kafka_answers(
                 broker, settings.kafka, topics, partitions=settings.topic_partitions,
                 replication_factor=settings.topic_replication_factor)),
             asyncio.create_task(lag_loop(settings.kafka, service))]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with suppress(Exception):
            await broker.stop()


def service_lifespan(settings: ServiceSettings, *, service: str, migrations: Path, topics: list[str],
                     build_broker: BrokerFactory, background: tuple[Background, ...] = ()
                     ) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Migrate, open the database, start the consumers when Kafka answers (the API works meanwhile, into the
    outbox), run the relay and any background loops; stop them all in order."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        await migrate(engine, migrations)
        sessions = session_factory(engine)
        app.state.engine, app.state.sessions = engine, sessions
        broker = app.state.broker = build_broker(sessions)
        try:
            async with kafka_running(broker, settings, topics, service):
                stoppable = [asyncio.create_task(loop(sessions)) for loop in background]
                relay = OutboxRelay(engine, service=service, bootstrap_servers=settings.kafka,
                                    batch_size=settings.relay_batch_size, idle_seconds=settings.relay_idle_seconds)
                relay_task = [asyncio.create_task(relay.run())] if settings.run_relay else []
                settle_garbage_collector()
                try:
                    yield
                finally:
                    relay.stop()  # the relay finishes its batch; the others are cancelled
                    for task in stoppable:
                        task.cancel()
                    await asyncio.gather(*stoppable, *relay_task, return_exceptions=True)
        finally:
            await engine.dispose()

    return lifespan


def settle_garbage_collector() -> None:
    """Keep the collector's full passes short under load. A full pass walked every object the process had ever
    made (libraries, models, compiled SQL) and paused intake for 20–70 ms every few thousand requests; at a
    deadline-day rate those pauses were the whole p99. Freezing what start-up built leaves the passes only the
    requests' own garbage, and a higher first threshold makes them rarer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def service_app(settings: ServiceSettings, *, service: str, title: str, description: str, migrations: Path,
                build_broker: BrokerFactory, router: APIRouter, default_rule: str,
                background: tuple[Background, ...] = (), internal_topics: tuple[str, ...] = (),
                **state: Any) -> FastAPI:
    """A service's FastAPI app: its lifespan, its routes, the one error shape, /health and /metrics; `state`
    (the service's domain object) is put on app.state beside the settings. `internal_topics` are the service's
    own topics beyond the public catalog (screening's per-registry lookups), created with the rest."""
    topics = sorted(set(service_topics(service)) | set(internal_topics))
    if not logging.getLogger().handlers:  # an HTTP worker process that uvicorn spawned: it logs as its parent does
        configure_logging(service)
    # Swagger UI and ReDoc from the package's own files, not a CDN: /docs must work on a municipal intranet
    app = offline_docs_app(title=title, version="1.0.0", description=description,
                           lifespan=service_lifespan(settings, service=service, migrations=migrations,
                                                     topics=topics, build_broker=build_broker,
                                                     background=background))
    app.state.settings = settings
    app.state.token_verifier = TokenVerifier(settings.jwt_secret, settings.jwks)
    for name, value in state.items():
        setattr(app.state, name, value)
    install_error_handlers(app, default_rule=default_rule)
    app.add_middleware(tracing.TraceRequests)
    telemetry.instrument_app(app, service)
    app.include_router(router)
    app.include_router(dlq.dead_letter_routes())
    install_operations(app, service)
    install_contracts(app, service)
    document_errors(app)
    admit_within(app, settings, service)
    return app


def admit_within(app: FastAPI, settings: ServiceSettings, service: str, *, for_browsers: bool = False) -> None:
    """Admission control outermost (added last): a refused request costs no tracing, parsing or database work."""
    app.add_middleware(AdmissionControl, service=service, max_in_flight=settings.max_in_flight,
                       max_loop_lag_ms=settings.max_loop_lag_ms, for_browsers=for_browsers)


def every(seconds: float, step: Callable[[State], Awaitable[Any]], log: logging.Logger,
          what: str) -> Callable[[State], Coroutine[Any, Any, None]]:
    """A background loop: `step` every `seconds`; a failure is logged and the next round tries again."""

    async def loop(state: State) -> None:
        while True:
            try:
                await step(state)
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                log.log(logging.WARNING if is_transient(exc) else logging.ERROR, "%s failed: %s", what, exc)
            await asyncio.sleep(seconds)

    return loop


def lag_loop(kafka: KafkaAccess | str, service: str) -> Coroutine[Any, Any, None]:
    """sme_consumer_lag of this process's subscriptions, measured every LAG_SECONDS until cancelled."""
    return every(LAG_SECONDS, lambda _: lag.measure(kafka, service), log, "measuring consumer lag")(None)


class SubscriptionsDisagree(Exception):
    """A service's subscription table is not what the catalog says it consumes."""


def check_subscriptions(service: str, table: Mapping[type, Any], internal: Iterable[type] = ()) -> None:
    """The table must name exactly the events `sme_schemas.catalog.CONSUMES[service]` lists (plus the service's
    own internal ones): the catalog is what the AsyncAPI documents and other teams read, so a subscription added,
    removed or forgotten in one place only would silently make one of them wrong."""
    from sme_schemas.catalog import CONSUMES

    declared, subscribed = set(CONSUMES[service]), set(table) - set(internal)
    if declared != subscribed:
        missing = sorted(e.__name__ for e in declared - subscribed)
        extra = sorted(e.__name__ for e in subscribed - declared)
        raise SubscriptionsDisagree(f"{service}: its subscriptions disagree with sme_schemas.catalog.CONSUMES"
                                    + (f"; not subscribed: {', '.join(missing)}" if missing else "")
                                    + (f"; not in the catalog: {', '.join(extra)}" if extra else ""))


def service_consumers(settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession], service: str,
                      subscriptions: Mapping[type, Any], *,
                      internal: Iterable[type] = (), by_program: bool = True,
                      unit_of: Callable[[Any], Unit[Any]]) -> ReliableConsumers:
    """A service's broker (idempotent producer, acks=all, Prometheus middleware) with its reliable consumers,
    subscribed to `subscriptions` (event → handler), which must agree with the catalog (check_subscriptions);
    hand `.broker` to the lifespan. `unit_of`: the handlers take the service's unit of work made from the
    transaction's session (sme_runtime.unit), not the session itself. `by_program=False`: a service that applies
    no program's rules takes events of programs it has no definition of (the others dead-letter them, A3); a
    version it has no definition of, of a program it knows, every service dead-letters (V1)."""
    consumers = ReliableConsumers(service_broker(settings.kafka, service), sessions, service=service,
                                  retry_max_seconds=settings.consumer_retry_max_seconds,
                                  batch_size=settings.consumer_batch_size,
                                  batch_wait_ms=settings.consumer_batch_wait_ms,
                                  programs=settings.programs, unknown_programs=not by_program)
    check_subscriptions(service, subscriptions, internal)
    for event, handler in subscriptions.items():
        consumers.subscribe(event, in_unit(handler, unit_of))
    return consumers


class Liveness(View):
    service: str
    status: str = Field(description="alive: the process and its event loop answer")


Readiness = Callable[[], Awaitable[JSONResponse]]


def install_probes(app: FastAPI, service: str, readiness: Readiness, *, ready_summary: str) -> None:
    """/metrics for Prometheus and the probes every process has, all open, none carrying personal data: /livez
    (the process answers: restart it when it does not) and /readyz (send it traffic: `readiness` says, 503 if
    not)."""
    app.mount("/metrics", make_asgi_app(_metrics_registry()))

    @app.get("/livez", tags=["operations"], summary="Liveness: the process and its event loop answer")
    async def livez() -> Liveness:
        return Liveness(service=service, status="alive")

    @app.get("/readyz", tags=["operations"], summary=ready_summary)
    async def readyz() -> JSONResponse:
        return await readiness()


def install_operations(app: FastAPI, service: str) -> None:
    """A service's probes (install_probes): ready when its database and broker are reachable (a restart would not
    help while PostgreSQL is away), and /health, the same with the details."""

    @app.get("/health", tags=["operations"], summary="Readiness with its details (no personal data)")
    async def health() -> JSONResponse:
        checks: dict[str, Any] = {"database": False, "kafka": False, "outbox_pending": None}
        try:
            async with app.state.engine.connect() as conn:
                checks["outbox_pending"] = (await conn.execute(
                    text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))).scalar_one()
            checks["database"] = True
        except Exception as exc:  # noqa: BLE001 - health reports, it does not fail
            checks["database_error"] = str(exc)[:200]
        checks["kafka"] = bool(getattr(getattr(app.state, "broker", None), "running", False))
        # a subscription whose polls keep failing takes nothing in: the service is not ready (issue 31)
        checks["failing_polls"] = dict(FAILING_POLLS)
        status = "ok" if checks["database"] and checks["kafka"] and not FAILING_POLLS else "degraded"
        return JSONResponse({"service": service, "status": status, **checks},
                            status_code=200 if checks["database"] and not FAILING_POLLS else 503)

    install_probes(app, service, health, ready_summary="Readiness: database and broker reachable, every "
                   "subscription polling (503 if not)")


def install_contracts(app: FastAPI, service: str) -> None:
    """The event contracts, open to any integrating team (issue 27): an event's `ce_dataschema` points here
    (SME_SCHEMA_BASE_URL), so a reader can fetch the schema of what it received, and the service's AsyncAPI."""

    @app.get("/schemas/{ce_type}.json", tags=["contracts"], summary="JSON Schema of an event type's body",
             response_class=JsonSchemaDocument)
    async def event_schema_of(ce_type: str, request: Request) -> JsonSchemaDocument:
        event = BY_TYPE.get(ce_type)
        if event is None:
            raise RuleViolation(Problem("ce_type", "not-found", f"{ce_type!r} is not an event type of the catalog"),
                                status_code=404)
        return JsonSchemaDocument({**export.event_schema(event), "$id": str(request.url)})

    @app.get("/asyncapi.json", tags=["contracts"], summary="This service's AsyncAPI 3.0 document",
             response_class=AsyncApiDocument)
    async def asyncapi_document() -> AsyncApiDocument:
        return AsyncApiDocument(export.asyncapi(service))


# Documents of their own standards (not views of ours): served with their registered media types
class JsonSchemaDocument(JSONResponse):
    media_type = "application/schema+json"


class AsyncApiDocument(JSONResponse):
    media_type = "application/vnd.aai.asyncapi+json"


def _metrics_registry() -> CollectorRegistry:
    """This process's registry, or — under several HTTP workers — one that gathers every worker's samples."""
    import os

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


# --- the commands every service's CLI has -----------------------------------------------------------------

@dataclass(frozen=True)
class Command:
    """A command of a service's own beside serve | relay | migrate | token (screening's `worker`)."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Any], None]  # (arguments, settings)


def service_main(service: str, settings_cls: type[ServiceSettings], *, roles: tuple[str, ...], doc: str,
                 serve_help: str = "HTTP API + subscriptions + outbox relay + background loops",
                 commands: dict[str, Command] | None = None) -> None:
    """`python -m <service> serve | relay | migrate | token | <its own commands>`: the CLI of a service whose app
    module is `<service>.app` (create_app, MIGRATIONS)."""
    parser = argparse.ArgumentParser(prog=f"python -m {service}", description=doc)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help=serve_help)
    commands = commands or {}
    for name, command in commands.items():
        command.configure(sub.add_parser(name, help=command.help))
    add_common_commands(sub, service, roles=roles)
    args = parser.parse_args()
    configure_logging(service)
    settings = settings_cls()
    app_module = importlib.import_module(f"{service}.app")
    if args.command == "serve" and settings.http_workers > 1:
        serve_workers(f"{service}.app:create_app", settings)
    elif args.command == "serve":
        serve(app_module.create_app(settings), settings)
    elif args.command in commands:
        commands[args.command].run(args, settings)
    else:
        run_common_command(args, settings, service=service, migrations=app_module.MIGRATIONS)


def serve_workers(factory: str, settings: ServiceSettings) -> None:
    """Several HTTP worker processes on one port (the kernel spreads connections over them). Each builds its own
    app from the environment; Prometheus then keeps every worker's samples in a shared folder and /metrics sums
    them (gauges per process, labelled by pid)."""
    import os
    import tempfile

    import uvicorn

    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="sme-metrics-"))
    uvicorn.run(factory, factory=True, workers=settings.http_workers, host=settings.http_host,
                port=settings.http_port, log_level="warning", backlog=4096, log_config=None)


def serve(app: FastAPI, settings: ServiceSettings, *, port: int | None = None) -> None:
    import uvicorn

    # A deep accept backlog: a deadline-day burst queues in the kernel instead of being refused.
    uvicorn.run(app, host=settings.http_host, port=port or settings.http_port, log_level="warning", backlog=4096,
                log_config=None)  # uvicorn's lines through ours: JSON (sme_runtime.logs)


def add_common_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser], service: str,
                        roles: tuple[str, ...]) -> None:
    sub.add_parser("relay", help=f"the outbox relay alone (set {service.upper()}_RUN_RELAY=false on the API then)")
    sub.add_parser("migrate", help="apply schema migrations and exit")
    token = sub.add_parser("token", help=f"mint a bearer token signed with {service.upper()}_JWT_SECRET")
    token.add_argument("--role", required=True, choices=list(roles))
    token.add_argument("--brn", help="business registration number (companies)")
    token.add_argument("--agency", action="append", help="an agency the staff member, evaluator or expert acts for "
                       "(a program file's `agency`; repeat for several, T1)")
    token.add_argument("--subject", default=None)
    token.add_argument("--key", type=Path, default=None, help="sign with this Ed25519 key (sme_runtime.keys) for "
                       "services that verify with its JWKS; default the shared development secret")
    dead = sub.add_parser("dlq", help="list the dead letters, or replay chosen ones after their cause is fixed")
    dead.add_argument("action", choices=["list", "replay"])
    dead.add_argument("ids", nargs="*", type=int, help="dead letter ids to replay")
    dead.add_argument("--consumer", help="list one consumer group's only")
    dead.add_argument("--by", help="who replays (recorded)")
    dead.add_argument("--reason", help="what was fixed (recorded)")


def run_common_command(args: argparse.Namespace, settings: ServiceSettings, *, service: str,
                       migrations: Path) -> bool:
    """Runs relay, migrate or token; False when the command is the service's own."""
    if args.command == "relay":
        asyncio.run(_relay(settings, service))
    elif args.command == "migrate":
        asyncio.run(_migrate(settings, migrations))
    elif args.command == "dlq":
        asyncio.run(_dead_letters(settings, args))
    elif args.command == "token":
        from sme_runtime.auth import Role, mint_token
        from sme_runtime.keys import load_signing_key

        signer = load_signing_key(args.key) if args.key else settings.jwt_secret
        if args.role != Role.COMPANY and not args.agency:
            raise SystemExit(f"token: a {args.role}'s token names the agencies they act for: --agency <id> (T1)")
        print(mint_token(signer, subject=args.subject or f"{args.role}:{args.brn or 'staff'}",
                         role=Role(args.role), brn=args.brn, agencies=args.agency or ()))
    else:
        return False
    return True


async def _relay(settings: ServiceSettings, service: str) -> None:
    telemetry.configure_telemetry(f"{service}-relay")
    engine = make_engine(settings.database_url, pool_size=2)
    relay = OutboxRelay(engine, service=service, bootstrap_servers=settings.kafka,
                        batch_size=settings.relay_batch_size, idle_seconds=settings.relay_idle_seconds)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, relay.stop)
    await relay.run()
    await engine.dispose()


async def _dead_letters(settings: ServiceSettings, args: argparse.Namespace) -> None:
    import json

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            if args.action == "list":
                for row in await dlq.dead_letters(session, dlq.Visible.everything(), consumer=args.consumer):
                    print(json.dumps(row, default=str, ensure_ascii=False))
                return
            if not args.ids or not args.by or not args.reason:
                raise SystemExit("dlq replay: give the ids, --by (who) and --reason (what was fixed)")
            for done in await dlq.replay(session, settings.kafka, args.ids, by=args.by,
                                         reason=args.reason, visible=dlq.Visible.everything()):
                print(f"replayed dead letter {done.dead_letter_id}: {done.topic}/{done.partition}/{done.offset} "
                      f"(event {done.event_id})")
    finally:
        await engine.dispose()


async def _migrate(settings: ServiceSettings, migrations: Path) -> None:
    engine = make_engine(settings.database_url, pool_size=1)
    print("applied:", await migrate(engine, migrations) or "nothing new")
    await engine.dispose()
