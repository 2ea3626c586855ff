"""What the main job started, so that `deploy/local/down.sh` stops all of it (issue 32): the services, the lookup
workers, the registry stand-ins, the portal, the mail server and Prometheus, whether the job ended, failed or was
left running with --keep-running.

Each process leaves a file in $SME_PID_DIR (the main job sets .local/run) naming its pid and its command line;
`python -m deploy.local.started stop` ends every one whose pid still runs that command line (a pid the kernel has
since given to another program is left alone), politely first (SIGTERM), then for good after a grace period."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

GRACE_SECONDS = 20.0


def pid_dir() -> Path | None:
    folder = os.environ.get("SME_PID_DIR")
    return Path(folder) if folder else None


def remember(name: str, pid: int, command: list[str]) -> None:
    """Note a started process (nothing when no SME_PID_DIR is set: the tests and benchmarks stop their own)."""
    folder = pid_dir()
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.pid").write_text(json.dumps({"pid": pid, "command": command}), encoding="utf-8")


def forget(name: str) -> None:
    folder = pid_dir()
    if folder is not None:
        (folder / f"{name}.pid").unlink(missing_ok=True)


def command_line(pid: int) -> list[str] | None:
    """What `pid` runs now, None when it has ended (or is a zombie)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0")[:-1]] or None


def _still_ours(note: dict) -> bool:
    running = command_line(note["pid"])
    return running == note["command"]


def stop_started(folder: Path, grace: float = GRACE_SECONDS) -> list[str]:
    """Stop every process noted in `folder`; returns the names of those that were still running."""
    notes = {}
    for file in sorted(folder.glob("*.pid")):
        try:
            note = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            file.unlink(missing_ok=True)
            continue
        if _still_ours(note):
            notes[file] = note
            os.kill(note["pid"], signal.SIGTERM)
        else:
            file.unlink(missing_ok=True)
    deadline = time.monotonic() + grace
    while any(_still_ours(n) for n in notes.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    for file, note in notes.items():
        if _still_ours(note):
            os.kill(note["pid"], signal.SIGKILL)
        file.unlink(missing_ok=True)
    return [file.stem for file in notes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["stop"])
    parser.add_argument("--dir", type=Path, default=pid_dir())
    args = parser.parse_args()
    if args.dir is None or not args.dir.is_dir():
        print("nothing the main job started is running")
        return
    stopped = stop_started(args.dir)
    print(f"stopped {len(stopped)} processes the main job started" + (f": {', '.join(stopped)}" if stopped else ""))
    sys.exit(0)


if __name__ == "__main__":
    main()
