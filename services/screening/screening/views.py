"""What screening's routes answer (response models; sme_runtime.views)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from screening.status import ScreeningStatus
from sme_runtime.views import AuditEntry, View


class LookupView(View):
    purpose: str = Field(description="screening, or recheck:<request id> for an X11 re-check")
    registry: str
    requested_at: datetime
    answered_at: datetime | None
    verdict: str | None = Field(description="clear | excluded | refer")
    findings: list[dict[str, Any]] | None
    attempts: int | None
    superseded: bool


class Screened(View):
    """Where an application stands in screening, and the last decision on it."""

    application_id: str
    program_id: str
    business_registration_number: str | None
    revision: int
    status: ScreeningStatus
    submitted_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    supplement_deadline: datetime | None
    decision: dict[str, Any] | None = Field(description="The last decision: outcome, findings (each with its rule), "
                                                        "documents, questions, waiting_on")


class Listed(Screened):
    company_name: str | None


class ApplicationView(Screened):
    """One application's screening: its decision with the rules behind it, every lookup and the audit trail."""

    lookups: list[LookupView]
    audit: list[AuditEntry]


class RegistryWait(View):
    applications: int
    lookups: int
    oldest_requested_at: datetime | None


class Waiting(View):
    registries: dict[str, RegistryWait]
    applications_waiting: int
