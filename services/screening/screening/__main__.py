"""python -m screening serve | worker --registry NAME | relay | migrate | token --role ROLE"""
from __future__ import annotations

import argparse
import logging

from screening.config import ScreeningSettings
from screening.lookups import Registry

SERVICE = "screening"


def _serve(settings: ScreeningSettings) -> None:
    import uvicorn

    from screening.app import create_app

    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_level="warning")


def _worker(settings: ScreeningSettings, registry: Registry) -> None:
    import uvicorn

    from screening.worker import create_worker_app

    uvicorn.run(create_worker_app(registry, settings), host=settings.http_host, port=settings.worker_http_port,
                log_level="warning")


def main() -> None:
    from sme_runtime.service import add_common_commands, run_common_command

    parser = argparse.ArgumentParser(prog="python -m screening", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="HTTP API + subscriptions + outbox relay + E6 deadline sweeper")
    worker = sub.add_parser("worker", help="the lookup worker of one registry (its own process and consumer group)")
    worker.add_argument("--registry", required=True, choices=[r.value for r in Registry])
    add_common_commands(sub, SERVICE, roles=("operator", "company"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = ScreeningSettings()
    if args.command == "serve":
        _serve(settings)
    elif args.command == "worker":
        _worker(settings, Registry(args.registry))
    else:
        from screening.app import MIGRATIONS

        run_common_command(args, settings, service=SERVICE, migrations=MIGRATIONS)


if __name__ == "__main__":
    main()
