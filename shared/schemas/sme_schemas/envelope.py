"""CloudEvents 1.0 in Kafka binary mode: attributes in `ce_*` headers, the event as the JSON body."""
from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, TypeVar, overload

from pydantic import ValidationError

from sme_schemas.base import IntegrationEvent
from sme_schemas.catalog import BY_TYPE

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
REQUIRED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type")


class EnvelopeError(ValueError):
    """A message that is not one of our CloudEvents: poison, it goes to the DLQ. `field` names the header or the
    body's field at fault and `rule` what it breaks ('envelope': the CloudEvents binding; 'contract': the type's JSON
    Schema), so the dead letter's `dlq_field`/`dlq_rule` and a sender's refusal say where to look."""

    def __init__(self, message: str, *, field: str = "", rule: str = "envelope") -> None:
        super().__init__(message)
        self.field, self.rule = field, rule


@dataclass(frozen=True)
class Envelope:
    """One event as it travels: CloudEvents attributes, Kafka key and JSON body."""

    id: str
    source: str
    type: str
    time: datetime
    subject: str
    body: bytes
    traceparent: str | None = None  # W3C Trace Context: the application's trace, hop by hop

    @property
    def key(self) -> bytes:
        return self.subject.encode()

    def headers(self) -> dict[str, str]:
        return {
            "ce_specversion": SPEC_VERSION, "ce_id": self.id, "ce_source": self.source, "ce_type": self.type,
            "ce_time": self.time.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
            "ce_subject": self.subject, "ce_dataschema": dataschema(self.type), "content-type": CONTENT_TYPE,
            **({"traceparent": self.traceparent} if self.traceparent else {}),
        }


SCHEMA_BASE_URL = "SME_SCHEMA_BASE_URL"


def dataschema(ce_type: str) -> str:
    """Where a reader fetches the body's JSON Schema: `$SME_SCHEMA_BASE_URL/<ce_type>.json`, which every service
    serves (GET /schemas/{ce_type}.json; in production the bus's https address of it); `urn:<ce_type>` (the
    exported schema's `$id`) where no base is set."""
    base = os.environ.get(SCHEMA_BASE_URL, "").strip().rstrip("/")
    return f"{base}/{ce_type}.json" if base else f"urn:{ce_type}"


def wrap(event: IntegrationEvent, *, source: str, event_id: str | None = None,
         traceparent: str | None = None) -> Envelope:
    """Envelope for an event; the id is what consumers deduplicate on, so a retry must reuse it. `ce_dataschema`
    names the JSON Schema of the body (its `$id` in shared/schemas/jsonschema)."""
    return Envelope(
        id=event_id or str(uuid.uuid4()), source=source, type=event.ce_type(), time=event.occurred_at,
        subject=event.subject(), body=event.model_dump_json().encode("utf-8"), traceparent=traceparent,
    )


_CONTROL = re.compile("[\x00-\x1f\x7f]")  # NUL, line breaks and the rest no header value may carry


def _decode_headers(headers: Iterable[tuple[str, bytes | str | None]] | dict) -> dict[str, str]:
    """Kafka headers are arbitrary bytes: ours are UTF-8 text without control characters (PostgreSQL refuses NUL
    in the ids it records), anything else is refused naming the header."""
    items = headers.items() if isinstance(headers, dict) else headers
    out: dict[str, str] = {}
    for name, value in items or ():
        if value is None:
            out[name] = ""
            continue
        try:
            text = value.decode("utf-8") if isinstance(value, (bytes, bytearray)) else str(value)
        except UnicodeDecodeError:
            raise EnvelopeError(f"header {name!r} is not UTF-8 text", field=str(name)) from None
        if name.startswith("ce_") and _CONTROL.search(text):
            raise EnvelopeError(f"header {name!r} contains control characters (NUL, line breaks …)", field=str(name))
        out[name] = text
    return out


Event = TypeVar("Event", bound=IntegrationEvent)


@overload
def unwrap(headers, body: bytes, expected: type[Event]) -> tuple[Envelope, Event]: ...


@overload
def unwrap(headers, body: bytes, expected: None = None) -> tuple[Envelope, IntegrationEvent]: ...


def unwrap(headers, body: bytes, expected: type[IntegrationEvent] | None = None) -> tuple[Envelope, IntegrationEvent]:
    """Parse and validate a Kafka message; raises EnvelopeError naming what is wrong."""
    h = _decode_headers(headers)
    missing = [name for name in REQUIRED_HEADERS if not h.get(name)]
    if missing:
        raise EnvelopeError(f"missing CloudEvents headers: {', '.join(missing)}", field=missing[0])
    if h["ce_specversion"] != SPEC_VERSION:
        raise EnvelopeError(f"ce_specversion {h['ce_specversion']!r} is not {SPEC_VERSION}", field="ce_specversion")
    if h.get("content-type", CONTENT_TYPE).split(";")[0].strip() != CONTENT_TYPE:
        raise EnvelopeError(f"content-type {h.get('content-type')!r} is not {CONTENT_TYPE}", field="content-type")
    # A service's internal events (not in the public catalog) are read by naming the expected class.
    internal = expected is not None and h["ce_type"] == expected.ce_type()
    event_cls = expected if internal else BY_TYPE.get(h["ce_type"])
    if event_cls is None or (expected is not None and event_cls is not expected):
        want = expected.ce_type() if expected else "a known type"
        raise EnvelopeError(f"ce_type {h['ce_type']!r} is not {want}", field="ce_type")
    try:
        # A tolerant reader: fields a newer producer added within the major version are ignored, here and in
        # every nested object (the models forbid unknown fields when we build or receive them over HTTP).
        event = event_cls.model_validate_json(body, extra="ignore")
    except ValidationError as exc:
        raise EnvelopeError(f"{event_cls.__name__} body invalid: {_summarise(exc)}", field=_first_field(exc),
                            rule="contract") from exc
    time = _parse_time(h.get("ce_time")) or event.occurred_at
    envelope = Envelope(id=h["ce_id"], source=h["ce_source"], type=h["ce_type"], time=time,
                        subject=h.get("ce_subject") or event.subject(), body=body,
                        traceparent=h.get("traceparent") or None)
    return envelope, event


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise EnvelopeError(f"ce_time {value!r} is not an RFC 3339 instant", field="ce_time") from exc
    if parsed.tzinfo is None:
        raise EnvelopeError(f"ce_time {value!r} has no offset", field="ce_time")
    return parsed


def _first_field(exc: ValidationError) -> str:
    errors = exc.errors()
    return ".".join(str(p) for p in errors[0]["loc"]) if errors else ""


def _summarise(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}" for e in exc.errors()[:5]]
    return "; ".join(parts)
