"""W3C Trace Context across the services: one application's trace id from the HTTP request that filed it,
through every outbox row and Kafka header (`traceparent`), to every consumer and the events it publishes in turn.
The log lines of all services carry it (sme_runtime.logs), so an operator follows one application by one id.

The current trace is a context variable: an HTTP request or a consumed event sets it for what runs on its
behalf; `outbox.enqueue` writes a child of it into the event's headers."""
from __future__ import annotations

import contextvars
import re
import secrets
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Iterator

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class Trace:
    trace_id: str
    span_id: str
    flags: str = "01"

    @classmethod
    def new(cls) -> "Trace":
        return cls(secrets.token_hex(16), secrets.token_hex(8))

    @classmethod
    def parse(cls, traceparent: str | None) -> "Trace | None":
        """A valid `traceparent` (version 00, ids not all zero); anything else is no trace (never an error: the
        header is a hint from outside, not part of the contract)."""
        match = _TRACEPARENT.match((traceparent or "").strip().lower())
        if not match or set(match[1]) == {"0"} or set(match[2]) == {"0"}:
            return None
        return cls(match[1], match[2], match[3])

    def child(self) -> "Trace":
        """The next hop of the same trace (a new span id)."""
        return Trace(self.trace_id, secrets.token_hex(8), self.flags)

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


CURRENT: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("sme_trace", default=None)
EVENT_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("sme_event_id", default=None)
APPLICATION_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("sme_application_id", default=None)


def current() -> Trace | None:
    return CURRENT.get()


def outgoing() -> str:
    """The traceparent for an event published now: a child of the current trace, or a new trace."""
    trace = CURRENT.get()
    return (trace.child() if trace else Trace.new()).traceparent


@contextmanager
def continued(traceparent: str | None, *, event_id: str | None = None,
              application_id: str | None = None) -> Iterator[Trace]:
    """Run a step on behalf of an incoming request or event: its trace (or a new one), its ids for the logs."""
    parent = Trace.parse(traceparent)
    trace = parent.child() if parent else Trace.new()
    tokens = [(CURRENT, CURRENT.set(trace)), (EVENT_ID, EVENT_ID.set(event_id)),
              (APPLICATION_ID, APPLICATION_ID.set(application_id))]
    try:
        yield trace
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


Snapshot = tuple[Trace | None, str | None, str | None]


def snapshot() -> Snapshot:
    """What the logs and the next outbox row would carry now (for work deferred to the end of a transaction)."""
    return CURRENT.get(), EVENT_ID.get(), APPLICATION_ID.get()


@contextmanager
def restored(snap: Snapshot) -> Iterator[None]:
    tokens = [(var, var.set(value)) for var, value in zip((CURRENT, EVENT_ID, APPLICATION_ID), snap)]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def on_behalf_of(envelope) -> AbstractContextManager[Trace]:
    """The context of a consumed event: its trace continued, its id and application for the logs."""
    subject = envelope.subject if envelope.subject.startswith("APP-") else None
    return continued(envelope.traceparent, event_id=envelope.id, application_id=subject)


class TraceRequests:
    """ASGI middleware: each HTTP request continues the caller's `traceparent` (another municipal system's) or
    starts a trace; the answer names it in its own `traceparent` header, so a caller can quote it to operators."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or ()).get(b"traceparent", b"").decode("latin-1") or None
        with continued(incoming) as trace:
            async def with_traceparent(message) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*message.get("headers", ()),
                                                      (b"traceparent", trace.traceparent.encode())]}
                await send(message)

            await self.app(scope, receive, with_traceparent)
