"""Log lines as JSON, one object per line, with what an operator searches by: the service, the trace id, the
event id and the application id of what the line was written on behalf of (sme_runtime.tracing). Text lines
instead with SME_LOG_FORMAT=text (a developer's terminal)."""
from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from typing import Any

from sme_runtime import tracing


class JsonLines(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        trace = tracing.current()
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "service": self.service, "logger": record.name,
                "message": record.getMessage(), "trace_id": trace.trace_id if trace else None,
                "event_id": tracing.EVENT_ID.get(), "application_id": tracing.APPLICATION_ID.get()}
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps({k: v for k, v in line.items() if v is not None}, ensure_ascii=False)


def broker_logging() -> dict[str, Any]:
    """FastStream's logging through ours (JSON lines with the trace), not its own plain-text stdout handler; its
    line per message received and processed is debug: the consumers log what they applied, with the event id."""
    return {"logger": logging.getLogger("sme.broker"), "log_level": logging.DEBUG}


def configure_logging(service: str) -> None:
    handler = logging.StreamHandler()
    if os.environ.get("SME_LOG_FORMAT", "json") == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(JsonLines(service))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
