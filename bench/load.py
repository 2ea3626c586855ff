"""An open-loop HTTP load generator light enough to share 2 cores with the service it measures.

httpx spent about a core of this machine sending 200 forms/s — more than intake spent answering them — so the
benchmark measured its own client. This one writes pre-encoded HTTP/1.1 requests on keep-alive connections and
reads just the status line, Content-Length and body. A form arriving while every connection is busy opens a new
one instead of waiting, so arrivals stay at their scheduled times (no coordinated omission)."""
from __future__ import annotations

import asyncio
import gc
import json
import time
from dataclasses import dataclass, field


@dataclass
class Outcome:
    """What the service answered: latencies from each request's scheduled arrival, bodies of the accepted."""

    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # seconds from the start, beside each latency
    accepted: list[bytes] = field(default_factory=list)  # raw bodies: parsed after the run, not during it
    accepted_ms: list[float] = field(default_factory=list)
    shed_ms: list[float] = field(default_factory=list)  # 503 with Retry-After: refused at once, nothing done
    errors: list[str] = field(default_factory=list)


def encode_post(host: str, path: str, body: dict, headers: dict[str, str]) -> bytes:
    payload = json.dumps(body, ensure_ascii=False).encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json",
             f"Content-Length: {len(payload)}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    request: bytes) -> tuple[int, bytes, bool]:
    """(status, body, whether it named a Retry-After)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, retry_after = 0, False
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
        retry_after = retry_after or line[:12].lower() == b"retry-after:"
    return status, await reader.readexactly(length), retry_after


KEEP_ALIVE_SECONDS = 4  # below uvicorn's 5 s keep-alive timeout: never send on a connection it is closing


async def open_loop(host: str, port: int, requests: list[bytes], rate: float, *, accepted_status: int = 201,
                    timeout: float = 60) -> Outcome:
    """Send request i at start + i/rate, each on an idle keep-alive connection (or a new one)."""
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
    outcome, opened = Outcome(), set()

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while idle:
            reader, writer, since = idle.pop()
            if time.monotonic() - since < KEEP_ALIVE_SECONDS and not reader.at_eof():
                return reader, writer
            writer.close()
        reader, writer = await asyncio.open_connection(host, port)
        opened.add(writer)
        return reader, writer

    async def one(request: bytes, arrival: float) -> None:
        connection = await connect()
        try:
            status, body, retry_after = await asyncio.wait_for(_exchange(*connection, request), timeout)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            outcome.errors.append(type(exc).__name__)
            connection[1].close()
            return
        latency = (time.perf_counter() - arrival) * 1000
        outcome.latencies_ms.append(latency)
        outcome.arrivals.append(arrival - started)
        idle.append((*connection, time.monotonic()))
        if status == accepted_status:
            outcome.accepted.append(body)
            outcome.accepted_ms.append(latency)
        elif status == 503 and retry_after:
            outcome.shed_ms.append(latency)
        else:
            outcome.errors.append(f"{status} {body[:200].decode(errors='replace')}")

    # The generator's own collector would pause it as its heap of forms grows, and every pause would be charged
    # to the service as latency: collect once, then not during the run.
    gc.collect()
    gc.disable()
    started = time.perf_counter()
    tasks = []
    for i, request in enumerate(requests):
        arrival = started + i / rate
        if (pause := arrival - time.perf_counter()) > 0:
            await asyncio.sleep(pause)
        tasks.append(asyncio.create_task(one(request, arrival)))
    await asyncio.gather(*tasks)
    outcome.seconds = time.perf_counter() - started
    gc.enable()
    for writer in opened:
        writer.close()
    return outcome
