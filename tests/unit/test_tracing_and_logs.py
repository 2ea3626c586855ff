"""One application's trace id from the HTTP request through every event (W3C traceparent) and into every JSON
log line written on its behalf."""
import json
import logging
from datetime import datetime, timezone

from sme_runtime import tracing
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
    headers = json.loads(row["outbox_headers"])
    envelope, _ = unwrap(headers, row["outbox_body"], expected=ApplicationWithdrawn)
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
