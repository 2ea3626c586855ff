"""One application's trace across the services (W3C Trace Context, recorded by OpenTelemetry: sme_runtime.telemetry):
from the HTTP request that filed it, through every outbox row and Kafka header (`traceparent`), to every consumer
and the events it publishes in turn. The log lines of all services carry its id (sme_runtime.logs), so an operator
follows one application by one id, in the logs and in a trace viewer alike.

The current step's trace is a context variable: an HTTP request or a consumed event sets it for what runs on its
behalf (and records a span); `outbox.append_to_outbox` writes it into the event's headers, so the span that applied an
event is the parent of the spans of what it published."""
from __future__ import annotations

import contextvars
import re
import secrets
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from opentelemetry import trace as otel
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sme_runtime import telemetry

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_PROPAGATOR = TraceContextTextMapPropagator()


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

    @classmethod
    def of(cls, span: Span) -> "Trace":
        context = span.get_span_context()
        return cls(f"{context.trace_id:032x}", f"{context.span_id:016x}", f"{int(context.trace_flags):02x}")

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


_TRACERS: dict[int, otel.Tracer] = {}


def tracer() -> otel.Tracer:
    """The provider's tracer, made once per provider (making one per step was 3% of screening's CPU)."""
    provider = telemetry.provider()
    if (made := _TRACERS.get(id(provider))) is None:
        made = _TRACERS[id(provider)] = provider.get_tracer("sme_runtime")
    return made


def _child_of(parent: Trace | None) -> Trace:
    """A step's ids when nothing records spans: the parent's trace (or a new one) and a span id of its own."""
    fresh = Trace.new()
    return Trace((parent or fresh).trace_id, fresh.span_id, "00")


CURRENT: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("sme_trace", default=None)
EVENT_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("sme_event_id", default=None)
APPLICATION_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("sme_application_id", default=None)


def current() -> Trace | None:
    return CURRENT.get()


def outgoing() -> str:
    """The traceparent for an event published now: the current step's span is its parent (a new trace when
    nothing is being traced: a tool publishing by hand)."""
    trace = CURRENT.get()
    return (trace or Trace.new()).traceparent


def _parent_context(traceparent: str | None) -> Any:
    """What a new span continues: the incoming `traceparent`, unless the instrumentation (FastAPI's server span,
    FastStream's process span) has continued that very trace already; then a child of its span. No traceparent:
    the current span if any (a request from a caller that sent none), or a new trace."""
    parent = Trace.parse(traceparent)
    here = otel.get_current_span().get_span_context()
    if parent is None or (here.is_valid and f"{here.trace_id:032x}" == parent.trace_id):
        return None
    return _PROPAGATOR.extract({"traceparent": parent.traceparent})


@contextmanager
def continued(traceparent: str | None, *, name: str = "step", kind: SpanKind = SpanKind.INTERNAL,
              event_id: str | None = None, application_id: str | None = None) -> Iterator[Trace]:
    """Run a step on behalf of an incoming request or event, as a span of its trace (or of a new one); its ids
    are what the logs and the events it publishes carry."""
    if not telemetry.exporting():  # ids only: no span to build for nobody (issue 30, 6% of screening's CPU)
        with _current(_child_of(Trace.parse(traceparent) or CURRENT.get()), event_id, application_id) as trace:
            yield trace
        return
    attributes = {k: v for k, v in (("messaging.message.id", event_id), ("sme.application_id", application_id))
                  if v is not None}
    with tracer().start_as_current_span(name, context=_parent_context(traceparent), kind=kind,
                                        attributes=attributes) as span:
        with _current(Trace.of(span), event_id, application_id) as trace:
            yield trace


@contextmanager
def _current(trace: Trace, event_id: str | None, application_id: str | None) -> Iterator[Trace]:
    tokens: list[tuple[contextvars.ContextVar[Any], contextvars.Token[Any]]] = [
        (CURRENT, CURRENT.set(trace)),
        (EVENT_ID, EVENT_ID.set(event_id)),
        (APPLICATION_ID, APPLICATION_ID.set(application_id)),
    ]
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
    ids: tuple[contextvars.ContextVar[Any], ...] = (CURRENT, EVENT_ID, APPLICATION_ID)
    tokens = [(var, var.set(value)) for var, value in zip(ids, snap)]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def on_behalf_of(envelope: Any) -> AbstractContextManager[Trace]:
    """The context of a consumed event: a span applying it in its trace, its id and application for the logs."""
    subject = envelope.subject if envelope.subject.startswith("APP-") else None
    return continued(envelope.traceparent, name=f"apply {envelope.type.rsplit('.', 2)[-2]}",  # its event name
                     event_id=envelope.id, application_id=subject)


def span_of(traceparent: str | None, name: str, *, kind: SpanKind, attributes: dict[str, Any] | None = None,
            started_ns: int | None = None) -> Span:
    """A span of `traceparent`'s trace for work done in bulk, one per event (the relay's batch, a lookup worker's
    poll); the caller ends it. `Trace.of(span).traceparent` names it in what that work publishes."""
    return tracer().start_span(name, context=_parent_context(traceparent), kind=kind, attributes=attributes,
                               start_time=started_ns)


class TraceRequests:
    """ASGI middleware: each HTTP request is a step of the caller's trace (another municipal system's
    `traceparent`) or of a new one — the server span of FastAPI's instrumentation when it runs — and the answer
    names it in its own `traceparent` header, so a caller can quote it to operators. Probes and scrapes are not
    traced."""

    def __init__(self, app: ASGIApp, untraced: tuple[str, ...] = telemetry.UNTRACED_PATHS) -> None:
        self.app, self.untraced = app, untraced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.untraced):
            await self.app(scope, receive, send)
            return
        with self._step(scope) as trace:
            async def with_traceparent(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*message.get("headers", ()),
                                                      (b"traceparent", trace.traceparent.encode())]}
                await send(message)

            await self.app(scope, receive, with_traceparent)

    @staticmethod
    def _step(scope: Scope) -> AbstractContextManager[Trace]:
        server = otel.get_current_span()
        if server.is_recording():
            return _current(Trace.of(server), None, None)
        incoming = dict(scope.get("headers") or ()).get(b"traceparent", b"").decode("latin-1") or None
        return continued(incoming, name=f"{scope['method']} {scope['path']}", kind=SpanKind.SERVER)
