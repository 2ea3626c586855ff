"""python -m contracts serve | relay | migrate | token --role ROLE [--brn BRN]"""
from __future__ import annotations

import argparse
import logging

from contracts.config import ContractsSettings

SERVICE = "contracts"


def main() -> None:
    from sme_runtime.service import add_common_commands, run_common_command

    parser = argparse.ArgumentParser(prog="python -m contracts", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="HTTP API + subscriptions + outbox relay + gauges")
    add_common_commands(sub, SERVICE, roles=("operator", "company", "expert"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = ContractsSettings()
    if args.command == "serve":
        import uvicorn

        from contracts.app import create_app

        uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_level="warning")
    else:
        from contracts.app import MIGRATIONS

        run_common_command(args, settings, service=SERVICE, migrations=MIGRATIONS)


if __name__ == "__main__":
    main()
