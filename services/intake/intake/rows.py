"""What intake's store reads, column by column (sme_runtime.rows)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sme_runtime.rows import JsonObject


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    """An application as filed and since amended (A1–A3), with where it stands."""

    application_id: str
    program_id: str
    brn: str
    status: str
    revision: int
    channel: str
    submitted_at: datetime
    updated_at: datetime
    content: JsonObject
    contacts: JsonObject | None
    source_system: str | None
    external_reference: str | None
    submitted_by: str
    status_reason: str | None
    supplement_deadline: datetime | None
    program_version: int | None


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The answer given to a request under an Idempotency-Key, replayed to its retry."""

    request_hash: str
    status_code: int
    response: JsonObject
