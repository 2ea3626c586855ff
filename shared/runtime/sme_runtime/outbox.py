"""Transactional outbox: an event is a row written in the same transaction as the state change it reports."""
from __future__ import annotations

import json
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from sme_runtime import tracing
from sme_runtime.buffered import AppendOnly, append
from sme_schemas import IntegrationEvent, wrap


_INSERT = ("INSERT INTO outbox (event_id, topic, event_key, headers, body) "
           "SELECT CAST(:outbox_id AS uuid), :outbox_topic, :outbox_key, CAST(:outbox_headers AS jsonb), :outbox_body")


def outbox_row(event: IntegrationEvent, *, source: str, topic: str | None = None) -> dict[str, object]:
    """The outbox row of one event as statement parameters (for `insert_after`)."""
    envelope = wrap(event, source=source, event_id=str(uuid.uuid4()), traceparent=tracing.outgoing())
    return {"outbox_id": envelope.id, "outbox_topic": topic or event.topic(), "outbox_key": envelope.subject,
            "outbox_headers": json.dumps(envelope.headers(), ensure_ascii=False), "outbox_body": envelope.body}


def insert_after(cte: str) -> str:
    """A CTE clause that writes the outbox row (parameters from `outbox_row`) only if the CTE `cte` returned a
    row: a state change and its event in one statement, one round trip, still one transaction."""
    return f"outbox_row AS ({_INSERT} FROM {cte})"


OUTBOX = AppendOnly("outbox", (("event_id", "uuid"), ("topic", "text"), ("event_key", "text"),
                               ("headers", "jsonb"), ("body", "bytea")))


def append_to_outbox(session: AsyncSession, events: list[tuple[IntegrationEvent, str | None]], *,
                     source: str) -> list[str]:
    """Events (each with its topic override or None) into the outbox of the caller's transaction, written with
    its other outbox rows in one statement as it commits (sme_runtime.buffered); returns their ce_ids in order."""
    ids = []
    for event, topic in events:
        envelope = wrap(event, source=source, event_id=str(uuid.uuid4()), traceparent=tracing.outgoing())
        append(session, OUTBOX, {"event_id": envelope.id, "topic": topic or event.topic(),
                                 "event_key": envelope.subject,
                                 "headers": json.dumps(envelope.headers(), ensure_ascii=False),
                                 "body": envelope.body})
        ids.append(envelope.id)
    return ids
