"""python -m screening serve | worker --registry NAME | relay | migrate | token --role ROLE"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from screening.config import ScreeningSettings
from screening.lookups import Registry


def _serve(settings: ScreeningSettings) -> None:
    import uvicorn

    from screening.app import create_app

    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_level="warning")


def _worker(settings: ScreeningSettings, registry: Registry) -> None:
    import uvicorn

    from screening.worker import create_worker_app

    uvicorn.run(create_worker_app(registry, settings), host=settings.http_host, port=settings.worker_http_port,
                log_level="warning")


async def _relay(settings: ScreeningSettings) -> None:
    from sme_runtime.db import make_engine
    from sme_runtime.relay import OutboxRelay

    engine = make_engine(settings.database_url, pool_size=2)
    relay = OutboxRelay(engine, service="screening", bootstrap_servers=settings.kafka_bootstrap_servers,
                        batch_size=settings.relay_batch_size, idle_seconds=settings.relay_idle_seconds)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, relay.stop)
    await relay.run()
    await engine.dispose()


async def _migrate(settings: ScreeningSettings) -> None:
    from screening.app import MIGRATIONS
    from sme_runtime.db import make_engine, migrate

    engine = make_engine(settings.database_url, pool_size=1)
    print("applied:", await migrate(engine, MIGRATIONS) or "nothing new")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m screening", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="HTTP API + subscriptions + outbox relay + E6 deadline sweeper")
    worker = sub.add_parser("worker", help="the lookup worker of one registry (its own process and consumer group)")
    worker.add_argument("--registry", required=True, choices=[r.value for r in Registry])
    sub.add_parser("relay", help="the outbox relay alone (set SCREENING_RUN_RELAY=false on the API then)")
    sub.add_parser("migrate", help="apply schema migrations and exit")
    token = sub.add_parser("token", help="mint a bearer token signed with SCREENING_JWT_SECRET")
    token.add_argument("--role", required=True, choices=["operator", "company"])
    token.add_argument("--brn")
    token.add_argument("--subject", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = ScreeningSettings()
    if args.command == "serve":
        _serve(settings)
    elif args.command == "worker":
        _worker(settings, Registry(args.registry))
    elif args.command == "relay":
        asyncio.run(_relay(settings))
    elif args.command == "migrate":
        asyncio.run(_migrate(settings))
    else:
        from sme_runtime.auth import Role, mint_token

        print(mint_token(settings.jwt_secret, subject=args.subject or f"{args.role}:{args.brn or 'staff'}",
                         role=Role(args.role), brn=args.brn))


if __name__ == "__main__":
    main()
