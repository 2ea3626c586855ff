"""Issue 32: `deploy/local/down.sh` stops every process the main job started (deploy/local/started.py) — real OS
processes here, started the way the main job starts them."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.local import started
from deploy.local.procs import ROOT, ServiceProcess


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pid_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "run"
    monkeypatch.setenv("SME_PID_DIR", str(folder))
    return folder


def stop_command(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deploy.local.started", "stop", "--dir", str(folder)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)


def test_a_process_the_job_started_and_left_running_is_stopped_by_the_stop_command(pid_dir: Path, tmp_path: Path):
    mailbox = ServiceProcess("deploy.local.mailbox", ["--port", str(free_port()), "--dir", str(tmp_path / "mail")],
                             {}, log=tmp_path / "mailbox.log").start(wait=False)
    assert json.loads((pid_dir / "mailbox.pid").read_text())["pid"] == mailbox.proc.pid
    answer = stop_command(pid_dir)
    assert mailbox.proc.wait(30) is not None
    assert "stopped 1 processes" in answer.stdout and "mailbox" in answer.stdout
    assert list(pid_dir.glob("*.pid")) == []


def test_a_process_stopped_by_the_job_itself_leaves_no_note(pid_dir: Path, tmp_path: Path):
    mailbox = ServiceProcess("deploy.local.mailbox", ["--port", str(free_port()), "--dir", str(tmp_path / "mail")],
                             {}, log=tmp_path / "mailbox.log").start(wait=False)
    mailbox.stop()
    assert list(pid_dir.glob("*.pid")) == []


def test_one_that_ignores_the_polite_signal_is_ended_after_the_grace_period(pid_dir: Path):
    command = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
               "print('up', flush=True); time.sleep(600)"]
    stubborn = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert stubborn.stdout.readline().strip() == "up"  # its SIGTERM handler is in place
    started.remember("stubborn", stubborn.pid, command)
    assert started.stop_started(pid_dir, grace=0.5) == ["stubborn"]
    assert stubborn.wait(10) == -9


def test_a_pid_now_running_another_program_is_left_alone(pid_dir: Path):
    # The kernel reuses pids: a note whose pid runs something else (this test) must not end that
    started.remember("portal", os.getpid(), [sys.executable, "-m", "portal", "serve"])
    assert started.stop_started(pid_dir, grace=0.1) == []
    assert list(pid_dir.glob("*.pid")) == []


def test_with_nothing_started_the_stop_command_says_so(tmp_path: Path):
    assert "nothing the main job started" in stop_command(tmp_path / "never-made").stdout
