"""Intake's store in memory (services/intake/intake/store.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from intake.domain import LIVE, Status
from intake.store import IntakeStore, StatusMove
from intake.rows import ApplicationRow
from tests.fakes.unit import jsonb, no_database, read, row


class FakeIntakeStore(IntakeStore):
    def __init__(self) -> None:
        self.session = no_database()
        self.applications: dict[str, Any] = {}
        self.history: list[Any] = []

    async def live_application(self, program_id: str, brn: str) -> ApplicationRow | None:
        return read(ApplicationRow, next((a for a in self.applications.values()
                              if (a.program_id, a.brn) == (program_id, brn) and Status(a.status) in LIVE), None))

    async def get(self, application_id: str, *, lock: bool = False) -> ApplicationRow | None:
        return read(ApplicationRow, self.applications.get(application_id))

    async def by_external_reference(self, source_system: str, reference: str) -> ApplicationRow | None:
        return read(ApplicationRow, next((a for a in self.applications.values()
                              if (a.source_system, a.external_reference) == (source_system, reference)), None))

    async def insert_unless_live(self, *, application_id: str, program_id: str, program_version: int, brn: str,
                                 channel: str, at: datetime, content: dict, contacts: dict | None, submitted_by: str,
                                 source_system: str | None = None,
                                 external_reference: str | None = None) -> ApplicationRow | None:
        if await self.live_application(program_id, brn) is not None:
            return None
        self.applications[application_id] = row(
            application_id=application_id, program_id=program_id, brn=brn, status=Status.SUBMITTED.value, revision=1,
            channel=channel, submitted_at=at, updated_at=at, content=jsonb(content), contacts=jsonb(contacts),
            source_system=source_system, external_reference=external_reference, submitted_by=submitted_by,
            status_reason=None, supplement_deadline=None, program_version=program_version)
        self.history.append(row(application_id=application_id, revision=1, action="submitted", actor=submitted_by,
                                at=at, detail=None))
        return read(ApplicationRow, self.applications[application_id])

    async def amend(self, application_id: str, *, content: dict, contacts: dict | None, at: datetime) -> int:
        a = self.applications[application_id]
        a.content, a.contacts = jsonb(content), jsonb(contacts) if contacts is not None else a.contacts
        a.revision, a.updated_at = a.revision + 1, at
        return a.revision

    async def set_status(self, application_id: str, status: Status, *, at: datetime,
                         reason: str | None = None) -> None:
        a = self.applications[application_id]
        a.status, a.status_reason, a.updated_at = status.value, reason, at

    async def follow_statuses(self, moves: list[StatusMove], *, status: Status, only_from: tuple[Status, ...],
                              reason: str, actor: str) -> set[str]:
        known = set()
        for m in moves:
            a = self.applications.get(m.application_id)
            if a is None:
                continue
            known.add(m.application_id)
            if a.status in {s.value for s in only_from}:
                await self.set_status(m.application_id, status, at=m.at, reason=reason)
                await self.add_history(m.application_id, revision=a.revision, action=status.value, actor=actor,
                                       at=m.at, detail={"ce_id": m.event_id})
        return known

    async def request_supplement(self, application_id: str, *, deadline: datetime, at: datetime) -> None:
        a = self.applications[application_id]
        a.status, a.supplement_deadline, a.status_reason, a.updated_at = "supplement", deadline, \
            "SupplementRequested", at

    async def add_history(self, application_id: str, *, revision: int, action: str, actor: str, at: datetime,
                          detail: dict | None = None) -> None:
        self.history.append(row(application_id=application_id, revision=revision, action=action, actor=actor, at=at,
                                detail=jsonb(detail)))
