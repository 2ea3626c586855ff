"""A lookup worker: one registry, its own process, its own consumer group.

Per request: ask the registry (each call bounded by a timeout), retry with doubling backoff, and count failures
in the circuit breaker. While the circuit is open the worker holds the request — the offset is not committed and
the application waits in screening — and probes the registry after the reset period; the first success closes
the circuit and the backlog drains by itself. The answer is published (acks=all) before the offset is committed,
so a worker killed mid-batch answers again after restart; screening keeps the first answer of each lookup."""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Awaitable, Callable

import httpx
from fastapi import FastAPI
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import Counter, Gauge, Histogram, make_asgi_app

from screening.adapters import ADAPTERS, RegistryAdapter, RegistryRefused, RegistryUnavailable
from screening.circuit import CircuitBreaker, CircuitState
from screening.config import ScreeningSettings
from screening.lookups import REGISTRY_RULES, LookupAnswered, LookupRequested, LookupResult, Registry, Verdict
from sme_runtime.consumer import dead_letter_headers, dlq_topic
from sme_runtime.metrics import REGISTRY
from sme_runtime.topics import start_when_kafka_answers
from sme_schemas import EnvelopeError, unwrap, wrap
from sme_schemas.screening import Finding

log = logging.getLogger("screening.worker")
SOURCE = "/sme/screening/lookup-worker"
# A request is held while its registry is down, far longer than Kafka's default 5 minutes between polls.
HOLD_LIMIT_MS = 7 * 24 * 3600 * 1000
UNREADABLE_ATTEMPTS = 3

ANSWERS = Counter("sme_lookup_answers_total", "Lookups answered, by registry and verdict", ["registry", "verdict"])
FAILURES = Counter("sme_lookup_failures_total", "Registry calls that failed (timeout, unreachable, 5xx)",
                   ["registry", "reason"])
CALL_SECONDS = Histogram("sme_lookup_call_seconds", "Duration of one registry call", ["registry"])
CIRCUIT = Gauge("sme_lookup_circuit_state", "Circuit state per registry: 0 closed, 1 half-open, 2 open",
                ["registry"])
CIRCUIT_OPENED = Counter("sme_lookup_circuit_opened_total", "Times the circuit opened", ["registry"])
HELD = Gauge("sme_lookup_held", "Lookups this worker holds because its registry is not answering", ["registry"])


@dataclass
class Resilience:
    """Timeout, bounded retries with backoff, and the circuit breaker around one registry."""

    adapter: RegistryAdapter
    breaker: CircuitBreaker
    timeout_seconds: float
    backoff_seconds: float
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    answered: int = 0
    last_error: str | None = None
    holding: str | None = None  # the lookup held while its registry is away

    async def look_up(self, request: LookupRequested) -> tuple[LookupResult, int]:
        """The registry's answer and how many calls it took; waits as long as the registry is away."""
        registry = self.adapter.registry.value
        attempts, failures_in_row, unreadable = 0, 0, 0
        while True:
            wait = self.breaker.wait_seconds()
            if wait > 0:
                self._hold(request)
                await self.sleep(min(wait, 1.0))
                continue
            attempts += 1
            started = time.perf_counter()
            try:
                result = await asyncio.wait_for(self.adapter.look_up(request.about), self.timeout_seconds)
            except RegistryRefused as exc:
                self.breaker.record_success()  # it answered; a person has to look at why it refused
                result = LookupResult(verdict=Verdict.REFER, findings=(Finding(
                    rule=REGISTRY_RULES[self.adapter.registry][0], detail=f"조회가 거부되어 확인이 필요합니다: {exc}"),))
            except (RegistryUnavailable, asyncio.TimeoutError, OSError, httpx.HTTPError) as exc:
                reason = "timeout" if isinstance(exc, asyncio.TimeoutError) else "unavailable"
                FAILURES.labels(registry, reason).inc()
                self.last_error = f"{reason}: {exc}"[:300]
                self.breaker.record_failure()
                failures_in_row += 1
                self._hold(request)
                # Bounded backoff between retries; once the circuit opens, the breaker's wait takes over.
                await self.sleep(min(self.backoff_seconds * 2 ** (failures_in_row - 1), self.breaker.reset_seconds))
                continue
            except Exception as exc:  # noqa: BLE001 - an answer we cannot read: a person must look, not a loop
                log.exception("lookup %s: unreadable answer from %s", request.lookup_id, registry)
                unreadable += 1
                if unreadable < UNREADABLE_ATTEMPTS:
                    await self.sleep(self.backoff_seconds)
                    continue
                result = LookupResult(verdict=Verdict.REFER, findings=(Finding(
                    rule=REGISTRY_RULES[self.adapter.registry][0],
                    detail=f"{registry} 응답을 해석할 수 없어 확인이 필요합니다: {type(exc).__name__}: {exc}"[:900]),))
            finally:
                CALL_SECONDS.labels(registry).observe(time.perf_counter() - started)
            self.breaker.record_success()
            self._release()
            self.answered += 1
            return result, attempts

    def _hold(self, request: LookupRequested) -> None:
        if self.holding != request.lookup_id:
            self.holding = request.lookup_id
            HELD.labels(self.adapter.registry.value).set(1)

    def _release(self) -> None:
        self.holding = None
        HELD.labels(self.adapter.registry.value).set(0)


def breaker_for(registry: Registry, settings: ScreeningSettings) -> CircuitBreaker:
    def on_change(old: CircuitState, new: CircuitState) -> None:
        CIRCUIT.labels(registry.value).set(new.gauge)
        if new is CircuitState.OPEN:
            CIRCUIT_OPENED.labels(registry.value).inc()
        log.warning("circuit of %s: %s -> %s", registry.value, old.value, new.value)

    CIRCUIT.labels(registry.value).set(0)
    return CircuitBreaker(failure_threshold=settings.registry_failure_threshold,
                          reset_seconds=settings.registry_reset_seconds, on_change=on_change)


def build_worker_broker(registry: Registry, settings: ScreeningSettings, resilience: Resilience) -> KafkaBroker:
    broker = KafkaBroker(settings.kafka_bootstrap_servers, client_id=f"screening-worker-{registry.value}",
                         enable_idempotence=True, acks="all")
    group = f"screening.lookup-worker.{registry.value}"
    topic = LookupRequested.topic_for(registry)

    @broker.subscriber(topic, group_id=group, ack_policy=AckPolicy.MANUAL, auto_offset_reset="earliest",
                       max_poll_interval_ms=HOLD_LIMIT_MS, title=f"screening-worker:{topic}")
    async def on_lookup_requested(msg: KafkaMessage) -> None:
        record = msg.raw_message
        try:
            _, request = unwrap(record.headers, record.value or b"", expected=LookupRequested)
        except EnvelopeError as exc:
            await _publish_until_sent(broker, record.value or b"", topic=dlq_topic(topic), key=record.key,
                                      headers=dead_letter_headers(record, group, exc))
            await msg.ack()
            return
        result, attempts = await resilience.look_up(request)
        answer = LookupAnswered(program_id=request.program_id, occurred_at=datetime.now(timezone.utc),
                                lookup_id=request.lookup_id, application_id=request.application_id,
                                registry=registry, answered_at=datetime.now(timezone.utc), verdict=result.verdict,
                                findings=result.findings, attempts=attempts)
        envelope = wrap(answer, source=SOURCE)
        await _publish_until_sent(broker, envelope.body, topic=LookupAnswered.topic(), key=envelope.key,
                                  headers=envelope.headers())
        ANSWERS.labels(registry.value, result.verdict.value).inc()
        await msg.ack()

    return broker


async def _publish_until_sent(broker: KafkaBroker, body: bytes, **kwargs) -> None:
    """The offset moves on only after the answer is on the broker: retried (with backoff) until it is."""
    delay = 0.2
    while True:
        try:
            await broker.publish(body, **kwargs)
            return
        except Exception as exc:  # noqa: BLE001 - Kafka away: wait for it, never drop the answer
            log.warning("publishing to %s failed (%s); retrying in %.1fs", kwargs.get("topic"), exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15)


def create_worker_app(registry: Registry, settings: ScreeningSettings | None = None,
                      adapter: RegistryAdapter | None = None) -> FastAPI:
    settings = settings or ScreeningSettings()
    adapter = adapter or ADAPTERS[registry](settings.registry_url(registry), service_key=settings.registry_key)
    resilience = Resilience(adapter, breaker_for(registry, settings), settings.registry_timeout_seconds,
                            settings.registry_retry_backoff_seconds)
    broker = build_worker_broker(registry, settings, resilience)
    topics = [LookupRequested.topic_for(registry), dlq_topic(LookupRequested.topic_for(registry)),
              LookupAnswered.topic()]

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        task = asyncio.create_task(start_when_kafka_answers(broker, settings.kafka_bootstrap_servers, topics))
        try:
            yield
        finally:
            task.cancel()
            with suppress(BaseException):
                await task
            with suppress(Exception):
                await broker.stop()
            with suppress(Exception):
                await adapter.aclose()

    app = FastAPI(title=f"Screening lookup worker — {registry.value}", version="1.0.0", lifespan=lifespan)
    app.mount("/metrics", make_asgi_app(REGISTRY))

    @app.get("/health", tags=["operations"], summary="Circuit state and the lookup held, if any")
    async def health() -> dict:
        breaker = resilience.breaker
        return {"service": f"screening-worker-{registry.value}", "registry": registry.value,
                "registry_url": settings.registry_url(registry), "kafka": bool(getattr(broker, "running", False)),
                "circuit": breaker.state.value, "consecutive_failures": breaker.consecutive_failures,
                "circuit_opened": breaker.opened_count, "holding": resilience.holding,
                "answered": resilience.answered, "last_error": resilience.last_error}

    return app
