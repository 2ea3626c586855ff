"""Issue 30: a lookup worker's HTTP pools recover after a registry timeout storm. Under CPU starvation one
duplicate-projects worker ended with all 64 registry connections in CLOSE-WAIT — calls cut short by cancellation
left their connections in httpcore's pool for good (httpcore #1093) — and answered three lookups a minute while
the other replicas were fine. Here a real local registry hangs every call under a tiny timeout, calls are also
cancelled from outside, the registry is killed mid-request, and a healthy one comes back on the same port: the
adapter must answer again, and keep no socket the registry has closed."""
from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from pathlib import Path

from screening.lookup.adapters import RegistryUnavailable, SanctionsRegistry
from tests.unit.test_lookup_worker_scale import subject, BRNS

CLOSE_WAIT = "08"  # the kernel's state code in /proc/net/tcp
GIVE_UP_SECONDS = 90  # a generous bound on the recovery, only so a broken pool fails the test instead of hanging


class Registry:
    """A sanctions registry on a real socket (its batch search: no records) that either hangs every call or
    answers it, and can be killed mid-request (every connection aborted, as a crashed process's are)."""

    def __init__(self, port: int) -> None:
        self.port, self.hanging, self.answered = port, True, 0
        self.server: asyncio.AbstractServer | None = None
        self.connections: set[asyncio.StreamWriter] = set()

    async def start(self, *, hanging: bool) -> None:
        self.hanging = hanging
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                asked = json.loads(await reader.readexactly(length) or b"{}")
                if self.hanging:
                    await asyncio.sleep(3600)
                await asyncio.sleep(random.uniform(0, 0.01))
                body = json.dumps({"results": [{"brn": b, "records": []} for b in asked.get("brns", [])]}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
                self.answered += 1
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.connections.discard(writer)
            writer.close()

    async def kill(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.connections):
            writer.transport.abort()
        await self.server.wait_closed()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sockets_in_close_wait(port: int) -> int:
    """This host's TCP sockets to the registry's port that the registry closed and their owner has not."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port, state = int(fields[2].split(":")[1], 16), fields[3]
            count += remote_port == port and state == CLOSE_WAIT
    return count


async def storm(adapter: SanctionsRegistry, calls: int) -> None:
    """Calls that time out in the adapter, half of them also cut short from outside (a worker giving up)."""
    async def one(i: int) -> None:
        call = adapter.look_up(subject(BRNS[i % len(BRNS)]))
        try:
            if i % 2:
                await asyncio.wait_for(call, random.uniform(0.001, 0.05))
            else:
                await call
        except (RegistryUnavailable, asyncio.TimeoutError):
            pass

    await asyncio.gather(*(one(i) for i in range(calls)))


async def answered_rounds(adapter: SanctionsRegistry, *, rounds: int, calls: int) -> bool:
    """`rounds` rounds in a row of `calls` concurrent calls, every one answered; False at the give-up bound."""
    in_a_row, deadline = 0, time.monotonic() + GIVE_UP_SECONDS
    while in_a_row < rounds:
        if time.monotonic() > deadline:
            return False
        outcomes = await asyncio.gather(*(adapter.look_up(subject(BRNS[i])) for i in range(calls)),
                                        return_exceptions=True)
        in_a_row = in_a_row + 1 if not any(isinstance(o, BaseException) for o in outcomes) else 0
        if in_a_row == 0:
            await asyncio.sleep(0.2)
    return True


async def test_the_pool_recovers_after_a_timeout_storm_and_a_registry_killed_mid_request():
    port = free_port()
    registry = Registry(port)
    await registry.start(hanging=True)
    adapter = SanctionsRegistry(f"http://127.0.0.1:{port}", connections=8, timeout_seconds=0.2)
    try:
        for _ in range(5):
            await storm(adapter, 64)
        under_way = asyncio.ensure_future(storm(adapter, 32))
        await asyncio.sleep(0.05)
        await registry.kill()  # mid-request: the registry closes every connection it had
        await under_way

        await registry.start(hanging=False)
        assert await answered_rounds(adapter, rounds=5, calls=16), \
            f"the adapter did not answer again within {GIVE_UP_SECONDS}s of the registry's return"
        deadline = time.monotonic() + GIVE_UP_SECONDS
        while sockets_in_close_wait(port) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert sockets_in_close_wait(port) == 0
    finally:
        await adapter.aclose()
        await registry.kill()
