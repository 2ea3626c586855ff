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
from sme_schemas.envelope import CONTENT_TYPE, SPEC_VERSION

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
            "ce_source": {"type": "string", "description": "Producing service, e.g. /sme/intake"},
            "ce_type": {"const": event.ce_type()},
            "ce_time": {"type": "string", "format": "date-time"},
            "ce_subject": {"type": "string", "description": "Equals the Kafka key"},
            "content-type": {"const": CONTENT_TYPE},
        },
    }


def asyncapi(service: str) -> dict[str, Any]:
    """AsyncAPI 3.0 document: the channels a service sends to and receives from."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for action, events in (("send", produced_by(service)), ("receive", CONSUMES[service])):
        for event in events:
            name = event.__name__
            messages[name] = {
                "name": name, "title": name, "summary": (event.__doc__ or "").strip().splitlines()[0],
                "contentType": CONTENT_TYPE, "headers": _headers_schema(event),
                "payload": {"$ref": f"../jsonschema/{event.topic()}.json"},
                "bindings": {"kafka": {"key": {"type": "string", "description": "ce_subject (application id)"}}},
            }
            channels[event.topic()] = {
                "address": event.topic(),
                "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            }
            operations[f"{action}{name}"] = {
                "action": action, "channel": {"$ref": f"#/channels/{event.topic()}"},
                "messages": [{"$ref": f"#/channels/{event.topic()}/messages/{name}"}],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"{service} service",
            "version": "1.0.0",
            "description": f"Events the {service} service of the municipal SME support platform sends and receives.",
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {"local": {"host": "127.0.0.1:9092", "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
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
