"""A local SMTP server standing in for the center's mail server: every message it receives is kept as an .eml file
(and a line in the log), so the portal's notices can be read after a run. `python -m deploy.local.mailbox --port
8025 --dir .local/mail`."""
from __future__ import annotations

import argparse
import email
import email.policy
import signal
import threading
from datetime import datetime, timezone
from pathlib import Path

from aiosmtpd.controller import Controller


class Keeper:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        name = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}.eml"
        (self.folder / name).write_bytes(envelope.content)
        print(f"mail to {', '.join(envelope.rcpt_tos)}: {message['Subject']} ({name})", flush=True)
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    controller = Controller(Keeper(args.dir), hostname=args.host, port=args.port)
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    print(f"mailbox listening on {args.host}:{args.port}, keeping messages in {args.dir}", flush=True)
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    main()
