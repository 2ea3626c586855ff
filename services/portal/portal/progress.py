"""Where an application stands, in the words of the company that made it (issue 32): one status from every
service's events, never a stale one service's view ("서류 통과" after the subsidy was paid).

The steps a company goes through: 접수 → 심사 → 평가 → 선정 (or 대기 / 탈락) → 협약 → 수행 → 보고 → 지급 →
사후관리. Each event the portal reads sets a status at one step; the services publish independently, so events
of different services may be read out of order: a status never moves back to an earlier step, and an ending
(탈락, 취소, 포기, 해지) is kept whatever is read after it. Pure; the notifier stores each event's status with its
timeline line and the pages fold them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

STEPS = ("접수", "심사", "평가", "선정", "협약", "수행", "보고", "지급", "사후관리")


@dataclass(frozen=True)
class Status:
    step: str  # one of STEPS
    words: str  # what the company reads: "서류 보완 요청 (기한 …)", "선정 대기 (예비 2순위)"
    ended: bool = False  # 탈락, 취소, 포기, 해지: the application goes no further

    def __post_init__(self) -> None:
        if self.step not in STEPS:
            raise ValueError(f"step {self.step!r} is none of {STEPS}")

    @property
    def rank(self) -> int:
        return STEPS.index(self.step)


def after(current: Status | None, read: Status) -> Status:
    """The status once `read` is taken in: a later step, or another status of the same step, replaces the
    current one (a waitlisted company promoted: 대기 → 선정, both at 선정); an earlier step's late event does not;
    an ending stays."""
    if current is None:
        return read
    if current.ended:
        return current
    return read if read.rank >= current.rank else current


def fold(statuses: Iterable[Status | None]) -> Status | None:
    """The status after every event of an application, in the order they were read."""
    current = None
    for status in statuses:
        if status is not None:
            current = after(current, status)
    return current
