"""python -m intake serve | relay | migrate | token --role ROLE [--brn BRN] [--subject S]"""
from __future__ import annotations

import argparse
import logging

from intake.config import IntakeSettings

SERVICE = "intake"


def _serve(settings: IntakeSettings) -> None:
    import uvicorn

    from intake.app import create_app

    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_level="warning")


def main() -> None:
    from sme_runtime.service import add_common_commands, run_common_command

    parser = argparse.ArgumentParser(prog="python -m intake", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="HTTP API + subscriptions + outbox relay")
    add_common_commands(sub, SERVICE, roles=("operator", "company", "evaluator", "expert"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = IntakeSettings()
    if args.command == "serve":
        _serve(settings)
    else:
        from intake.app import MIGRATIONS

        run_common_command(args, settings, service=SERVICE, migrations=MIGRATIONS)


if __name__ == "__main__":
    main()
