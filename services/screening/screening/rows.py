"""What screening's store reads, column by column (sme_runtime.rows)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sme_runtime.rows import JsonObject


@dataclass(frozen=True, slots=True)
class ScreeningState:
    """Where an application stands in screening, and the last decision."""

    application_id: str
    program_id: str
    brn: str | None
    revision: int
    status: str
    submitted_at: datetime | None
    updated_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision: JsonObject | None
    supplement_deadline: datetime | None


@dataclass(frozen=True, slots=True)
class ScreeningRow(ScreeningState):
    """An application in screening with what it is judged on: its content, its evidence list, its version."""

    started_at: datetime
    content: JsonObject | None
    required_evidence: list[JsonObject] | None
    program_version: int | None


@dataclass(frozen=True, slots=True)
class LookupRow:
    """A question to a registry (D1–D3, X9–X11) and its answer, once given."""

    lookup_id: str
    application_id: str
    purpose: str
    registry: str
    requested_at: datetime
    answered_at: datetime | None
    verdict: str | None
    findings: list[JsonObject] | None
    attempts: int | None
    superseded: bool


@dataclass(frozen=True, slots=True)
class LookupAnswer:
    """A lookup as a dossier carries it: which question, its answer so far, and whether it is still asked."""

    lookup_id: str
    registry: str
    answered_at: datetime | None
    verdict: str | None
    findings: list[JsonObject] | None
    superseded: bool


@dataclass(frozen=True, slots=True)
class AnsweredLookup:
    """A lookup a registry's answer completed just now."""

    lookup_id: str
    application_id: str
    purpose: str
    superseded: bool


@dataclass(frozen=True, slots=True)
class RulingLine:
    """An operator's ruling on a rule of one application (manual review), in the order given."""

    rule: str
    exclude: bool
    operator: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RestrictionLine:
    """A participation restriction of the company (C6/X10): approved on, and until when."""

    approved_on: date
    restricted_until: date | None


@dataclass(frozen=True, slots=True)
class RecheckRow:
    """A re-check before selection (X11): asked by evaluation, answered once decided."""

    request_id: str
    application_id: str
    program_id: str
    requested_at: datetime
    status: str
    completed_at: datetime | None
    decision: JsonObject | None


@dataclass(frozen=True, slots=True)
class OpenReview:
    """An application (or a re-check of one) waiting for an operator's review."""

    application_id: str
    purpose: str
    program_id: str
    company_name: str | None
    decision: JsonObject | None
    since: datetime


@dataclass(frozen=True, slots=True)
class ListedScreening(ScreeningState):
    """An application as the operators' list shows it: its state and the company's name."""

    company_name: str | None


@dataclass(frozen=True, slots=True)
class RegistryWaiting:
    """How many applications (and questions) wait on one registry, and since when."""

    registry: str
    applications: int
    lookups: int
    oldest_requested_at: datetime
