"""Screening's store in memory (services/screening/screening/store.py)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from screening.rows import (
    AnsweredLookup, LookupAnswer, LookupRow, RecheckRow, RestrictionLine, RulingLine, ScreeningRow,
)
from screening.status import ScreeningStatus
from screening.store import Dossier, NewLookup, NewScreening, ScreeningStore, StateChange
from tests.fakes.unit import SERIAL, jsonb, no_database, read, read_all, row, update


class FakeScreeningStore(ScreeningStore):
    def __init__(self) -> None:
        self.session = no_database()
        self.screenings: dict[str, Any] = {}
        self.lookups: dict[str, Any] = {}
        self.rulings_: list[Any] = []
        self.restrictions: dict[tuple[str, str], Any] = {}
        self.rechecks: dict[str, Any] = {}
        self.audits: list[Any] = []

    async def get(self, application_id: str, *, lock: bool = False) -> ScreeningRow | None:
        return read(ScreeningRow, self.screenings.get(application_id))

    async def insert(self, *, application_id: str, program_id: str, brn: str | None, revision: int, status: str,
                     submitted_at: datetime | None, at: datetime, content: dict | None, required_evidence: list | None,
                     program_version: int | None = None) -> bool:
        if application_id in self.screenings:
            return False
        self.screenings[application_id] = row(
            application_id=application_id, program_id=program_id, program_version=program_version, brn=brn,
            revision=revision, status=status, submitted_at=submitted_at, started_at=at, updated_at=at,
            decided_at=None, content=jsonb(content), required_evidence=jsonb(required_evidence),
            supplement_deadline=None, decision=None, decided_by=None)
        return True

    async def insert_many(self, screenings: list[NewScreening], *, at: datetime) -> set[str]:
        return {s.application_id for s in screenings if await self.insert(
            application_id=s.application_id, program_id=s.program_id, brn=s.brn, revision=s.revision,
            status="screening", submitted_at=s.submitted_at, at=at, content=s.content,
            required_evidence=s.required_evidence, program_version=s.program_version)}

    async def dossiers(self, application_ids: list[str], purpose: str) -> dict[str, Dossier]:
        return {app: self._dossier(app, purpose) for app in sorted(set(application_ids)) if app in self.screenings}

    def _dossier(self, application_id: str, purpose: str) -> Dossier:
        s = self.screenings[application_id]
        screening = read(ScreeningRow, s)
        assert screening is not None
        return Dossier(
            row=screening,
            rulings=read_all(RulingLine, (r for r in self.rulings_
                                          if (r.application_id, r.purpose) == (application_id, purpose))),
            restrictions=read_all(RestrictionLine, (r for r in self.restrictions.values() if r.brn == s.brn)),
            lookups=read_all(LookupAnswer, (lk for lk in self.lookups.values()
                                            if (lk.application_id, lk.purpose) == (application_id, purpose))))

    async def replace_content(self, application_id: str, *, revision: int, content: dict, required_evidence: list,
                              at: datetime) -> None:
        s = self.screenings[application_id]
        s.revision, s.content, s.required_evidence, s.updated_at = revision, jsonb(content), \
            jsonb(required_evidence), at

    async def set_state(self, application_id: str, *, status: ScreeningStatus, at: datetime, decision: dict | None,
                        decided_by: str | None = None, final: bool = False,
                        supplement_deadline: datetime | None = None) -> None:
        await self.set_states([StateChange(application_id, status, at, decision, decided_by, final,
                                           supplement_deadline)])

    async def set_states(self, changes: list[StateChange]) -> None:
        for c in changes:
            s = self.screenings.get(c.application_id)
            if s is None:
                continue
            update(s, status=c.status, updated_at=c.at, decision=jsonb(c.decision))
            s.decided_by = c.decided_by or s.decided_by
            s.decided_at = c.at if c.final else s.decided_at
            s.supplement_deadline = c.supplement_deadline or s.supplement_deadline

    async def lookups_for(self, application_id: str, purpose: str) -> list[LookupRow]:
        return read_all(LookupRow, (lk for lk in self.lookups.values()
                                    if (lk.application_id, lk.purpose) == (application_id, purpose)))

    async def supersede_lookups(self, *, application_id: str, purpose: str, registries: list[str],
                                keeping: list[str]) -> None:
        for lk in self.lookups.values():
            if (lk.application_id, lk.purpose) == (application_id, purpose) and lk.registry in registries \
                    and lk.lookup_id not in keeping:
                lk.superseded = True

    async def insert_lookups(self, lookups: list[NewLookup], *, at: datetime) -> None:
        for lk in lookups:
            self.lookups.setdefault(lk.lookup_id, row(
                lookup_id=lk.lookup_id, application_id=lk.application_id, purpose=lk.purpose, registry=lk.registry,
                requested_at=at, answered_at=None, verdict=None, findings=None, attempts=None, superseded=False))

    async def record_answers(self, answers: list[dict[str, Any]]) -> list[AnsweredLookup]:
        answered = []
        for answer in answers:
            lk = self.lookups.get(answer["lookup_id"])
            if lk is None or lk.answered_at is not None:
                continue
            lk.answered_at, lk.verdict = answer["at"], answer["verdict"]
            lk.findings, lk.attempts = jsonb(answer["findings"]), answer["attempts"]
            answered.append(AnsweredLookup(lookup_id=lk.lookup_id, application_id=lk.application_id,
                                           purpose=lk.purpose, superseded=lk.superseded))
        return answered

    async def unknown_lookups(self, lookup_ids: list[str]) -> set[str]:
        return {i for i in lookup_ids if i not in self.lookups}

    async def abandon_lookups(self, application_id: str, purpose: str | None = None) -> None:
        for lk in self.lookups.values():
            if lk.application_id == application_id and lk.answered_at is None and purpose in (None, lk.purpose):
                lk.superseded = True

    async def rulings(self, application_id: str, purpose: str) -> list[RulingLine]:
        return read_all(RulingLine, (r for r in self.rulings_
                                     if (r.application_id, r.purpose) == (application_id, purpose)))

    async def add_ruling(self, *, application_id: str, purpose: str, rule: str, exclude: bool, operator: str,
                         reason: str, at: datetime) -> None:
        self.rulings_.append(row(id=next(SERIAL), application_id=application_id, purpose=purpose, rule=rule,
                                 exclude=exclude, operator=operator, reason=reason, at=at))

    async def add_restriction(self, *, brn: str, application_id: str, approved_on: date,
                              until: date | None) -> None:
        self.restrictions[(brn, application_id)] = row(brn=brn, application_id=application_id,
                                                       approved_on=approved_on, restricted_until=until)

    async def recheck(self, request_id: str, *, lock: bool = False) -> RecheckRow | None:
        return read(RecheckRow, self.rechecks.get(request_id))

    async def add_recheck(self, *, request_id: str, application_id: str, program_id: str, at: datetime) -> bool:
        if request_id in self.rechecks:
            return False
        self.rechecks[request_id] = row(request_id=request_id, application_id=application_id, program_id=program_id,
                                        requested_at=at, status="waiting", completed_at=None, decision=None)
        return True

    async def set_recheck(self, request_id: str, *, status: str, at: datetime, decision: dict, final: bool) -> None:
        r = self.rechecks[request_id]
        update(r, status=status, decision=jsonb(decision))
        r.completed_at = at if final else r.completed_at

    async def audit(self, application_id: str, *, at: datetime, actor: str, action: str,
                    detail: dict | None = None) -> None:
        self.audits.append(row(application_id=application_id, at=at, actor=actor, action=action,
                               detail=jsonb(detail)))

    async def overdue_supplements(self, cutoff: datetime, limit: int = 100) -> list[str]:
        due = sorted((s for s in self.screenings.values()
                      if s.status == "supplement-requested" and s.supplement_deadline < cutoff),
                     key=lambda s: s.supplement_deadline)
        return [s.application_id for s in due[:limit]]

    async def lookups_of(self, application_id: str) -> list[LookupRow]:
        return sorted(read_all(LookupRow, (lk for lk in self.lookups.values() if lk.application_id == application_id)),
                      key=lambda lk: (lk.requested_at, lk.registry))
