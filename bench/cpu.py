"""CPU time each process of a run used, from /proc: the figure that holds on any host (issue 30). A rate moves
with whatever else the shared machine runs; the CPU milliseconds one application costs each process do not.

A process's CPU is its own user + system time and that of the children it has already reaped (PostgreSQL's
backends that ended, for instance), plus its live descendants', so a before/after difference counts every
backend that came and went in between.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its reaped children), None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), sum(int(f) for f in fields[11:15]) / TICKS


def tree_cpu_seconds(roots: Iterable[int]) -> float:
    """CPU seconds of the processes `roots` and all their live descendants (their reaped children included)."""
    stats = {int(p.name): s for p in Path("/proc").iterdir() if p.name.isdigit() and (s := _stat(int(p.name)))}
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    seen: set[int] = set()
    todo = [pid for pid in roots if pid in stats]
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo += children.get(pid, [])
    return sum(stats[pid][1] for pid in seen)


def pid_in(file: Path) -> int | None:
    """The pid a pid file names first (Kafka's, PostgreSQL's postmaster.pid)."""
    try:
        return int(file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds per named group of processes between two readings."""

    seconds: dict[str, float]

    def ms_per(self, applications: int) -> dict[str, float]:
        return {name: 1000 * s / applications for name, s in self.seconds.items()}

    def total_ms_per(self, applications: int, *, besides: Iterable[str] = ()) -> float:
        skip = set(besides)
        return sum(ms for name, ms in self.ms_per(applications).items() if name not in skip)


class CpuMeter:
    """Reads the CPU of named process groups now and again later; the difference is what the run cost."""

    def __init__(self, groups: Mapping[str, Iterable[int]], *, own: str = "bench") -> None:
        self.groups = {name: [p for p in pids if p] for name, pids in groups.items()}
        self.own = own  # this process alone: its children are the services, counted in their groups
        self.start = self._read()

    def _read(self) -> dict[str, float]:
        mine = os.times()
        return {**{name: tree_cpu_seconds(pids) for name, pids in self.groups.items()},
                self.own: mine.user + mine.system}

    def used(self) -> CpuUse:
        end = self._read()
        return CpuUse({name: max(0.0, end[name] - self.start[name]) for name in end})
