"""Exports the JSON Schema of every event and an AsyncAPI 3.0 document per service.

    python -m sme_schemas.export          # write shared/schemas/{jsonschema,asyncapi}
    python -m sme_schemas.export --check  # exit 1 when the committed files are stale or a change is incompatible
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sme_schemas.base import IntegrationEvent
from sme_schemas.catalog import CONSUMES, EVENTS, SERVICES, produced_by
from sme_schemas.compat import incompatibilities
from sme_schemas.envelope import CONTENT_TYPE, SPEC_VERSION, wrap
from sme_schemas.examples import EXAMPLES
from sme_schemas.intake import ApplicationFiledByMunicipalSystem, ApplicationFilingResult

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "jsonschema"
ASYNCAPI_DIR = ROOT / "asyncapi"


def event_schema(event: type[IntegrationEvent]) -> dict[str, Any]:
    """JSON Schema of one event's body, with its CloudEvents identity. Readers ignore fields they do not know
    (a newer producer's optional additions), so no object of it forbids additional properties."""
    schema = _open(event.model_json_schema(mode="serialization"))
    schema["$id"] = f"urn:{event.ce_type()}"
    schema["x-topic"] = event.topic()
    schema["x-ce-type"] = event.ce_type()
    return schema


def _open(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _open(v) for k, v in node.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(node, list):
        return [_open(v) for v in node]
    return node


def _headers_schema(event: type[IntegrationEvent]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes, Kafka binary content mode",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "content-type"],
        "properties": {
            "ce_specversion": {"const": SPEC_VERSION},
            "ce_id": {"type": "string", "description": "Unique per event; consumers deduplicate on it"},
            "ce_source": {"type": "string", "description": "Producing service, e.g. /sme/intake (a filing system: its "
                          "registered source)"},
            "ce_type": {"const": event.ce_type()},
            "ce_time": {"type": "string", "format": "date-time"},
            "ce_subject": {"type": "string", "description": f"Equals the Kafka key: {_subject_of(event)}"},
            "ce_dataschema": {"type": "string", "format": "uri", "description": "Where the payload's JSON Schema is "
                              f"served: <schema base URL>/{event.ce_type()}.json (every service answers GET "
                              f"/schemas/{event.ce_type()}.json); urn:{event.ce_type()} where the deployment set "
                              "no base URL"},
            "content-type": {"const": CONTENT_TYPE},
            "traceparent": {"type": "string", "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                            "description": "W3C Trace Context of the step that published it (optional; never an "
                                           "error when absent or malformed)"},
            "correlation_id": {"type": "string", "description": "Set by the publishing client library "
                               "(FastStream); informational, consumers ignore it"},
        },
    }


def _subject_of(event: type[IntegrationEvent]) -> str:
    """What the key (ce_subject) of this type is, read off its example: the field(s) it is made of."""
    example = event.model_validate(EXAMPLES[event.__name__])
    subject = example.subject()
    values = {name: getattr(example, name) for name in type(example).model_fields}
    same = [name for name, value in values.items() if isinstance(value, str) and value == subject]
    if same:
        return same[0].replace("_", " ")
    parts = [name for name, value in values.items() if isinstance(value, str) and value and value in subject]
    return ":".join(sorted(parts, key=lambda n: subject.index(values[n]))) if parts else "see the type's description"


def _message(event: type[IntegrationEvent]) -> dict[str, Any]:
    example = event.model_validate(EXAMPLES[event.__name__])
    headers = wrap(example, source=f"/sme/{event.producer}", event_id="00000000-0000-4000-8000-000000000001").headers()
    return {
        "name": event.__name__, "title": event.__name__, "summary": (event.__doc__ or "").strip().splitlines()[0],
        "contentType": CONTENT_TYPE, "headers": _headers_schema(event),
        "payload": {"$ref": f"../jsonschema/{event.topic()}.json"},
        "bindings": {"kafka": {"key": {"type": "string", "description": f"ce_subject: {_subject_of(event)}"}}},
        "examples": [{"name": "catalog-example", "summary": "sme_schemas.examples", "headers": headers,
                      "payload": json.loads(example.model_dump_json())}],
    }


DEAD_LETTER_HEADERS = {
    "dlq_error": "Why it was refused, for people (first 2,000 characters)",
    "dlq_error_class": "The refusal's kind (EnvelopeError, EventRefused, FilingRefused …)",
    "dlq_rule": "The rule broken: a DOMAIN.md id, 'contract' (the JSON Schema), 'envelope' (the CloudEvents headers), "
                "'sender' (a filing on another system's topic)",
    "dlq_field": "The header or dotted body field at fault",
    "dlq_consumer": "The consumer group that refused it",
    "dlq_original_topic": "Where it was read", "dlq_original_partition": "…", "dlq_original_offset": "…",
}


def _dead_letter_message() -> dict[str, Any]:
    properties: dict[str, Any] = {name: {"type": "string", "description": text}
                                  for name, text in DEAD_LETTER_HEADERS.items()}
    properties["dlq_truncated"] = {"type": "string", "description": "Present when the copy keeps only the first "
                                   "64 KiB of a message too large for the DLQ"}
    return {
        "name": "DeadLetter", "title": "DeadLetter",
        "summary": "A message a consumer could not apply: the original key, body and headers, with why and where from",
        "description": "The body is the original message's bytes (not necessarily valid JSON). Operators list and "
                       "replay dead letters per service (`python -m <service> dlq list|replay`, "
                       "GET /dead-letters).",
        "headers": {"type": "object", "required": sorted(DEAD_LETTER_HEADERS), "properties": properties},
        "payload": {"description": "The original message's body, as it was"},
    }


def _channel(address: str, message: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    channel: dict[str, Any] = {"address": address, "messages": {message: {"$ref": f"#/components/messages/{message}"}}}
    if parameters:
        channel["parameters"] = parameters
    return channel


def _operation(action: str, channel: str, message: str) -> dict[str, Any]:
    return {"action": action, "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{message}"}]}


SYSTEM_PARAMETER = {"system": {"description": "The filing system's registered name (deploy/bus/systems.json); on an "
                               "authenticated bus only it may write its filing topic and read its answers",
                               "examples": ["gimpo-minwon"]}}
# Each filing system's own topics beside the shared ones (issue 27): intake receives the one, sends the other
PER_SYSTEM = {ApplicationFiledByMunicipalSystem: ("receive", "municipal.{system}.application-filed.v1"),
              ApplicationFilingResult: ("send", "municipal.{system}.application-filing-result.v1")}

SERVERS = {
    "development": {"host": "127.0.0.1:9092", "protocol": "kafka", "description": "A developer's broker "
                    "(deploy/local/kafka.sh): no authentication"},
    "test": {"host": "127.0.0.1:19092", "protocol": "kafka-secure", "description": "The test suite's broker: "
             "SASL_SSL, SCRAM-SHA-512, ACLs from the event catalog (sme_runtime.bus_acl)",
             "security": [{"$ref": "#/components/securitySchemes/scram"}]},
    "production": {"host": "{bootstrap}", "protocol": "kafka-secure", "description": "The municipal bus: "
                   "SASL_SSL with SCRAM-SHA-512, a principal per service and per outside system, each allowed "
                   "exactly its catalog",
                   "variables": {"bootstrap": {"description": "The bus's bootstrap address, given to each "
                                               "integrating team with its principal"}},
                   "security": [{"$ref": "#/components/securitySchemes/scram"}]},
}


def asyncapi(service: str) -> dict[str, Any]:
    """AsyncAPI 3.0 document: the channels a service sends to and receives from, and the dead-letter topics it
    writes what it cannot apply to."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for action, events in (("send", produced_by(service)), ("receive", CONSUMES[service])):
        for event in events:
            name = event.__name__
            messages[name] = _message(event)
            channels[event.topic()] = _channel(event.topic(), name)
            operations[f"{action}{name}"] = _operation(action, event.topic(), name)
            if event in PER_SYSTEM and service == "intake":
                per_action, address = PER_SYSTEM[event]
                key = address.replace("{system}", "system")
                channels[key] = _channel(address, name, SYSTEM_PARAMETER)
                operations[f"{per_action}{name}PerSystem"] = _operation(per_action, key, name)
    for event in CONSUMES[service]:
        dlq = f"{event.topic()}.dlq"
        messages["DeadLetter"] = _dead_letter_message()
        channels[dlq] = _channel(dlq, "DeadLetter")
        operations[f"deadLetter{event.__name__}"] = _operation("send", dlq, "DeadLetter")
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"{service} service",
            "version": "1.0.0",
            "description": f"Events the {service} service of the municipal SME support platform sends and receives.",
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": SERVERS,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "securitySchemes": {"scram": {
            "type": "scramSha512", "description": "SASL/SCRAM-SHA-512 over TLS: the principal's name and password; "
            "the bus's CA certificate is given with them"}}},
    }


def rendered() -> dict[Path, str]:
    """Every exported file and its text."""
    files = {SCHEMA_DIR / f"{e.topic()}.json": _dump(event_schema(e)) for e in EVENTS}
    files.update({ASYNCAPI_DIR / f"{s}.json": _dump(asyncapi(s)) for s in SERVICES})
    return files


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def check() -> list[str]:
    """Problems with the committed files: incompatible changes first, then stale files."""
    return incompatible_changes() + stale_files()


def incompatible_changes() -> list[str]:
    """Changes that would break consumers of the committed schemas (a new major version is needed)."""
    problems: list[str] = []
    for event in EVENTS:
        path = SCHEMA_DIR / f"{event.topic()}.json"
        if path.exists():
            old = json.loads(path.read_text("utf-8"))
            problems += [f"{event.topic()}: {p}" for p in incompatibilities(old, event_schema(event))]
    for path in sorted(SCHEMA_DIR.glob("*.json")) if SCHEMA_DIR.exists() else []:
        if path.stem not in {e.topic() for e in EVENTS}:
            problems.append(f"{path.stem}: topic removed; a major version must stay published")
    return problems


def stale_files() -> list[str]:
    """Exported files that differ from what the models generate now."""
    problems: list[str] = []
    committed = {p.name for d in (SCHEMA_DIR, ASYNCAPI_DIR) if d.exists() for p in d.glob("*.json")}
    for path, text in rendered().items():
        if path.name not in committed or path.read_text("utf-8") != text:
            problems.append(f"{path.relative_to(ROOT)} is stale: run python -m sme_schemas.export")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        print("\n".join(problems) or "schemas up to date and compatible")
        return 1 if problems else 0
    incompatible = incompatible_changes()
    if incompatible:
        print(
            "refusing to export incompatible changes (publish a new major version instead):", *incompatible, sep="\n  "
        )
        return 1
    for path, text in rendered().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    print(f"wrote {len(rendered())} files under {ROOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
