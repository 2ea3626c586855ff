"""Transactional outbox: an event is a row written in the same transaction as the state change it reports."""
from __future__ import annotations

import json
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from sme_runtime import tracing
from sme_schemas import IntegrationEvent, wrap


_INSERT = ("INSERT INTO outbox (event_id, topic, event_key, headers, body) "
           "SELECT CAST(:outbox_id AS uuid), :outbox_topic, :outbox_key, CAST(:outbox_headers AS jsonb), :outbox_body")
_INSERT_CLAUSE = text(_INSERT)


def outbox_row(event: IntegrationEvent, *, source: str, topic: str | None = None) -> dict[str, object]:
    """The outbox row of one event as statement parameters (for `enqueue` or `insert_after`)."""
    envelope = wrap(event, source=source, event_id=str(uuid.uuid4()), traceparent=tracing.outgoing())
    return {"outbox_id": envelope.id, "outbox_topic": topic or event.topic(), "outbox_key": envelope.subject,
            "outbox_headers": json.dumps(envelope.headers(), ensure_ascii=False), "outbox_body": envelope.body}


async def enqueue(session: AsyncSession, event: IntegrationEvent, *, source: str, topic: str | None = None) -> str:
    """Add the event to the outbox inside the caller's transaction; returns its ce_id. `topic` overrides the
    event's own topic for a service's internal per-partner topics (screening's per-registry lookups)."""
    row = outbox_row(event, source=source, topic=topic)
    await session.execute(_INSERT_CLAUSE, row)
    return str(row["outbox_id"])


def insert_after(cte: str) -> str:
    """A CTE clause that writes the outbox row (parameters from `outbox_row`) only if the CTE `cte` returned a
    row: a state change and its event in one statement, one round trip, still one transaction."""
    return f"outbox_row AS ({_INSERT} FROM {cte})"


async def enqueue_all(session: AsyncSession, events: list[tuple[IntegrationEvent, str | None]], *,
                      source: str) -> list[str]:
    """Several events (each with its topic override or None) in one statement, in the order given; returns their
    ce_ids. One round trip instead of one per event: a surge writes four lookups per application."""
    if not events:
        return []
    envelopes = [(wrap(event, source=source, event_id=str(uuid.uuid4()), traceparent=tracing.outgoing()),
                  topic or event.topic())
                 for event, topic in events]
    await session.execute(
        text("INSERT INTO outbox (event_id, topic, event_key, headers, body) "
             "SELECT CAST(e AS uuid), t, k, CAST(h AS jsonb), b FROM unnest(CAST(:ids AS text[]), "
             "CAST(:topics AS text[]), CAST(:keys AS text[]), CAST(:headers AS text[]), CAST(:bodies AS bytea[])) "
             "WITH ORDINALITY AS x(e, t, k, h, b, n) ORDER BY n"),
        {"ids": [e.id for e, _ in envelopes], "topics": [t for _, t in envelopes],
         "keys": [e.subject for e, _ in envelopes],
         "headers": [json.dumps(e.headers(), ensure_ascii=False) for e, _ in envelopes],
         "bodies": [e.body for e, _ in envelopes]})
    return [e.id for e, _ in envelopes]
