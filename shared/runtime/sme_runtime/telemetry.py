"""OpenTelemetry for every process: spans of its HTTP requests (FastAPI's instrumentation), of its SQL (asyncpg's),
of the events it consumes (FastStream's telemetry middleware, then one span per event applied) and of the events
its relay publishes. One application is one trace across the services: an event's `traceparent` (outbox row,
then Kafka header) names the span that published it (sme_runtime.tracing).

Where spans go, from the environment of each process:
- `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): OTLP over HTTP/protobuf to a collector
  (Jaeger, Tempo, an OpenTelemetry Collector), with the standard `OTEL_EXPORTER_OTLP_*` options;
- `SME_TRACE_FILE=PATH`: one JSON object per span appended to PATH (the main job: `.local/logs/<svc>.spans.jsonl`);
- `SME_TRACE_CONSOLE=1`: the same lines on standard error.
With none of them (or with `OTEL_SDK_DISABLED=true`, the specification's switch) nothing is instrumented: each
step still has its span ids — the logs' trace ids, the `traceparent` it passes on — and nothing is recorded.
Recording costs CPU (README: intake at 300 submissions/s); `SME_TRACE_RATIO` keeps that share of the applications'
traces, chosen alike by every service.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult, TraceIdRatioBased
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

if TYPE_CHECKING:
    from fastapi import FastAPI

# Probes and scrapes are not traced: one every few seconds per process, never on an application's behalf.
UNTRACED_PATHS = ("/metrics", "/livez", "/readyz", "/health")

_configured: dict[str, TracerProvider] = {}


class StepsAndTheirQueries(Sampler):
    """The steps of `ratio` of the applications' traces, chosen by trace id — so every service keeps or drops the
    same applications, and a caller's sampled flag does not decide for the center — and SQL only within a step.
    The relay's polls, the probes and the background loops query the database many times a second on nobody's
    behalf; as traces of their own they would bury the applications'. `SME_TRACE_RATIO` (default 1: every
    application) is what a deadline day lowers: recording every span, intake no longer kept up with 300
    submissions a second on two cores (README)."""

    def __init__(self, ratio: float = 1.0) -> None:
        self.ratio = min(1.0, max(0.0, ratio))
        self._kept = TraceIdRatioBased(self.ratio)

    def should_sample(self, parent_context: Context | None, trace_id: int, name: str, kind: SpanKind | None = None,
                      attributes: Attributes = None, links: Sequence[Link] | None = None,
                      trace_state: TraceState | None = None) -> SamplingResult:
        within_a_step = trace.get_current_span(parent_context).get_span_context().is_valid
        a_query = any(key in (attributes or {}) for key in ("db.system", "db.system.name"))
        if a_query and not within_a_step:
            return SamplingResult(Decision.DROP)
        return self._kept.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"StepsAndTheirQueries({self.ratio})"


class RecordedWhenExported(Sampler):
    """Nothing is recorded until the provider has somewhere to send spans: before that every span is its ids
    alone (OpenTelemetry's non-recording span), so the logs' trace ids and the `traceparent` passed on stay real
    while no span object, attribute or event is built for nobody. Building them cost screening 7% of its CPU on a
    deadline-day burst with no exporter configured (issue 30)."""

    def __init__(self, recorded: Sampler) -> None:
        self.recorded, self.exported = recorded, False

    def should_sample(self, parent_context: Context | None, trace_id: int, name: str, kind: SpanKind | None = None,
                      attributes: Attributes = None, links: Sequence[Link] | None = None,
                      trace_state: TraceState | None = None) -> SamplingResult:
        if not self.exported:
            return SamplingResult(Decision.DROP)
        return self.recorded.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"RecordedWhenExported({self.recorded.get_description()})"


class ExportingProvider(TracerProvider):
    """A tracer provider that records spans only once a span processor is added (RecordedWhenExported)."""

    def __init__(self, recorded: Sampler, **kwargs: Any) -> None:
        self._gate = RecordedWhenExported(recorded)
        super().__init__(sampler=self._gate, **kwargs)

    def add_span_processor(self, span_processor: Any) -> None:
        super().add_span_processor(span_processor)
        self._gate.exported = True

    @property
    def exports(self) -> bool:
        return self._gate.exported


def exporting() -> bool:
    """Whether this process's spans go anywhere (a span processor was added to its provider)."""
    made = provider()
    return not isinstance(made, ExportingProvider) or made.exports


def trace_ratio(env: Mapping[str, str]) -> float:
    raw = env.get("SME_TRACE_RATIO", "1")
    try:
        ratio = float(raw)
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"SME_TRACE_RATIO must be a number from 0 to 1 (the share of applications traced), "
                         f"got {raw!r}")
    return ratio


def provider() -> TracerProvider:
    """The process's provider; before one is configured (a unit test, a tool) one that records nothing until
    something exports, so each step still has real ids."""
    if (configured := _configured.get("provider")) is not None:
        return configured
    if (unconfigured := _configured.get("unconfigured")) is None:
        unconfigured = _configured["unconfigured"] = ExportingProvider(StepsAndTheirQueries())
    return unconfigured


def recording(env: Mapping[str, str] = os.environ) -> bool:
    """Spans are recorded only when they go somewhere."""
    disabled = env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    return not disabled and bool(exporters_named(env))


def exporters_named(env: Mapping[str, str]) -> list[str]:
    named = ["otlp"] if otlp_traces_endpoint(env) else []
    named += ["file"] if env.get("SME_TRACE_FILE") else []
    return named + (["console"] if env.get("SME_TRACE_CONSOLE", "") not in ("", "0", "false") else [])


def configure_telemetry(service: str) -> TracerProvider:
    """The process's tracer provider, made once (the first service app or worker of the process names it),
    with the exporters the environment asks for, and asyncpg instrumented."""
    if (made := _configured.get("provider")) is not None:
        return made
    if not recording():
        made = _configured["provider"] = provider()  # ids for the logs only
        return made
    made = ExportingProvider(StepsAndTheirQueries(trace_ratio(os.environ)),
                             resource=Resource.create({"service.name": f"sme-{service}", "service.namespace": "sme"}))
    for exporter in exporters_from_environment(os.environ):
        made.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(made)
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    AsyncPGInstrumentor().instrument(tracer_provider=made)  # type: ignore[no-untyped-call]
    _configured["provider"] = made
    return made


def exporters_from_environment(env: Mapping[str, str]) -> list[SpanExporter]:
    exporters: list[SpanExporter] = []
    named = exporters_named(env)
    if "otlp" in named:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # headers, timeout, compression: the exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself
        exporters.append(OTLPSpanExporter(endpoint=otlp_traces_endpoint(env)))
    if "file" in named:
        path = Path(env["SME_TRACE_FILE"])
        path.parent.mkdir(parents=True, exist_ok=True)
        # Line-buffered appends: each span is one write, so processes sharing the file do not tear lines.
        exporters.append(ConsoleSpanExporter(out=open(path, "a", encoding="utf-8", buffering=1),
                                             formatter=span_line))
    if "console" in named:
        exporters.append(ConsoleSpanExporter(out=sys.stderr, formatter=span_line))
    return exporters


def otlp_traces_endpoint(env: Mapping[str, str]) -> str | None:
    """The OTLP/HTTP traces URL, as the OpenTelemetry specification derives it: the traces endpoint as given, or
    the base endpoint with /v1/traces."""
    if traces := env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return traces
    if base := env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return base.rstrip("/") + "/v1/traces"
    return None


def span_line(span: ReadableSpan) -> str:
    return str(span.to_json(indent=None)) + "\n"


def instrument_app(app: "FastAPI", service: str) -> None:
    """Server spans for the app's requests, continuing a caller's `traceparent`."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    provider = configure_telemetry(service)
    if not recording():
        return
    # One server span per request: the ASGI receive/send spans would triple the spans for no operator's question.
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider,
                                       excluded_urls=",".join(UNTRACED_PATHS), exclude_spans=["receive", "send"])


def broker_middlewares(service: str) -> list[Any]:
    """FastStream's telemetry middleware: a CONSUMER span per message received, a child of the span that
    published it (its `traceparent` header); a PRODUCER span per message the broker publishes itself."""
    from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware

    provider = configure_telemetry(service)
    if not recording():
        return []
    return [KafkaTelemetryMiddleware(tracer_provider=provider, include_messages_counters=False)]
