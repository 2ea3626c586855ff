"""python -m screening serve | worker --registry NAME | similarity index|search | relay | migrate | token --role ROLE"""
from __future__ import annotations

import argparse

from screening.config import ScreeningSettings
from screening.lookup.messages import Registry
from sme_runtime.service import Command, serve, service_main


def _worker_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", required=True, choices=[r.value for r in Registry])


def _worker(args: argparse.Namespace, settings: ScreeningSettings) -> None:
    from screening.lookup.worker import create_worker_app

    serve(create_worker_app(Registry(args.registry), settings), settings, port=settings.worker_http_port)


WORKER = Command(help="the lookup worker of one registry (its own process and consumer group; run replicas "
                      "of it to share the registry's backlog)", configure=_worker_arguments, run=_worker)


def _similarity_arguments(parser: argparse.ArgumentParser) -> None:
    from screening.similarity import cli

    cli.configure(parser)


def _similarity(args: argparse.Namespace, settings: ScreeningSettings) -> None:
    from screening.similarity import cli

    cli.run(args, settings)


SIMILARITY = Command(help="the prior-project index of the duplicate-project check (D1–D3): build it from "
                          "registry exports, search it with plans", configure=_similarity_arguments, run=_similarity)


def main() -> None:
    service_main("screening", ScreeningSettings, roles=("operator", "company"), doc=__doc__,
                 serve_help="HTTP API + subscriptions + outbox relay + E6 deadline sweeper",
                 commands={"worker": WORKER, "similarity": SIMILARITY})


if __name__ == "__main__":
    main()
