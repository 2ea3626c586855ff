"""The portal's consumer store in memory (services/portal/portal/store.py): owners, timeline, notifications."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from portal import progress
from portal.notices import Entry, Notice
from portal.progress import Status
from portal.store import PortalStore
from sme_schemas.intake import ApplicationSubmitted
from tests.fakes.unit import example, no_database, row


class FakePortalStore(PortalStore):
    def __init__(self) -> None:
        self.session = no_database()
        self.owners_: dict[str, Any] = {}
        self.timeline_: dict[str, Any] = {}
        self.notifications: dict[tuple[str, str], Any] = {}

    async def own_application(self, *, application_id: str, program_id: str, brn: str, company_name: str,
                              at: datetime) -> None:
        self.owners_.setdefault(application_id, row(application_id=application_id, program_id=program_id, brn=brn,
                                                    company_name=company_name, submitted_at=at))

    async def owners(self, application_ids: tuple[str, ...]) -> dict[str, tuple[str, str]]:
        return {a: (o.brn, o.company_name) for a, o in self.owners_.items() if a in application_ids}

    async def add_entry(self, event_id: str, entry: Entry, at: datetime) -> None:
        self.timeline_.setdefault(event_id, row(event_id=event_id, application_id=entry.application_id, at=at,
                                               stage=entry.stage, title=entry.title, detail=entry.detail,
                                               status=entry.status))

    async def statuses(self, application_ids: list[str]) -> dict[str, Status]:
        lines = sorted(self.timeline_.values(), key=lambda t: (t.at, t.event_id))
        folded = {a: progress.fold(t.status for t in lines if t.application_id == a) for a in application_ids}
        return {a: status for a, status in folded.items() if status is not None}

    async def add_notice(self, event_id: str, notice: Notice, at: datetime) -> None:
        self.notifications.setdefault((event_id, notice.recipient), row(
            event_id=event_id, recipient=notice.recipient, application_id=notice.application_id, kind=notice.kind,
            subject=notice.subject, body=notice.body, link=notice.link, created_at=at))


def example_owners() -> dict[str, tuple[str, str]]:
    """The portal's owners map (notices.Owners) once the catalog's example company applied through it: the
    application id of every example event → its business registration number and name."""
    submitted = example(ApplicationSubmitted)
    company = submitted.content.company
    return {submitted.application_id: (company.business_registration_number, company.name)}
