"""Idempotent, at-least-once consumers on FastStream, one event or a batch of events per transaction.

Per event: validate the CloudEvent; in one database transaction record its ce_id and apply its effect; only
then commit the Kafka offset (AckPolicy.MANUAL: FastStream's default would commit before the handler runs).
A redelivered event finds its ce_id and changes nothing. An event that can never be applied (malformed, or
refused by a rule) goes to `<topic>.dlq` with the error in its headers and the consumer moves on. A transient
failure (database or broker away) is retried with backoff for as long as it takes: no event is skipped.

In batch mode (the default under load) a poll of up to `batch_size` records is applied in ONE transaction —
the processed ids, every effect and every outbox row commit together, so a surge costs one fsync'd commit and
one offset commit per batch instead of per event. Records are applied in their partition order, so one
application's events (one key, one partition) keep their order. A malformed record is dead-lettered before the
transaction. If any event of the batch is refused or fails unexpectedly, the batch transaction is rolled back
whole and the batch is applied again one event per transaction: the poison event alone goes to the DLQ, the
others are applied once (nothing of the rolled-back attempt stays).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Any, Awaitable, Callable, Generic, Iterator, Mapping, Protocol, TypeVar, cast

from aiokafka import ConsumerRecord
from aiokafka.errors import ConsumerStoppedError, KafkaError, MessageSizeTooLargeError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sme_runtime import metrics, records, tracing
from sme_runtime.db import is_transient
from sme_runtime.lag import SUBSCRIPTIONS
from sme_runtime.retry import Backoff
from sme_schemas import Envelope, EnvelopeError, IntegrationEvent, unwrap

log = logging.getLogger(__name__)
records.install()  # a header key that is not UTF-8 is dead-lettered, not a partition stalled for good (issue 31)
Handler = Callable[[AsyncSession, Envelope, IntegrationEvent], Awaitable[None]]
Event = TypeVar("Event", bound=IntegrationEvent)
T = TypeVar("T")
UNEXPECTED_ERROR_ATTEMPTS = 5


class _EventFailed(Exception):
    """An event of a batch failed for a reason that is not transient: the batch is redone one event at a time."""


class EventRefused(Exception):
    """A well-formed event that breaks a rule: applying it again would fail again, so it is dead-lettered."""

    def __init__(self, message: str, *, field: str = "", rule: str = "") -> None:
        super().__init__(message)
        self.field, self.rule = field, rule


KNOWN_APPLICATION = "known-application"


def unknown_to(service: str, event: IntegrationEvent, *, field: str = "application_id",
               value: str | None = None) -> EventRefused:
    """Every consumer alike: an event that can only follow what this service itself received or published first
    (a give-up follows the selection evaluation made, a re-check answer follows the request evaluation sent), about
    an application — or a request, a lookup — the service does not know, is dead-lettered under this rule: applying
    it would act on nothing (or, for a give-up, restrict a company for an agreement that never was), and waiting
    would wait for something that is not coming. Something upstream was lost, or the event is wrong; an operator
    replays it (`dlq replay`) once the cause is fixed. Events that may overtake the one that introduces the
    application, travelling on another topic, are held instead (README: events about unknown applications)."""
    named = value if value is not None else getattr(event, field)
    return EventRefused(f"{type(event).__name__} names {field} {named}, which {service} has never received: it can "
                        "only follow what this service knew first; replay it once the cause is fixed",
                        field=field, rule=KNOWN_APPLICATION)


class _Versioned(Protocol):
    @property
    def version(self) -> int: ...


ProgramT = TypeVar("ProgramT", bound=_Versioned)


def program_of_event(programs: Mapping[str, ProgramT], program_id: str, version: int | None = None) -> ProgramT:
    """The program definition an event names, in the version its application applied under (V1); a program or
    version this deployment does not know dead-letters the event."""
    program = programs.get(program_id)
    if program is None:
        raise EventRefused(f"no program definition {program_id!r} here; known: {', '.join(sorted(programs))}",
                           field="program_id", rule="A3")
    if version is None or version == program.version:
        return program
    at = getattr(programs, "at", None)
    found = at(program_id, version) if at else None
    if found is None:
        raise EventRefused(f"{program_id} has no version {version} here (its newest is {program.version}); deploy "
                           "the definition the application applied under", field="program_version", rule="V1")
    return cast(ProgramT, found)


def known_program(programs: Mapping[str, Any] | None, event: IntegrationEvent, *, unknown_programs: bool) -> None:
    """A3 and V1 for every group alike, whether or not its handler reads the program: a program, or a version of
    it, this deployment has no definition of dead-letters the event (issue 31: version 99 was applied by the groups
    whose handlers never look it up). `unknown_programs`: a consumer that applies no program's rules (the portal,
    the lookup workers) takes a program it has no definition of, not an unknown version of one it has."""
    program_id = getattr(event, "program_id", None)
    if programs is None or not program_id or unknown_programs and program_id not in programs:
        return
    program_of_event(programs, program_id, getattr(event, "program_version", None))


DEFERRED = "sme_deferred"


def defer_until_applied(session: AsyncSession, key: str, work: Callable[[], Awaitable[object]]) -> None:
    """Run `work` once, at the end of the transaction that applies this event — or the whole batch it came in —
    however many of its events defer the same `key`. Four registry answers about one application arriving in one
    batch reconsider it once, with all four known. It runs in the trace of the event that deferred it last."""
    snap = tracing.snapshot()

    async def in_its_trace() -> None:
        with tracing.restored(snap):
            await work()

    session.info.setdefault(DEFERRED, {})[key] = in_its_trace


COLLECTED = "sme_collected"


@dataclass(frozen=True)
class Collected(Generic[T]):
    """An item kept by `collect`, with the trace of the event that kept it. Work on a batch's items does each
    item's part `with item.in_its_trace()`, so what it publishes and logs for an application stays in that
    application's trace (one application, one trace) instead of the trace of the batch's last event."""

    item: T
    trace: tracing.Snapshot | None = None

    def in_its_trace(self) -> AbstractContextManager[None]:
        return nullcontext() if self.trace is None else tracing.restored(self.trace)


def collect_until_applied(session: AsyncSession, key: str, item: Any,
                          work: Callable[[list[Collected[Any]]], Awaitable[object]]) -> None:
    """Keep `item` under `key` and run `work(items)` once when the event or its batch has been applied, with all
    the items kept under `key` meanwhile, in order, each with its event's trace (one statement for a batch's
    answers instead of one each)."""
    items = session.info.setdefault(COLLECTED, {}).setdefault(key, [])
    items.append(Collected(item, tracing.snapshot()))
    defer_until_applied(session, f"collected:{key}", lambda: work(session.info[COLLECTED].pop(key)))


async def _run_deferred(session: AsyncSession) -> None:
    while deferred := session.info.pop(DEFERRED, None):
        for work in deferred.values():
            await work()


async def _classified(step: Awaitable[None], what: str) -> None:
    """Run a step of a batch; a failure that is neither a refusal nor transient becomes _EventFailed, which sends
    the batch through one event per transaction (where it gets its bounded attempts and the DLQ)."""
    try:
        await step
    except EventRefused:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise
        raise _EventFailed(what) from exc


def read_record(record: Any, event_cls: type[Event]) -> tuple[Envelope, Event]:
    """Every step from the polled record to the event (headers, envelope, body, instants) behind one guard: what
    fails in any of them is that one record's EnvelopeError, dead-lettered with its reason, and the rest of the
    poll goes on (issue 31: an OverflowError in a time conversion dropped a whole poll, offsets committed)."""
    try:
        for name, _ in record.headers or ():
            if not _is_text(name):
                raise EnvelopeError(f"header key {_shown(name)!r} is not UTF-8 text", field="(header key)")
        return unwrap(record.headers, record.value or b"", expected=event_cls)
    except EnvelopeError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to read a record is that record's, never the poll's
        raise EnvelopeError(f"unreadable record: {type(exc).__name__}: {exc}"[:2000], rule="contract") from exc


CE_ID_CONFLICT = "ce_id-conflict"


def body_digest(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=16).digest()


async def _same_bodies_as_applied(session: AsyncSession, group: str, again: list[tuple[Envelope, bytes]]) -> None:
    """An id seen before must come with the body it was applied with: a relay or a sender re-sending an event
    sends the same bytes, while another body under a known id is another event that would be skipped unseen
    (issue 31: 34 of 34 groups did). It is refused as a conflict and dead-lettered, with both digests to compare.
    Only ids seen before (or twice in one batch) are read back: nothing extra on the path of a fresh event."""
    if not again:
        return
    rows = (await session.execute(text(
        "SELECT event_id, body_digest FROM processed_events WHERE consumer = :c AND event_id = ANY(:ids)"),
        {"c": group, "ids": list({e.id for e, _ in again})})).all()
    stored: dict[str, bytes | None] = {row.event_id: row.body_digest for row in rows}
    for envelope, this in again:
        applied = stored.get(envelope.id)
        if applied is not None and bytes(applied) != this:
            raise EventRefused(f"ce_id {envelope.id} was applied with another body (digest {bytes(applied).hex()}, "
                               f"this one {this.hex()}): an event id names one event; send a changed event under "
                               "a new id", field="ce_id", rule=CE_ID_CONFLICT)


def _is_text(name: object) -> bool:
    """A header key aiokafka could decode: TolerantMemoryRecords keeps undecodable bytes as surrogates."""
    try:
        str(name).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(name: object) -> str:
    """A header key as text anyone can read and store: undecodable bytes as U+FFFD."""
    return str(name).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


# A handler may carry `answers_refusal`: run when one of its events is dead-lettered (refused by a rule, or not
# readable at all), in the transaction that records the dead letter and only the first time, so a sender outside
# the platform gets one answer per event (intake answers a municipal filing: ApplicationFilingResult). It is given
# the raw record, its ce_id as the consumer read it (None when it has none) and the refusal.
RefusalAnswer = Callable[[AsyncSession, Any, str | None, Exception], Awaitable[None]]


# What one consumer holds of fetched records at most: a partition's fetch is bounded by the broker's largest
# message anyway, a whole fetch by this (aiokafka's default is 50 MiB per consumer, of which a service has dozens)
MAX_PARTITION_FETCH_BYTES = 1024 * 1024
FETCH_MAX_BYTES = 8 * 1024 * 1024
# Subscriptions whose polls are failing now (group → the error): the service is not ready while there is one
FAILING_POLLS: dict[str, str] = {}


def polls_with_backoff(subscriber: Any, group: str, *, cap_seconds: float = 30.0) -> None:
    """A poll that raises something FastStream does not handle itself made it restart the consume loop at once,
    again and again (issue 31: 1,500 log lines a second, memory growing until the kernel killed the service).
    Such a poll now waits, with backoff, and the group is named in FAILING_POLLS (so /readyz answers 503)
    until a poll succeeds. Kafka's own errors and a stopped consumer go on to FastStream, which handles them."""
    original = subscriber.get_msg
    backoff = Backoff(cap=cap_seconds)

    async def get_msg(consumer: Any) -> Any:
        nonlocal backoff
        try:
            polled = await original(consumer)
        except (KafkaError, ConsumerStoppedError, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - whatever it is, the loop must not spin on it
            FAILING_POLLS[group] = f"{type(exc).__name__}: {exc}"[:500]
            delay = backoff.next_delay()
            log.error("polling %s failed (%s: %s); polling again in %.1fs", group, type(exc).__name__, exc, delay)
            await asyncio.sleep(delay)
            return None
        if group in FAILING_POLLS:
            del FAILING_POLLS[group]
            backoff = Backoff(cap=cap_seconds)
            log.info("polling %s works again", group)
        return polled

    subscriber.get_msg = get_msg


class ReliableConsumers:
    """Registers a service's subscriptions; each one is idempotent, ordered per key and dead-letters poison."""

    def __init__(self, broker: KafkaBroker, sessions: async_sessionmaker[AsyncSession], *, service: str,
                 retry_max_seconds: float = 30.0, batch_size: int = 1, batch_wait_ms: int = 100,
                 programs: Mapping[str, Any] | None = None, unknown_programs: bool = False) -> None:
        self.broker, self.sessions, self.service = broker, sessions, service
        # A3 for every consumer alike: an event of a program this deployment has no definition of is
        # dead-lettered (its rules cannot be applied); once the definition is deployed an operator replays it.
        # `unknown_programs`: a service that applies no program's rules (the portal) takes those, and refuses
        # only a version of a program it knows that it does not have (V1).
        self.programs, self.unknown_programs = programs, unknown_programs
        self.retry_max_seconds = retry_max_seconds
        self.batch_size, self.batch_wait_ms = batch_size, batch_wait_ms
        self._answers: dict[str, RefusalAnswer] = {}

    def subscribe(self, event_cls: type[Event], handler: Callable[[AsyncSession, Envelope, Event], Awaitable[None]],
                  *, group_id: str | None = None, topic: str | None = None) -> None:
        group = group_id or f"{self.service}.{event_cls.event_name}"
        topic = topic or event_cls.topic()
        SUBSCRIPTIONS.add((self.service, group, topic))
        answer = getattr(handler, "answers_refusal", None)
        if answer is not None:
            self._answers[group] = answer
        applies = cast(Handler, handler)  # it receives only `event_cls` events: unwrap(expected=event_cls)
        if self.batch_size > 1:
            self._subscribe_batch(event_cls, applies, group, topic)
            return

        async def on_event(msg: KafkaMessage) -> None:
            await self._consume(msg, event_cls, applies, group)

        on_event.__name__ = f"on_{event_cls.__name__}"
        subscriber = self.broker.subscriber(
            topic, group_id=group, ack_policy=AckPolicy.MANUAL, auto_offset_reset="earliest",
            parser=tolerant_parser, decoder=raw_bodies, title=f"{self.service}:{topic}",
            description=event_cls.__doc__, max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES,
            fetch_max_bytes=FETCH_MAX_BYTES,
        )
        subscriber(on_event)
        polls_with_backoff(subscriber, group)

    def _subscribe_batch(self, event_cls: type[IntegrationEvent], handler: Handler, group: str, topic: str) -> None:
        async def on_events(msg: KafkaMessage) -> None:
            await self._consume_batch(msg, event_cls, handler, group)

        on_events.__name__ = f"on_{event_cls.__name__}_batch"
        subscriber = self.broker.subscriber(
            topic, group_id=group, ack_policy=AckPolicy.MANUAL, auto_offset_reset="earliest", batch=True,
            max_records=self.batch_size, batch_timeout_ms=self.batch_wait_ms, parser=tolerant_batch_parser,
            decoder=raw_bodies, title=f"{self.service}:{topic}", description=event_cls.__doc__,
            max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES, fetch_max_bytes=FETCH_MAX_BYTES,
        )
        subscriber(on_events)
        polls_with_backoff(subscriber, group)

    async def _consume_batch(self, msg: KafkaMessage, event_cls: type[IntegrationEvent], handler: Handler,
                             group: str) -> None:
        records = msg.raw_message
        if not records:
            return
        readable: list[tuple[Any, Envelope, IntegrationEvent]] = []
        for record in records:
            try:
                envelope, event = read_record(record, event_cls)
            except EnvelopeError as exc:
                await self._dead_letter(record, group, exc, event_id=_header(record, "ce_id"))
                metrics.EVENTS_CONSUMED.labels(self.service, record.topic, "dead_lettered").inc()
            else:
                readable.append((record, envelope, event))
        if readable:
            outcomes = await self._apply_batch_until_done(readable, handler, group)
            if outcomes is None:  # refused or unexpected: one event per transaction, so the poison goes alone
                outcomes = [await self._apply_until_done(envelope, event, handler, group, record)
                            for record, envelope, event in readable]
            for (record, _, _), outcome in zip(readable, outcomes):
                metrics.EVENTS_CONSUMED.labels(self.service, record.topic, outcome).inc()
        metrics.BATCH_SIZE.labels(self.service, records[0].topic).observe(len(records))
        await self._commit(msg)

    async def _apply_batch_until_done(self, batch: list[tuple[Any, Envelope, IntegrationEvent]], handler: Handler,
                                      group: str) -> list[str] | None:
        """The batch applied in one transaction (outcome per event), or None when an event of it must be
        handled alone; transient failures are retried with backoff for as long as they last."""
        backoff = Backoff(cap=self.retry_max_seconds)
        while True:
            try:
                return await self._apply_batch_once(batch, handler, group)
            except (EventRefused, _EventFailed):
                return None
            except Exception as exc:  # noqa: BLE001 - only transient failures reach here; retried, never skipped
                if not is_transient(exc):
                    return None
                topic = batch[0][0].topic
                metrics.EVENT_RETRIES.labels(self.service, topic).inc()
                delay = backoff.next_delay()
                log.warning("batch of %d on %s: %s: %s; retrying in %.1fs", len(batch), topic,
                            type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)

    async def _apply_batch_once(self, batch: list[tuple[Any, Envelope, IntegrationEvent]], handler: Handler,
                                group: str) -> list[str]:
        async with self.sessions() as session, session.begin():
            each = [(envelope, body_digest(envelope.body)) for _, envelope, _ in batch]
            digests: dict[str, bytes] = {}
            for envelope, digest in each:
                digests.setdefault(envelope.id, digest)  # the first of an id twice in the batch is the one applied
            fresh = set(
                (
                    await session.execute(
                        text(
                            "INSERT INTO processed_events (consumer, event_id, topic, body_digest) "
                            "SELECT :c, e, :t, d FROM unnest(CAST(:ids AS text[]), CAST(:digests AS bytea[])) "
                            "AS u(e, d) ON CONFLICT DO NOTHING RETURNING event_id"
                        ),
                        {"c": group, "ids": list(digests), "digests": list(digests.values()),
                         "t": batch[0][0].topic},
                    )
                ).scalars()
            )
            await _same_bodies_as_applied(session, group, [(e, d) for e, d in each
                                                           if e.id not in fresh or d != digests[e.id]])
            outcomes = []
            for _, envelope, event in batch:
                if envelope.id not in fresh:  # seen before, or twice in this batch (a relay re-published it)
                    outcomes.append("duplicate")
                    continue
                fresh.discard(envelope.id)
                self._known_program(event)
                with tracing.on_behalf_of(envelope):
                    await _classified(handler(session, envelope, event), envelope.id)
                    log.debug("applied %s", envelope.type)
                outcomes.append("processed")
            await _classified(_run_deferred(session), "deferred work")
        # One line per batch, not per event: at a deadline day's volume a line per event was the biggest file on
        # the host and a measurable share of the consumer's CPU (issue 30); the per-event count is a metric.
        log.info("applied %d of %d events from %s", outcomes.count("processed"), len(batch), batch[0][0].topic)
        return outcomes

    async def _consume(self, msg: KafkaMessage, event_cls: type[IntegrationEvent], handler: Handler,
                       group: str) -> None:
        record: ConsumerRecord = msg.raw_message  # one record: these subscribers are not in batch mode
        topic = record.topic
        try:
            envelope, event = read_record(record, event_cls)
        except EnvelopeError as exc:
            await self._dead_letter(record, group, exc, event_id=_header(record, "ce_id"))
            outcome = "dead_lettered"
        else:
            outcome = await self._apply_until_done(envelope, event, handler, group, record)
        metrics.EVENTS_CONSUMED.labels(self.service, topic, outcome).inc()
        await self._commit(msg)

    async def _apply_until_done(self, envelope: Envelope, event: IntegrationEvent, handler: Handler,
                                group: str, record: Any) -> str:
        backoff, unexpected = Backoff(cap=self.retry_max_seconds), 0
        while True:
            try:
                return await self._apply_once(envelope, event, handler, group, record.topic)
            except EventRefused as exc:
                await self._dead_letter(record, group, exc, event_id=envelope.id)
                return "dead_lettered"
            except Exception as exc:  # noqa: BLE001 - classified below; nothing is skipped silently
                if not is_transient(exc):
                    unexpected += 1
                    if unexpected >= UNEXPECTED_ERROR_ATTEMPTS:
                        log.exception("event %s failed %d times; dead-lettering", envelope.id, unexpected)
                        await self._dead_letter(record, group, exc, event_id=envelope.id)
                        return "dead_lettered"
                metrics.EVENT_RETRIES.labels(self.service, record.topic).inc()
                delay = backoff.next_delay()
                log.warning("event %s on %s: %s: %s; retrying in %.1fs",
                            envelope.id, record.topic, type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)

    async def _apply_once(self, envelope: Envelope, event: IntegrationEvent, handler: Handler,
                          group: str, topic: str) -> str:
        async with self.sessions() as session, session.begin():
            digest = body_digest(envelope.body)
            first_time = (await session.execute(
                text("INSERT INTO processed_events (consumer, event_id, topic, body_digest) VALUES (:c, :e, :t, :d) "
                     "ON CONFLICT DO NOTHING RETURNING 1"),
                {"c": group, "e": envelope.id, "t": topic, "d": digest})).first()
            if first_time is None:
                await _same_bodies_as_applied(session, group, [(envelope, digest)])
                return "duplicate"
            self._known_program(event)
            with tracing.on_behalf_of(envelope):
                await handler(session, envelope, event)
                await _run_deferred(session)
                log.info("applied %s", envelope.type)  # one event per transaction here: the low-volume groups
        return "processed"

    def _known_program(self, event: IntegrationEvent) -> None:
        known_program(self.programs, event, unknown_programs=self.unknown_programs)

    async def _dead_letter(self, record: Any, group: str, exc: Exception, *, event_id: str | None) -> None:
        """Publish the original message to <topic>.dlq (send_to_dead_letters), then record it for the operators'
        list, retried until it is there: the offset moves on only after both."""
        copied = await send_to_dead_letters(self.broker, record, group, exc,
                                            retry_max_seconds=self.retry_max_seconds)
        backoff = Backoff(cap=self.retry_max_seconds)
        while True:
            try:
                await self._record_dead_letter(record, group, event_id, exc, copied=copied)
                return
            except Exception as record_exc:  # noqa: BLE001 - the database is away: the list must have it
                log.warning("recording the dead letter of %s@%s/%s failed (%s); retrying in %.1fs", record.topic,
                            record.partition, record.offset, record_exc, await backoff.wait())

    async def _record_dead_letter(self, record: Any, group: str, event_id: str | None, exc: Exception, *,
                                  copied: bool = True) -> None:
        reason = _reason(exc) if copied else f"parked, no copy on the DLQ (the broker refused it): {_reason(exc)}"
        async with self.sessions() as session, session.begin():
            first_time = (await session.execute(text(
                'INSERT INTO dead_letters (consumer, topic, partition, "offset", event_id, error, program_id) '
                "VALUES (:c, :t, :p, :o, :e, :err, :program) ON CONFLICT DO NOTHING RETURNING 1"),
                {"c": group, "t": record.topic, "p": record.partition, "o": record.offset,
                 "e": _storable(event_id) if event_id else None, "err": _storable(reason[:4000]),
                 "program": program_named_by(record.value)})).first()
            answer = self._answers.get(group)
            if first_time is not None and answer is not None:
                await answer(session, record, event_id, exc)

    async def _commit(self, msg: KafkaMessage) -> None:
        try:
            await msg.ack()
        except Exception as exc:  # noqa: BLE001 - a rebalance may refuse the commit; redelivery is deduplicated
            log.warning("offset commit failed (%s); the event may be redelivered and will be deduplicated", exc)


async def send_to_dead_letters(broker: KafkaBroker, record: Any, group: str, exc: Exception, *,
                               retry_max_seconds: float) -> bool:
    """Publish the original message to <topic>.dlq with the error in headers, retried until it is there (every
    consumer of the platform, the lookup workers too). A copy that would not fit in a Kafka message is cut down
    as a whole, headers included (`dlq_copies`), with the original's offset to find it by. True once a copy is
    on the DLQ; False when the broker refuses even the shortest copy: the record is then parked (the service's
    `dead_letters` row, or the worker's log line and metric) and consumption goes on."""
    headers = dead_letter_headers(record, group, exc)
    copies = dlq_copies(record.value or b"", headers)
    body, headers = next(copies)
    backoff = Backoff(cap=retry_max_seconds)
    while True:
        try:
            await broker.publish(body, topic=dlq_topic(record.topic), key=record.key, headers=headers)
            break
        except MessageSizeTooLargeError:
            shorter = next(copies, None)  # the broker's limit is below ours: the next copy is shorter
            if shorter is None:
                log.error("the broker refuses even a headers-only dead-letter copy of %s@%s/%s: parked",
                          record.topic, record.partition, record.offset)
                metrics.DEAD_LETTERS_PARKED.labels(record.topic).inc()
                return False
            body, headers = shorter
        except Exception as publish_exc:  # noqa: BLE001 - the DLQ must receive it before the offset moves on
            log.warning("dead-lettering to %s failed (%s); retrying in %.1fs", dlq_topic(record.topic),
                        publish_exc, await backoff.wait())
    log.warning("dead-lettered %s@%s/%s: %s", record.topic, record.partition, record.offset, exc)
    return True


def _reason(exc: Exception) -> str:
    """What the DLQ list shows: the rule and the field first when the event broke one."""
    rule, field = getattr(exc, "rule", ""), getattr(exc, "field", "")
    return f"[{rule}] {field}: {exc}" if rule else str(exc)


def dead_letter_headers(record: Any, group: str, exc: Exception) -> dict[str, str]:
    """The original headers plus why and where from, so an operator can fix and replay the message."""
    headers = dict(_headers(record))
    headers.update({
        "dlq_error": str(exc)[:2000], "dlq_error_class": type(exc).__name__,
        "dlq_field": getattr(exc, "field", ""), "dlq_rule": getattr(exc, "rule", ""),
        "dlq_consumer": group, "dlq_original_topic": record.topic,
        "dlq_original_partition": str(record.partition), "dlq_original_offset": str(record.offset),
    })
    return headers


# The DLQ copy must fit the producer's max_request_size (1 MiB): a message near the broker's limit plus the
# DLQ headers would not, and retrying it forever would stall the group.
DLQ_COPY_MAX_BYTES = 900_000
DLQ_TRUNCATED_BODY_BYTES = 64 * 1024
DLQ_TRUNCATED_HEADER_CHARS = 4096
# What a truncated copy keeps of the original's other headers, all of them together (a record may carry as many
# headers as the broker takes: cutting each one short did not make the copy short, issue 31)
DLQ_OTHER_HEADERS_BYTES = 64 * 1024
HEADER_OVERHEAD_BYTES = 12  # a record header's varint lengths, rounded up
KEPT_HEADERS = ("ce_id", "ce_type", "ce_source", "ce_specversion", "ce_time", "ce_subject", "content-type",
                "traceparent")


def copy_bytes(body: bytes, headers: Mapping[str, str]) -> int:
    """What a copy weighs against the producer's limit: its body and every header with its framing."""
    return len(body) + sum(len(k.encode("utf-8", "replace")) + len(v.encode("utf-8", "replace"))
                           + HEADER_OVERHEAD_BYTES for k, v in headers.items())


def _too_large(body: bytes, headers: Mapping[str, str]) -> bool:
    return copy_bytes(body, headers) > DLQ_COPY_MAX_BYTES


def dlq_copies(body: bytes, headers: dict[str, str]) -> Iterator[tuple[bytes, dict[str, str]]]:
    """The copies to try, longest first: the original as it is (when it fits), `truncated_copy`, and the
    why-and-where headers alone (when the broker's own limit is lower still)."""
    if not _too_large(body, headers):
        yield body, headers
    yield truncated_copy(body, headers)
    yield b"", {k: v[:DLQ_TRUNCATED_HEADER_CHARS] for k, v in headers.items()
                if k.startswith("dlq_") or k in ("ce_id", "ce_type")} | {"dlq_truncated": "true",
                                                                        "dlq_original_bytes": str(len(body))}


def truncated_copy(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The first 64 KiB of the body; the why-and-where and CloudEvents headers cut to 4,096 characters each; the
    other original headers while they fit in 64 KiB together, the rest counted in `dlq_headers_dropped`. The
    original stays on its topic at the offset named in `dlq_original_offset` (until retention removes it)."""
    short = {k: v[:DLQ_TRUNCATED_HEADER_CHARS] for k, v in headers.items()
             if k.startswith("dlq_") or k in KEPT_HEADERS}
    room, dropped = DLQ_OTHER_HEADERS_BYTES, 0
    for k, v in headers.items():
        if k in short:
            continue
        k, v = k[:256], v[:DLQ_TRUNCATED_HEADER_CHARS]
        weight = copy_bytes(b"", {k: v})
        if weight > room or k in short:
            dropped += 1
            continue
        short[k], room = v, room - weight
    short.update(dlq_truncated="true", dlq_original_bytes=str(len(body)))
    if dropped:
        short["dlq_headers_dropped"] = str(dropped)
    return body[:DLQ_TRUNCATED_BODY_BYTES], short


def program_named_by(body: bytes | None) -> str | None:
    """T1: the `program_id` a refused body names, read as leniently as a refused body needs (it may be no JSON,
    no object, or carry anything there): what decides which agency's operators see the dead letter."""
    try:
        program_id = json.loads(body or b"").get("program_id")
    except (ValueError, AttributeError, RecursionError):
        return None
    return _storable(program_id)[:100] if isinstance(program_id, str) and program_id else None


def _storable(value: str) -> str:
    """An id or error text PostgreSQL will take: NUL and lone surrogates escaped, so the DLQ row is written."""
    return value.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def _headers(record: Any) -> list[tuple[str, str]]:
    """The headers as text for the DLQ copy: bytes that are not UTF-8 shown as U+FFFD (the original keeps them)."""
    return [(_shown(k), v.decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else "" if v is None
             else str(v)) for k, v in (record.headers or ())]


def _header(record: Any, name: str) -> str | None:
    return dict(_headers(record)).get(name)


async def tolerant_parser(record: Any, original_parser: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream's parser decodes every header as strict UTF-8 (and fails on a null one) before our code sees
    the message, and the next ack would move past it: nothing recorded. It gets readable headers here; the
    handler gets the original record, and the envelope check refuses the bad header by name (DLQ)."""
    parsed = await original_parser(_readable(record))
    parsed.raw_message = record
    return parsed


async def tolerant_batch_parser(records: tuple[Any, ...],
                                original_parser: Callable[[Any], Awaitable[Any]]) -> Any:
    """The same for a poll: one bad byte would fail the whole batch."""
    parsed = await original_parser(tuple(_readable(r) for r in records))
    parsed.raw_message = records
    return parsed


async def raw_bodies(msg: Any, original_decoder: Callable[[Any], Awaitable[Any]]) -> None:
    """The bodies (not JSON, empty, tombstones …) are judged by the envelope check per record, never decoded by
    FastStream."""
    return None


def _readable(record: Any) -> Any:
    if all(_is_text(k) and _is_utf8(v) for k, v in record.headers or ()):
        return record  # nearly every record: nothing to copy
    return replace(record, headers=[(_shown(k), _utf8(v)) for k, v in (record.headers or ())])


def _is_utf8(value: object) -> bool:
    if not isinstance(value, (bytes, bytearray)):
        return value is not None
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _utf8(value: object) -> bytes:
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace").encode("utf-8")
    return str(value).encode("utf-8")
