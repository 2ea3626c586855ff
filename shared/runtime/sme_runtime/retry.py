"""One retry policy for every loop that waits for a dependency (broker, database) to come back.

Exponential backoff with jitter: the n-th wait is drawn from [ceiling/2, ceiling], ceiling = min(cap, first·2ⁿ).
Without the random half, the nine processes of a deployment that lost the broker together retry together, at the
same instants, for as long as it is away (a thundering herd on its return); with it they spread over half of
each interval, and the fixed half keeps any one of them from hammering it."""
from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    first: float = 0.1
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.first * 2 ** min(self.attempt, 60))
        self.attempt += 1
        return self.rng.uniform(ceiling / 2, ceiling)

    async def wait(self) -> float:
        """Sleep the next delay; returns it (for the log line)."""
        delay = self.next_delay()
        await asyncio.sleep(delay)
        return delay

    def reset(self) -> None:
        """The dependency answered: the next failure starts from `first` again."""
        self.attempt = 0
