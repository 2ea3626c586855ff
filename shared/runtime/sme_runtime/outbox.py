"""Transactional outbox: an event is a row written in the same transaction as the state change it reports."""
from __future__ import annotations

import json
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from sme_runtime import tracing
from sme_runtime.buffered import AppendOnly, append
from sme_schemas import IntegrationEvent, wrap


def outbox_row(event: IntegrationEvent, *, source: str, topic: str | None = None) -> dict[str, object]:
    """The outbox row of one event (columns of `OUTBOX`): its CloudEvents envelope, with a new ce_id and the
    current trace as its traceparent."""
    envelope = wrap(event, source=source, event_id=str(uuid.uuid4()), traceparent=tracing.outgoing())
    return {"event_id": envelope.id, "topic": topic or event.topic(), "event_key": envelope.subject,
            "headers": json.dumps(envelope.headers(), ensure_ascii=False), "body": envelope.body}


OUTBOX = AppendOnly("outbox", (("event_id", "uuid"), ("topic", "text"), ("event_key", "text"),
                               ("headers", "jsonb"), ("body", "bytea")))


def append_to_outbox(session: AsyncSession, events: list[tuple[IntegrationEvent, str | None]], *,
                     source: str) -> list[str]:
    """Events (each with its topic override or None) into the outbox of the caller's transaction, written with
    its other outbox rows in one statement as it commits (sme_runtime.buffered); returns their ce_ids in order."""
    ids = []
    for event, topic in events:
        row = outbox_row(event, source=source, topic=topic)
        append(session, OUTBOX, row)
        ids.append(str(row["event_id"]))
    return ids
