"""A lookup worker: one registry, its own process, its own consumer group, as many replicas as the load needs.

Per poll of up to `worker_batch_size` requests: ask the registry with up to `worker_concurrency` calls in flight
(a registry that takes batches — the NTS business-status API, 100 numbers a call — gets them in batches), each
call bounded by a timeout, retried with doubling backoff, and counted in the circuit breaker. While the circuit is
open the worker holds the requests — the offsets are not committed and the applications wait in screening — and
probes the registry after the reset period with ONE call (the others wait for its outcome); the first success
closes the circuit and the backlog drains by itself. Every answer of the poll is published (acks=all) before the
offsets are committed, so a worker killed mid-batch answers again after restart; screening keeps the first
answer of each lookup. Replicas of a worker share the registry's topic through the consumer group, partition by
partition (12 partitions: up to 12 replicas)."""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, cast

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from opentelemetry.trace import SpanKind
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import Counter, Gauge, Histogram
from pydantic import Field

from screening.config import ScreeningSettings
from screening.lookup.adapters import (
    ADAPTERS, BatchingRegistryAdapter, PriorProjectRegistry, RegistryAdapter, RegistryRefused, RegistryTimedOut,
    RegistryUnavailable,
)
from screening.lookup.circuit import CircuitBreaker, CircuitState
from screening.lookup.messages import REGISTRY_RULES, LookupAnswered, LookupRequested, LookupResult, Registry, Verdict
from screening.similarity.index import PriorProjectIndex
from sme_runtime.consumer import (FAILING_POLLS, FETCH_MAX_BYTES, MAX_PARTITION_FETCH_BYTES, EventRefused, dlq_topic,
                                  known_program, polls_with_backoff, raw_bodies, read_record, send_to_dead_letters,
                                  tolerant_batch_parser)
from sme_runtime import lag, telemetry
from sme_runtime.docs import offline_docs_app
from sme_runtime import tracing
from sme_runtime.retry import Backoff
from sme_runtime.service import install_probes, kafka_running, service_broker
from sme_runtime.views import View
from sme_schemas import EnvelopeError, wrap
from sme_schemas.screening import Finding

log = logging.getLogger("screening.lookup.worker")
SOURCE = "/sme/screening/lookup-worker"
# A poll's requests are held at most `worker_hold_seconds` while their registry is away; then the answers
# already in are published and the rest are handed back to the broker (the batch is sought back and polled
# again), so the worker keeps polling well within Kafka's default 5 minutes between polls. A worker that stopped
# polling for days would stall its group's next rebalance for as long, the day a replica dies.
MAX_POLL_INTERVAL_MS = 300_000
UNREADABLE_ATTEMPTS = 3
PUBLISH_TIMEOUT_SECONDS = 30.0

ANSWERS = Counter("sme_lookup_answers_total", "Lookups answered, by registry and verdict", ["registry", "verdict"])
FAILURES = Counter("sme_lookup_failures_total", "Registry calls that failed (timeout, unreachable, 5xx)",
                   ["registry", "reason"])
CALL_SECONDS = Histogram("sme_lookup_call_seconds", "Duration of one registry call", ["registry"])
CIRCUIT = Gauge("sme_lookup_circuit_state", "Circuit state per registry: 0 closed, 1 half-open, 2 open",
                ["registry"])
CIRCUIT_OPENED = Counter("sme_lookup_circuit_opened_total", "Times the circuit opened", ["registry"])
HELD = Gauge("sme_lookup_held", "Lookups this worker holds because its registry is not answering", ["registry"])
IN_FLIGHT = Gauge("sme_lookup_in_flight", "Lookups whose registry call this worker has under way", ["registry"])


class WorkerHealth(View):
    """A lookup worker's registry circuit and what it holds while the registry is away."""

    service: str
    registry: str
    registry_url: str
    kafka: bool
    circuit: str = Field(description="closed | open | half-open")
    consecutive_failures: int
    circuit_opened: int
    holding: str | None = Field(description="The lookup held while the registry is away, if any")
    held: int
    in_flight: int
    concurrency: int
    batch_limit: int
    answered: int
    calls: int = Field(description="Registry calls made, answered or not: rises while a slow registry is retried")
    http_pools_replaced: int = Field(0, description="HTTP connection pools swapped for fresh ones after a call was "
                                     "cut short or found no free connection (their sockets closed)")
    last_error: str | None


@dataclass
class Resilience:
    """Timeout, bounded retries with backoff, the circuit breaker and bounded concurrency around one registry."""

    adapter: RegistryAdapter
    breaker: CircuitBreaker
    timeout_seconds: float
    backoff_seconds: float
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    concurrency: int = 1
    answered: int = 0
    calls: int = 0  # registry calls made, whatever came of them
    in_flight: int = 0  # lookups whose registry call is under way
    last_error: str | None = None
    held: dict[str, None] = field(default_factory=dict)  # lookups held while the registry is away, in order
    _slots: asyncio.Semaphore = field(init=False)
    _probe: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(max(1, self.concurrency))

    @property
    def holding(self) -> str | None:
        """The first lookup held while the registry is away (None: nothing waits)."""
        return next(iter(self.held), None)

    @property
    def batch_limit(self) -> int:
        return getattr(self.adapter, "batch_limit", 1)

    async def look_up(self, request: LookupRequested) -> tuple[LookupResult, int]:
        """The registry's answer and how many calls it took; waits as long as the registry is away."""
        answer = (await self.look_up_all([request]))[0]
        if answer is None:
            raise AssertionError("without hold_seconds a lookup waits until it is answered")
        return answer

    async def look_up_all(self, requests: list[LookupRequested], *,
                          hold_seconds: float | None = None) -> list[tuple[LookupResult, int] | None]:
        """Every request's answer, in the order asked: batched as the registry allows, concurrent up to the
        worker's bound. With `hold_seconds`, a request still held (registry away) that long answers None."""
        give_up_at = None if hold_seconds is None else time.monotonic() + hold_seconds
        size = self.batch_limit
        chunks = [requests[i:i + size] for i in range(0, len(requests), size)]
        answered = await asyncio.gather(*(self._bounded(chunk, give_up_at) for chunk in chunks))
        return [answer for chunk in answered for answer in chunk]

    async def _bounded(self, chunk: list[LookupRequested],
                       give_up_at: float | None) -> list[tuple[LookupResult, int] | None]:
        async with self._slots:
            IN_FLIGHT.labels(self.adapter.registry.value).inc(len(chunk))
            self.in_flight += len(chunk)
            try:
                outcome = await self._resilient(chunk, give_up_at)
            finally:
                IN_FLIGHT.labels(self.adapter.registry.value).dec(len(chunk))
                self.in_flight -= len(chunk)
        if outcome is None:
            self._release(chunk)  # handed back to the broker: whoever polls them next holds them again
            return [None] * len(chunk)
        results, attempts = outcome
        return [(result, attempts) for result in results]

    async def _resilient(self, chunk: list[LookupRequested],
                         give_up_at: float | None = None) -> tuple[list[LookupResult], int] | None:
        registry = self.adapter.registry.value
        attempts, failures_in_row, unreadable = 0, 0, 0
        while True:
            if give_up_at is not None and attempts and time.monotonic() >= give_up_at:
                return None
            wait = self.breaker.wait_seconds()
            probing = self.breaker.state is CircuitState.HALF_OPEN
            if wait > 0 or (probing and self._probe.locked()):
                self._hold(chunk)  # open, or another call is the half-open probe: its outcome decides for all
                await self.sleep(min(wait, 1.0) if wait > 0 else 0.05)
                continue
            attempts += 1
            self.calls += 1
            started = time.perf_counter()
            retry_after = None
            async with self._probe if probing else nullcontext():
                try:
                    results = await self._ask(chunk)
                except RegistryRefused as exc:
                    self.breaker.record_success()  # it answered; a person has to look at why it refused
                    results = [LookupResult(verdict=Verdict.REFER, findings=(Finding(
                        rule=REGISTRY_RULES[self.adapter.registry][0],
                        detail=f"조회가 거부되어 확인이 필요합니다: {exc}"),))] * len(chunk)
                except (RegistryUnavailable, asyncio.TimeoutError, OSError, httpx.HTTPError) as exc:
                    reason = "timeout" if isinstance(exc, (asyncio.TimeoutError, RegistryTimedOut)) else "unavailable"
                    FAILURES.labels(registry, reason).inc()
                    self.last_error = f"{reason}: {exc}"[:300]
                    self.breaker.record_failure()
                    failures_in_row += 1
                    self._hold(chunk)
                    # Bounded backoff between retries; once the circuit opens, the breaker's wait takes over.
                    retry_after = min(self.backoff_seconds * 2 ** (failures_in_row - 1), self.breaker.reset_seconds)
                except Exception as exc:  # noqa: BLE001 - an answer we cannot read: a person must look, not a loop
                    log.exception("lookups %s: unreadable answer from %s", [r.lookup_id for r in chunk], registry)
                    unreadable += 1
                    if unreadable < UNREADABLE_ATTEMPTS:
                        retry_after = self.backoff_seconds
                    else:
                        results = [LookupResult(verdict=Verdict.REFER, findings=(Finding(
                            rule=REGISTRY_RULES[self.adapter.registry][0],
                            detail=f"{registry} 응답을 해석할 수 없어 확인이 필요합니다: "
                                   f"{type(exc).__name__}: {exc}"[:900]),))] * len(chunk)
                finally:
                    CALL_SECONDS.labels(registry).observe(time.perf_counter() - started)
            if retry_after is not None:
                await self.sleep(retry_after)
                continue
            self.breaker.record_success()
            self._release(chunk)
            self.answered += len(chunk)
            return results, attempts

    async def _ask(self, chunk: list[LookupRequested]) -> list[LookupResult]:
        # An adapter that bounds its registry calls itself is not cut short while it works on an answer it has got
        timeout = None if getattr(self.adapter, "bounds_its_calls", False) else self.timeout_seconds
        if len(chunk) > 1:
            batching = cast(BatchingRegistryAdapter, self.adapter)  # only a batching adapter has batch_limit > 1
            return await asyncio.wait_for(batching.look_up_many([r.about for r in chunk]), timeout)
        return [await asyncio.wait_for(self.adapter.look_up(chunk[0].about), timeout)]

    def _hold(self, chunk: list[LookupRequested]) -> None:
        for request in chunk:
            self.held.setdefault(request.lookup_id)
        HELD.labels(self.adapter.registry.value).set(len(self.held))

    def _release(self, chunk: list[LookupRequested]) -> None:
        for request in chunk:
            self.held.pop(request.lookup_id, None)
        HELD.labels(self.adapter.registry.value).set(len(self.held))


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
    # Its answers carry the traceparent of their lookup's span (the application's trace): no tracing middleware
    broker = service_broker(settings.kafka, f"screening-worker-{registry.value}", traced=False, linger_ms=5)
    group = f"screening.lookup-worker.{registry.value}"
    topic = LookupRequested.topic_for(registry)
    lag.SUBSCRIPTIONS.add((f"screening-worker-{registry.value}", group, topic))
    programs = settings.programs

    subscriber = broker.subscriber(
        topic, group_id=group, ack_policy=AckPolicy.MANUAL, auto_offset_reset="earliest",
        max_poll_interval_ms=MAX_POLL_INTERVAL_MS, batch=True, max_records=settings.worker_batch_size,
        batch_timeout_ms=50, parser=tolerant_batch_parser, decoder=raw_bodies, title=f"screening-worker:{topic}",
        max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES, fetch_max_bytes=FETCH_MAX_BYTES)
    polls_with_backoff(subscriber, group)

    @subscriber
    async def on_lookups_requested(msg: KafkaMessage) -> None:
        polled = time.time_ns()
        requests: list[LookupRequested] = []
        traces: dict[str, str | None] = {}
        for record in msg.raw_message:
            try:
                envelope, request = read_record(record, LookupRequested)
                known_program(programs, request, unknown_programs=True)
                requests.append(request)
                traces[request.lookup_id] = envelope.traceparent
            except (EnvelopeError, EventRefused) as exc:
                await send_to_dead_letters(broker, record, group, exc,
                                           retry_max_seconds=settings.consumer_retry_max_seconds)
        answers = await resilience.look_up_all(requests, hold_seconds=settings.worker_hold_seconds) \
            if requests else []
        now = datetime.now(timezone.utc)
        answered = [(request, answer) for request, answer in zip(requests, answers) if answer is not None]
        envelopes = []
        for request, (result, attempts) in answered:
            # One span per lookup, from the poll to its answer: the parent of screening's span applying it
            looked_up = tracing.span_of(traces.get(request.lookup_id), f"look up {registry.value}",
                                        kind=SpanKind.CLIENT, started_ns=polled,
                                        attributes={"sme.application_id": request.application_id,
                                                    "sme.registry": registry.value, "sme.attempts": attempts,
                                                    "sme.verdict": result.verdict.value})
            looked_up.end()
            envelopes.append(wrap(LookupAnswered(
                program_id=request.program_id, occurred_at=now, lookup_id=request.lookup_id,
                application_id=request.application_id, registry=registry, answered_at=now, verdict=result.verdict,
                findings=result.findings, attempts=attempts), source=SOURCE,
                traceparent=tracing.Trace.of(looked_up).traceparent))
        await _publish_until_sent(broker, [(e.body, dict(topic=LookupAnswered.topic(), key=e.key,
                                                         headers=e.headers())) for e in envelopes])
        for _, (result, _) in answered:
            ANSWERS.labels(registry.value, result.verdict.value).inc()
        if len(answered) < len(requests):
            # Held past the limit: the batch goes back to the broker and is polled again; what was answered is
            # answered again then, and screening keeps the first answer.
            await msg.nack()
        else:
            await msg.ack()

    return broker


async def _publish_until_sent(broker: KafkaBroker, messages: list[tuple[bytes, dict]]) -> None:
    """The offsets move on only after every answer is on the broker: retried (with backoff) until they are. A
    retry may publish an answer twice; screening keeps the first."""
    backoff = Backoff(first=0.2, cap=15.0)
    while True:
        try:
            sends = [await broker.publish(body, no_confirm=True, **kwargs) for body, kwargs in messages]
            # aiokafka #1017: an idempotent producer can hang after a broker blip; the timeout makes it a retry.
            await asyncio.wait_for(asyncio.gather(*sends), PUBLISH_TIMEOUT_SECONDS)
            return
        except Exception as exc:  # noqa: BLE001 - Kafka away: wait for it, never drop an answer
            delay = backoff.next_delay()
            log.warning("publishing %d answers failed (%s: %s); retrying in %.1fs", len(messages),
                        type(exc).__name__, exc, delay)
            await asyncio.sleep(delay)


def create_worker_app(registry: Registry, settings: ScreeningSettings | None = None,
                      adapter: RegistryAdapter | None = None) -> FastAPI:
    settings = settings or ScreeningSettings()
    asking: RegistryAdapter = adapter or ADAPTERS[registry](
        settings.registry_url(registry), service_key=settings.registry_key, connections=settings.worker_concurrency,
        timeout_seconds=settings.registry_timeout_seconds)
    if isinstance(asking, PriorProjectRegistry) and settings.similarity_index:
        # Opened read-only at start: a missing or broken index stops the worker here, not at the first lookup.
        asking.national = PriorProjectIndex.open(Path(settings.similarity_index))
    resilience = Resilience(asking, breaker_for(registry, settings), settings.registry_timeout_seconds,
                            settings.registry_retry_backoff_seconds, concurrency=settings.worker_concurrency)
    broker = build_worker_broker(registry, settings, resilience)
    topics = [LookupRequested.topic_for(registry), dlq_topic(LookupRequested.topic_for(registry)),
              LookupAnswered.topic()]

    service = f"screening-worker-{registry.value}"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm_up := getattr(asking, "warm_up", None):
            await warm_up()
        try:
            async with kafka_running(broker, settings, topics, service):
                yield
        finally:
            if close := getattr(asking, "aclose", None):
                with suppress(Exception):
                    await close()

    app = offline_docs_app(title=f"Screening lookup worker — {registry.value}", version="1.0.0", lifespan=lifespan)
    telemetry.instrument_app(app, service)

    async def readiness() -> JSONResponse:
        running = bool(getattr(broker, "running", False))
        ready = running and not FAILING_POLLS
        return JSONResponse({"service": service, "kafka": running, "failing_polls": dict(FAILING_POLLS)},
                            status_code=200 if ready else 503)

    install_probes(app, service, readiness, ready_summary="Readiness: the broker is reachable and the lookups "
                   "polled (a registry that is down is not a reason to restart or drain: its lookups are held)")

    @app.get("/health", tags=["operations"], summary="Circuit state and the lookup held, if any")
    async def health() -> WorkerHealth:
        breaker = resilience.breaker
        return WorkerHealth(
            service=f"screening-worker-{registry.value}", registry=registry.value,
            registry_url=settings.registry_url(registry), kafka=bool(getattr(broker, "running", False)),
            circuit=breaker.state.value, consecutive_failures=breaker.consecutive_failures,
            circuit_opened=breaker.opened_count, holding=resilience.holding, held=len(resilience.held),
            in_flight=resilience.in_flight, concurrency=resilience.concurrency, batch_limit=resilience.batch_limit,
            answered=resilience.answered, calls=resilience.calls,
            http_pools_replaced=getattr(asking, "pools_replaced", 0), last_error=resilience.last_error)

    return app
