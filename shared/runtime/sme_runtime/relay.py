"""Publishes the outbox to Kafka with an idempotent producer (acks=all), then marks the rows sent.

A crash between publishing and marking re-publishes those rows with the same ce_id: delivery is at least once,
and consumers deduplicate on ce_id. Rows are read in id order so every application's events keep their order.
A service may run several processes (API workers, replicas), each with a relay: only the one holding the
database's relay lock publishes at a time — two relays publishing neighbouring batches at once could put an
application's later event on the bus before its earlier one — and the others stand by to take over when it dies
(the lock is a transaction lock, released with its connection).

An idle relay does not poll: it LISTENs on the database's `sme_outbox` channel, which a trigger on the outbox
notifies at the commit of every transaction that wrote to it, and looks again at once. `idle_seconds` bounds the
wait in case a notification is missed (the listening connection lost and not yet back).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from opentelemetry.trace import Span, SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine

from sme_runtime import metrics, telemetry, tracing
from sme_runtime.kafka_access import KafkaAccess, kafka_access
from sme_runtime.retry import Backoff

log = logging.getLogger(__name__)
SEND_TIMEOUT_SECONDS = 30.0
RELAY_LOCK = 7_240_602  # advisory lock id: one publishing relay per service database
# The relay's producer (bench.ceilings measures the broker's ceiling with the same settings)
PRODUCER: dict[str, Any] = dict(enable_idempotence=True, acks="all", linger_ms=5, request_timeout_ms=15_000)
LINGER_SECONDS = 0.02  # a woken relay waits this long for more commits before it reads the outbox
CHANNEL = "sme_outbox"  # notified by the outbox trigger (migration 0000_runtime_4_outbox_notify)


def relay_producer(kafka: KafkaAccess | str, *, client_id: str) -> AIOKafkaProducer:
    """A producer that never writes a duplicate or loses an acknowledged record. Plain aiokafka: the relay sends
    rows that are events already (body, key, headers), and FastStream's publish around each was a third of the
    relay's CPU (issue 30)."""
    return AIOKafkaProducer(**kafka_access(kafka).client(), client_id=client_id, **PRODUCER)


def _traceparent(row: Any) -> tuple[str, Span | None]:
    """The `traceparent` a row goes out with: its PRODUCER span's when spans are exported (a child of the step
    that wrote it, the parent of the consumers' spans), else the step's own, as written."""
    if not telemetry.exporting():
        return row.headers.get("traceparent") or tracing.outgoing(), None
    span = _publishing(row)
    return tracing.Trace.of(span).traceparent, span


def _publishing(row: Any) -> Span:
    """The PRODUCER span of one outbox row."""
    return tracing.span_of(row.headers.get("traceparent"), f"{row.topic} publish", kind=SpanKind.PRODUCER,
                           attributes={"messaging.system": "kafka", "messaging.destination.name": row.topic,
                                       "messaging.message.id": str(row.event_id)})


class OutboxRelay:
    """One relay loop of a service; run it in the service process or alone (`python -m <svc> relay`)."""

    def __init__(self, engine: AsyncEngine, *, service: str, bootstrap_servers: KafkaAccess | str,
                 batch_size: int = 500, idle_seconds: float = 1.0) -> None:
        self.engine, self.service = engine, service
        self.bootstrap_servers, self.batch_size, self.idle_seconds = bootstrap_servers, batch_size, idle_seconds
        self._sender: AIOKafkaProducer | None = None
        self._stopping = asyncio.Event()
        self._written = asyncio.Event()  # a transaction that wrote to the outbox has committed
        self._listening: asyncpg.Connection | None = None
        self.wake_ups = 0  # times a notification woke the relay (the tests' and the operators' evidence)

    async def run(self) -> None:
        """Publish until stopped; failures back off and retry, never skip a row."""
        backoff = Backoff(first=0.2, cap=10.0)
        try:
            while not self._stopping.is_set():
                try:
                    await self._listen()
                    self._written.clear()  # before the read: a commit after it wakes the next wait
                    published = await self.publish_batch()
                    backoff.reset()
                    if published < self.batch_size:
                        await self._idle()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - any failure: the batch stays unsent and is retried
                    metrics.RELAY_FAILURES.labels(self.service).inc()
                    delay = backoff.next_delay()
                    log.warning("relay batch failed (%s: %s); retrying in %.1fs", type(exc).__name__, exc, delay)
                    await self._reset_producer()
                    await self._sleep(delay)
        finally:
            await self._stop_listening()
            await self._reset_producer()

    def stop(self) -> None:
        self._stopping.set()

    async def publish_batch(self) -> int:
        """Publish one batch and mark it sent in the same transaction that locked it; returns rows published."""
        started = time.perf_counter()
        async with self.engine.begin() as conn:
            if not (await conn.execute(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": RELAY_LOCK})).scalar():
                return 0  # another relay of this service is publishing; stand by
            rows = (await conn.execute(text(
                "SELECT id, event_id, topic, event_key, headers, body FROM outbox WHERE sent_at IS NULL "
                "ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED"), {"n": self.batch_size})).all()
            if not rows:
                metrics.OUTBOX_PENDING.labels(self.service).set(0)
                return 0
            producer = await self._producer()
            traced = [_traceparent(r) for r in rows]
            futures = [await producer.send(r.topic, bytes(r.body), key=r.event_key.encode(), headers=[
                *((k, str(v).encode()) for k, v in r.headers.items() if k != "traceparent"),
                ("traceparent", traceparent.encode())]) for r, (traceparent, _) in zip(rows, traced)]
            # aiokafka #1017: an idempotent producer can hang after a broker blip; a timeout turns that into a retry
            # with a fresh producer instead of a silent stall.
            try:
                await asyncio.wait_for(asyncio.gather(*futures), SEND_TIMEOUT_SECONDS)
            finally:
                for _, span in traced:
                    if span is not None:
                        span.end()
            await conn.execute(text("UPDATE outbox SET sent_at = now() WHERE id = ANY(:ids)"),
                               {"ids": [r.id for r in rows]})
            backlog = 0 if len(rows) < self.batch_size else (await conn.execute(
                text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))).scalar_one()
        metrics.OUTBOX_PENDING.labels(self.service).set(backlog)
        for r in rows:
            metrics.OUTBOX_PUBLISHED.labels(self.service, r.topic).inc()
        metrics.RELAY_BATCH_SECONDS.labels(self.service).observe(time.perf_counter() - started)
        return len(rows)

    async def _producer(self) -> AIOKafkaProducer:
        if self._sender is None:
            producer = relay_producer(self.bootstrap_servers, client_id=f"{self.service}-relay")
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._sender = producer
        return self._sender

    async def _reset_producer(self) -> None:
        producer, self._sender = self._sender, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.stop(), 10)
            except Exception as exc:  # noqa: BLE001 - a broken producer may fail to close; it is dropped anyway
                log.info("closing producer failed: %s", exc)

    async def _listen(self) -> None:
        """LISTEN on a connection of its own (not one of the pool's); a lost one is opened again on the next turn,
        and meanwhile the relay looks every `idle_seconds`."""
        if self._listening is not None and not self._listening.is_closed():
            return
        self._listening = None
        url = self.engine.url.set(drivername="postgresql")
        try:
            conn = await asyncpg.connect(url.render_as_string(hide_password=False), timeout=10)
            await conn.add_listener(CHANNEL, self._notified)
        except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
            log.info("relay cannot listen for outbox writes now (%s); looking every %.1fs", exc, self.idle_seconds)
            return
        self._listening = conn

    def _notified(self, *_: Any) -> None:
        self.wake_ups += 1
        self._written.set()

    async def _idle(self) -> None:
        """Until a commit writes to the outbox, the relay is stopped, or `idle_seconds` pass; woken by a commit, it
        lingers a moment for the commits close behind it, as the producer lingers for a batch: woken by every
        submission's commit, it published two rows a batch at 150 submissions/s, three statements each (issue 30)."""
        stopping = asyncio.ensure_future(self._stopping.wait())
        written = asyncio.ensure_future(self._written.wait())
        try:
            await asyncio.wait((stopping, written), timeout=self.idle_seconds, return_when=asyncio.FIRST_COMPLETED)
            if written.done() and not stopping.done():
                await asyncio.wait((stopping,), timeout=LINGER_SECONDS)
        finally:
            stopping.cancel()
            written.cancel()

    async def _stop_listening(self) -> None:
        conn, self._listening = self._listening, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), 5)
            except Exception:  # noqa: BLE001 - closing a lost connection may fail; it is dropped anyway
                conn.terminate()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass
