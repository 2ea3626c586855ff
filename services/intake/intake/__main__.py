"""python -m intake serve | relay | migrate | token --role ROLE [--brn BRN] [--subject S]"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from intake.config import IntakeSettings


def _serve(settings: IntakeSettings) -> None:
    import uvicorn

    from intake.app import create_app

    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_level="warning")


async def _relay(settings: IntakeSettings) -> None:
    from sme_runtime.db import make_engine
    from sme_runtime.relay import OutboxRelay

    engine = make_engine(settings.database_url, pool_size=2)
    relay = OutboxRelay(engine, service="intake", bootstrap_servers=settings.kafka_bootstrap_servers,
                        batch_size=settings.relay_batch_size, idle_seconds=settings.relay_idle_seconds)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, relay.stop)
    await relay.run()
    await engine.dispose()


async def _migrate(settings: IntakeSettings) -> None:
    from intake.app import MIGRATIONS
    from sme_runtime.db import make_engine, migrate

    engine = make_engine(settings.database_url, pool_size=1)
    print("applied:", await migrate(engine, MIGRATIONS) or "nothing new")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m intake", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="HTTP API + subscriptions + outbox relay")
    sub.add_parser("relay", help="the outbox relay alone (set INTAKE_RUN_RELAY=false on the API then)")
    sub.add_parser("migrate", help="apply schema migrations and exit")
    token = sub.add_parser("token", help="mint a bearer token signed with INTAKE_JWT_SECRET")
    token.add_argument("--role", required=True, choices=["operator", "company", "evaluator", "expert"])
    token.add_argument("--brn", help="business registration number (companies)")
    token.add_argument("--subject", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = IntakeSettings()
    if args.command == "serve":
        _serve(settings)
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
