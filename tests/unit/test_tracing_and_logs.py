"""One application's trace id from the HTTP request through every event (W3C traceparent) and into every JSON
log line written on its behalf."""
import json
import logging
from datetime import datetime, timezone

import pytest

from sme_runtime import telemetry, tracing
from sme_runtime.logs import JsonLines
from sme_runtime.outbox import outbox_row
from sme_schemas import unwrap
from sme_schemas.intake import ApplicationWithdrawn

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_traceparent_is_continued_and_anything_else_starts_a_new_trace():
    assert tracing.Trace.parse(CALLER).trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    for bad in (None, "", "garbage", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01"):
        assert tracing.Trace.parse(bad) is None
    with tracing.continued(CALLER) as trace:
        assert trace.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736" and trace.span_id != "00f067aa0ba902b7"
    with tracing.continued("garbage") as fresh:
        assert len(fresh.trace_id) == 32 and fresh.trace_id != "4bf92f3577b34da6a3ce929d0e0e4736"
    assert tracing.current() is None


def test_an_event_written_on_behalf_of_a_request_carries_its_trace_and_its_schema():
    now = datetime.now(timezone.utc)
    event = ApplicationWithdrawn(program_id="gimpo-sos-demo", application_id="APP-01HTX5Q3Z8K2M4N6P8R0S2T4V6",
                                 occurred_at=now, withdrawn_at=now)
    with tracing.continued(CALLER):
        row = outbox_row(event, source="/sme/intake")
    headers = json.loads(row["headers"])
    envelope, _ = unwrap(headers, row["body"], expected=ApplicationWithdrawn)
    assert tracing.Trace.parse(envelope.traceparent).trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert headers["ce_dataschema"] == f"urn:{ApplicationWithdrawn.ce_type()}"
    with tracing.on_behalf_of(envelope) as consumer_side:
        assert consumer_side.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert tracing.APPLICATION_ID.get() == "APP-01HTX5Q3Z8K2M4N6P8R0S2T4V6"
        assert tracing.EVENT_ID.get() == envelope.id


def test_log_lines_are_json_with_the_service_trace_event_and_application():
    record = logging.LogRecord("screening.handlers", logging.INFO, __file__, 1, "decided %s", ("passed",), None)
    with tracing.continued(CALLER, event_id="e-1", application_id="APP-01HTX5Q3Z8K2M4N6P8R0S2T4V6"):
        line = json.loads(JsonLines("screening").format(record))
    assert line["service"] == "screening" and line["message"] == "decided passed" and line["level"] == "info"
    assert line["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736" and line["event_id"] == "e-1"
    assert line["application_id"] == "APP-01HTX5Q3Z8K2M4N6P8R0S2T4V6"


# --- OpenTelemetry spans (sme_runtime.telemetry) ----------------------------------------------------------------

def _recording():
    """This process's tracer provider with an in-memory exporter beside whatever else it exports to."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    telemetry.configure_telemetry("unit-test").add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def test_the_step_applying_an_event_is_a_span_under_its_publisher_and_the_parent_of_what_it_publishes():
    spans = _recording()
    now = datetime.now(timezone.utc)
    withdrawn = ApplicationWithdrawn(program_id="gimpo-sos-demo", application_id="APP-01HTX5Q3Z8K2M4N6P8R0S2T4V6",
                                     occurred_at=now, withdrawn_at=now)
    with tracing.continued(CALLER, name="POST /applications/{id}/withdrawal") as request:
        row = outbox_row(withdrawn, source="/sme/intake")
    envelope, _ = unwrap(json.loads(row["headers"]), row["body"], expected=ApplicationWithdrawn)
    assert envelope.traceparent == request.traceparent  # the step that wrote the row is its parent
    with tracing.on_behalf_of(envelope) as applying:
        onward = outbox_row(withdrawn, source="/sme/screening")
    finished = {s.name: s for s in spans.get_finished_spans()}
    step, apply = finished["POST /applications/{id}/withdrawal"], finished["apply application-withdrawn"]
    assert f"{step.parent.span_id:016x}" == "00f067aa0ba902b7"  # the caller's span
    assert apply.parent.span_id == step.context.span_id
    assert {f"{s.context.trace_id:032x}" for s in (step, apply)} == {"4bf92f3577b34da6a3ce929d0e0e4736"}
    assert apply.attributes["sme.application_id"] == "APP-01HTX5Q3Z8K2M4N6P8R0S2T4V6"
    assert apply.attributes["messaging.message.id"] == envelope.id
    assert json.loads(onward["headers"])["traceparent"] == applying.traceparent


def test_a_callers_unsampled_flag_does_not_switch_off_the_centers_trace():
    spans = _recording()
    with tracing.continued("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", name="unsampled caller"):
        pass
    assert [s.name for s in spans.get_finished_spans()] == ["unsampled caller"]


def test_queries_are_recorded_within_a_step_and_not_on_nobodys_behalf():
    sampler = telemetry.StepsAndTheirQueries()
    query = {"db.system": "postgresql", "db.statement": "SELECT 1"}
    from opentelemetry import trace as otel
    from opentelemetry.sdk.trace.sampling import Decision

    assert sampler.should_sample(None, 1, "SELECT", attributes=query).decision is Decision.DROP
    assert sampler.should_sample(None, 1, "apply X", attributes={}).decision is Decision.RECORD_AND_SAMPLE
    with tracing.continued(CALLER, name="a step"):
        within = otel.get_current_span()
        from opentelemetry.trace import set_span_in_context

        decision = sampler.should_sample(set_span_in_context(within), 1, "SELECT", attributes=query).decision
    assert decision is Decision.RECORD_AND_SAMPLE


def test_spans_go_to_a_file_of_json_lines_when_asked(tmp_path):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    path = tmp_path / "logs" / "spans.jsonl"
    [to_file] = telemetry.exporters_from_environment({"SME_TRACE_FILE": str(path)})
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(to_file))
    provider.get_tracer("t").start_span("신청서 접수").end()
    provider.get_tracer("t").start_span("second").end()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["name"] for line in lines] == ["신청서 접수", "second"]
    assert all(len(line["context"]["trace_id"]) == 34 for line in lines)  # "0x" + 32 hex digits


def test_spans_go_to_an_otlp_collector_when_one_is_configured():
    """A real OTLP/HTTP exchange with a local receiver: the protobuf request carries the span and its trace."""
    import http.server
    import threading

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    received: list[ExportTraceServiceRequest] = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(ExportTraceServiceRequest.FromString(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_port}/v1/traces"
        [otlp] = telemetry.exporters_from_environment({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint})
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(otlp))
        span = provider.get_tracer("t").start_span("filed", context=tracing._PROPAGATOR.extract(
            {"traceparent": CALLER}))
        span.end()
    finally:
        server.shutdown()
    [request] = received
    [sent] = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert sent.name == "filed" and sent.trace_id.hex() == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert sent.parent_span_id.hex() == "00f067aa0ba902b7"


def test_spans_are_recorded_only_when_they_go_somewhere():
    assert not telemetry.recording({})
    assert telemetry.recording({"SME_TRACE_FILE": "/tmp/spans.jsonl"})
    assert telemetry.recording({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert telemetry.otlp_traces_endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"}) \
        == "http://collector:4318/v1/traces"
    assert not telemetry.recording({"SME_TRACE_CONSOLE": "1", "OTEL_SDK_DISABLED": "true"})
    assert not telemetry.recording({"SME_TRACE_CONSOLE": "0"})


def test_a_share_of_the_applications_is_traced_and_every_service_keeps_the_same_ones():
    from opentelemetry.sdk.trace.sampling import Decision

    def kept(sampler, trace_id: int) -> bool:
        return sampler.should_sample(None, trace_id, "apply x", attributes={}).decision is Decision.RECORD_AND_SAMPLE

    tenth, other_service = telemetry.StepsAndTheirQueries(0.1), telemetry.StepsAndTheirQueries(0.1)
    ids = [int.from_bytes(bytes.fromhex(f"{n:08x}") * 4, "big") for n in range(0, 2**32, 2**32 // 1000)]
    decisions = [kept(tenth, i) for i in ids]
    assert decisions == [kept(other_service, i) for i in ids]
    assert 50 <= sum(decisions) <= 150
    assert all(kept(telemetry.StepsAndTheirQueries(1.0), i) for i in ids)
    assert not any(kept(telemetry.StepsAndTheirQueries(0.0), i) for i in ids)
    assert telemetry.trace_ratio({"SME_TRACE_RATIO": "0.25"}) == 0.25
    for bad in ("abc", "1.5", "-0.1"):
        with pytest.raises(ValueError, match="SME_TRACE_RATIO"):
            telemetry.trace_ratio({"SME_TRACE_RATIO": bad})


OTHER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_work_on_a_batch_does_each_collected_items_part_in_the_trace_of_the_event_that_kept_it():
    """Issue 28: a batch's submissions are reconsidered together at its end; the lookups asked for each must carry
    that application's trace, not the trace of the batch's last event."""
    import asyncio
    from types import SimpleNamespace

    from sme_runtime.consumer import _run_deferred, collect_until_applied

    session = SimpleNamespace(info={})
    published: dict[str, str] = {}

    async def work(items) -> None:
        for each in items:
            with each.in_its_trace():
                published[each.item] = tracing.Trace.parse(tracing.outgoing()).trace_id

    for caller, application in ((CALLER, "APP-FIRST"), (OTHER, "APP-SECOND")):
        with tracing.continued(caller, application_id=application):
            collect_until_applied(session, "taken-up", application, work)
    asyncio.run(_run_deferred(session))

    assert published == {"APP-FIRST": "4bf92f3577b34da6a3ce929d0e0e4736",
                         "APP-SECOND": "0af7651916cd43dd8448eb211c80319c"}


def test_nothing_is_recorded_until_something_exports_yet_the_trace_goes_on():
    """Issue 30: with no exporter a span is its ids alone (no attributes built for nobody); the trace it continues
    and the ids it passes on are the same as when recorded."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = telemetry.ExportingProvider(telemetry.StepsAndTheirQueries())
    parent = tracing._PROPAGATOR.extract({"traceparent": CALLER})
    quiet = provider.get_tracer("t").start_span("apply x", context=parent, attributes={"sme.application_id": "A"})
    assert not quiet.is_recording()
    assert tracing.Trace.of(quiet).trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    exported = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    loud = provider.get_tracer("t").start_span("apply x", context=parent, attributes={"sme.application_id": "A"})
    loud.end()
    assert loud.is_recording() is False and [s.attributes["sme.application_id"]
                                             for s in exported.get_finished_spans()] == ["A"]
    assert tracing.Trace.of(loud).trace_id == tracing.Trace.of(quiet).trace_id
