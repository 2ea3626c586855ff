"""No fixed waits (issue 28): a wait lasts while something moves and ends a quiet period after nothing does, with
a message naming what stopped; the deploy scripts' wait watches the process it waits for."""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time

import pytest

from deploy.local.waiting import Stalled, cpu_seconds, wait_while_moving
from tests.conftest import ROOT


def test_a_wait_outlasts_its_quiet_period_while_the_awaited_answer_keeps_changing():
    counter = itertools.count()
    began = time.monotonic()
    value = wait_while_moving(lambda: next(counter), lambda n: n >= 30, what="counting", quiet=0.1, interval=0.01)
    assert value == 30 and time.monotonic() - began > 0.1  # longer than a fixed 0.1 s limit would have allowed


def test_a_wait_on_an_unchanging_answer_stops_after_the_quiet_period_naming_what_and_the_last_answer():
    began = time.monotonic()
    with pytest.raises(Stalled, match=r"screening: nothing moved for 0.2 s .*last seen: 'screening 19'"):
        wait_while_moving(lambda: "screening 19", lambda v: False, what="screening", quiet=0.2, interval=0.02)
    assert 0.2 <= time.monotonic() - began < 2


def test_a_moving_signal_keeps_a_wait_alive_until_the_ceiling():
    ticks = itertools.count()

    def busy():
        """the services' writes"""
        return next(ticks)

    began = time.monotonic()
    with pytest.raises(Stalled, match="still not done after 0.3 s though things kept moving"):
        wait_while_moving(lambda: "same", lambda v: False, what="x", quiet=0.05, interval=0.01, signals=(busy,),
                          ceiling=0.3)
    assert time.monotonic() - began >= 0.3


def test_cpu_seconds_reads_a_live_process_and_nothing_of_a_gone_one():
    assert cpu_seconds(os.getpid()) > 0
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert cpu_seconds(gone.pid) is None


def _shell_wait(condition: str, worker: list[str], quiet: str = "1") -> tuple[int, float]:
    proc = subprocess.Popen(worker)
    try:
        began = time.monotonic()
        done = subprocess.run(["bash", "-c", f'source "{ROOT}/deploy/local/common.sh"; WAIT_PID={proc.pid} '
                               f"wait_until {condition}"], env={**os.environ, "SME_QUIET_SECONDS": quiet,
                                                                "SME_LOCAL_DIR": "/tmp/sme-wait-test"})
        return done.returncode, time.monotonic() - began
    finally:
        proc.kill()
        proc.wait()


def test_the_scripts_wait_while_the_process_works_past_the_quiet_period():
    flag = f"/tmp/sme-wait-{os.getpid()}"
    busy_then_done = [sys.executable, "-c", "import time, pathlib\nend = time.time() + 2.5\nwhile time.time() < end: "
                      f"pass\npathlib.Path({flag!r}).touch()\ntime.sleep(30)"]
    try:
        rc, took = _shell_wait(f"test -e {flag}", busy_then_done)
        assert rc == 0 and took > 2  # more than the 1 s quiet period: it kept working
    finally:
        if os.path.exists(flag):
            os.unlink(flag)


def test_the_scripts_give_up_on_an_idle_process_after_the_quiet_period():
    rc, took = _shell_wait("false", [sys.executable, "-c", "import time; time.sleep(30)"])
    assert rc == 1 and took < 10
