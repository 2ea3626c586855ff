"""Checks the program sections share when a program file is read."""
from __future__ import annotations

from collections.abc import Hashable, Sequence


def each_once(values: Sequence[Hashable], message: str) -> None:
    """Codes (or sources) name one thing each; `message` names the field when one repeats."""
    if len(values) != len(set(values)):
        raise ValueError(f"{message}, got {list(values)}")
