"""Contracts' store in memory (services/contracts/contracts/store.py)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from contracts.rows import AgreementRow, FollowUpRow, PartiesRow, ReportRow, SelectionRow, SessionRow, SignatureRow
from contracts.store import ContractsStore
from tests.fakes.unit import SERIAL, jsonb, no_database, read, read_all, row, update

AGREEMENT_COLUMNS = (
    "agreement_id", "application_id", "program_id", "program_version", "brn", "company_name", "ceo_name",
    "expert_name", "expert_affiliation", "term_start", "term_end", "agreed_amount", "minimum_sessions",
    "follow_up_sessions", "status", "drafted_at", "sign_by", "signed_at", "give_up_requested_at", "give_up_reason",
    "ended_at", "ended_reason", "restricted_until", "accepted_at")


class FakeContractsStore(ContractsStore):
    def __init__(self) -> None:
        self.session = no_database()
        self.parties_: dict[str, Any] = {}
        self.selections: dict[str, Any] = {}
        self.agreements_: dict[str, Any] = {}
        self.signatures_: dict[tuple[str, str], Any] = {}
        self.sessions: list[Any] = []
        self.amendments: list[Any] = []
        self.reports: dict[tuple[str, int], Any] = {}
        self.follow_ups: dict[tuple[str, str], Any] = {}
        self.audits: list[Any] = []
        self.locked: list[str] = []

    # --- what the events tell
    async def lock_application(self, application_id: str) -> None:
        self.locked.append(application_id)

    async def upsert_parties(self, *, application_id: str, program_id: str, revision: int, brn: str,
                             company_name: str, ceo_name: str, expert_name: str | None,
                             expert_affiliation: str | None, consulting_cost: int) -> None:
        before = self.parties_.get(application_id)
        if before is None or before.revision < revision:
            self.parties_[application_id] = row(
                application_id=application_id, program_id=program_id, revision=revision, brn=brn,
                company_name=company_name, ceo_name=ceo_name, expert_name=expert_name,
                expert_affiliation=expert_affiliation, consulting_cost=consulting_cost)

    async def insert_selection(self, *, application_id: str, program_id: str, round_id: str, planned_subsidy: int,
                               selected_at: datetime, via: str, program_version: int | None = None) -> None:
        self.selections.setdefault(application_id, row(
            application_id=application_id, program_id=program_id, round_id=round_id, planned_subsidy=planned_subsidy,
            selected_at=selected_at, via=via, program_version=program_version))

    async def parties(self, application_id: str) -> PartiesRow | None:
        return read(PartiesRow, self.parties_.get(application_id))

    async def selection(self, application_id: str) -> SelectionRow | None:
        return read(SelectionRow, self.selections.get(application_id))

    # --- agreements
    async def insert_agreement(self, **values) -> bool:
        if values["agreement_id"] in self.agreements_ or any(
                a.application_id == values["application_id"] for a in self.agreements_.values()):
            return False
        unknown = set(values) - set(AGREEMENT_COLUMNS)
        if unknown:
            raise AssertionError(f"agreements has no column {sorted(unknown)}")
        self.agreements_[values["agreement_id"]] = row(**{c: values.get(c) for c in AGREEMENT_COLUMNS})
        return True

    async def agreement(self, agreement_id: str, *, lock: bool = False) -> AgreementRow | None:
        return read(AgreementRow, self.agreements_.get(agreement_id))

    async def update_agreement(self, agreement_id: str, **values) -> None:
        unknown = set(values) - set(AGREEMENT_COLUMNS)
        if unknown:
            raise AssertionError(f"agreements has no column {sorted(unknown)}")
        update(self.agreements_[agreement_id], **values)

    # --- signatures
    async def sign(self, agreement_id: str, party: str, by: str, at: datetime) -> bool:
        if (agreement_id, party) in self.signatures_:
            return False
        self.signatures_[(agreement_id, party)] = row(agreement_id=agreement_id, party=party, signed_by=by,
                                                      signed_at=at)
        return True

    async def signatures(self, agreement_id: str) -> list[SignatureRow]:
        return sorted(read_all(SignatureRow, (s for (g, _), s in self.signatures_.items() if g == agreement_id)),
                      key=lambda s: s.signed_at)

    async def clear_signatures(self, agreement_id: str) -> int:
        gone = [k for k in self.signatures_ if k[0] == agreement_id]
        for k in gone:
            del self.signatures_[k]
        return len(gone)

    # --- sessions, amendments, reports
    async def add_session(self, *, agreement_id: str, held_on: date, hours: int, kind: str, place: str, notes: str,
                          photo_refs: list[str], logged_by: str, logged_at: datetime) -> int:
        session_id = next(SERIAL)
        self.sessions.append(row(id=session_id, agreement_id=agreement_id, held_on=held_on, hours=hours, kind=kind,
                                 place=place, notes=notes, photo_refs=jsonb(photo_refs), logged_by=logged_by,
                                 logged_at=logged_at))
        return session_id

    async def sessions_of(self, agreement_id: str) -> list[SessionRow]:
        return sorted(read_all(SessionRow, (s for s in self.sessions if s.agreement_id == agreement_id)),
                      key=lambda s: (s.held_on, s.id))

    async def add_amendment(self, *, agreement_id: str, changes: dict, reason: str, agreed_by: list[str],
                            recorded_by: str, at: datetime) -> None:
        self.amendments.append(row(id=next(SERIAL), agreement_id=agreement_id, changes=jsonb(changes), reason=reason,
                                   agreed_by=jsonb(agreed_by), recorded_by=recorded_by, recorded_at=at))

    async def reports_of(self, agreement_id: str) -> list[ReportRow]:
        return read_all(ReportRow, (r for (g, _), r in sorted(self.reports.items()) if g == agreement_id))

    async def add_report(self, *, agreement_id: str, revision: int, report_ref: str, log_refs: list[str],
                         fee_evidence_refs: list[str], submitted_by: str, at: datetime) -> None:
        if (agreement_id, revision) in self.reports:
            raise AssertionError(f"reports: duplicate key {(agreement_id, revision)}")
        self.reports[(agreement_id, revision)] = row(
            agreement_id=agreement_id, revision=revision, status="submitted", report_ref=report_ref,
            log_refs=jsonb(log_refs), fee_evidence_refs=jsonb(fee_evidence_refs), submitted_by=submitted_by,
            submitted_at=at, reviewed_by=None, reviewed_at=None, return_reasons=None)

    async def review_report(self, agreement_id: str, revision: int, *, status: str, by: str, at: datetime,
                            reasons: list[str] | None = None) -> None:
        update(self.reports[(agreement_id, revision)], status=status, reviewed_by=by, reviewed_at=at,
               return_reasons=jsonb(reasons) if reasons else None)

    async def audit(self, *, at: datetime, actor: str, action: str, agreement_id: str | None = None,
                    application_id: str | None = None, detail: dict | None = None) -> None:
        self.audits.append(row(id=next(SERIAL), agreement_id=agreement_id, application_id=application_id, at=at,
                               actor=actor, action=action, detail=jsonb(detail)))

    # --- 사후관리 (M1–M3)
    async def owe_follow_up(self, *, agreement: AgreementRow, kind: str, due_on: date) -> None:
        self.follow_ups.setdefault((agreement.agreement_id, kind), row(
            agreement_id=agreement.agreement_id, kind=kind, application_id=agreement.application_id,
            program_id=agreement.program_id, program_version=agreement.program_version, brn=agreement.brn,
            due_on=due_on, reminded_due_soon_at=None, reminded_overdue_at=None, answers=None, submitted_by=None,
            submitted_at=None))

    async def follow_up(self, agreement_id: str, kind: str, *, lock: bool = False) -> FollowUpRow | None:
        return read(FollowUpRow, self.follow_ups.get((agreement_id, kind)))

    async def answer_follow_up(self, agreement_id: str, kind: str, *, answers: dict, by: str, at: datetime) -> None:
        f = self.follow_ups[(agreement_id, kind)]
        f.answers, f.submitted_by, f.submitted_at = jsonb(answers), by, at

    async def open_follow_ups_due_by(self, horizon: date) -> list[FollowUpRow]:
        due = [f for f in self.follow_ups.values()
               if f.submitted_at is None and f.reminded_overdue_at is None and f.due_on <= horizon]
        return read_all(FollowUpRow, sorted(due, key=lambda f: f.due_on))

    async def mark_reminded(self, agreement_id: str, kind: str, reminder: str, at: datetime) -> None:
        f = self.follow_ups[(agreement_id, kind)]
        if reminder == "overdue":
            f.reminded_overdue_at = at
        else:
            f.reminded_due_soon_at = at

    async def follow_ups_of_program(self, program_id: str) -> list[FollowUpRow]:
        mine = [f for f in self.follow_ups.values() if f.program_id == program_id]
        return read_all(FollowUpRow, sorted(mine, key=lambda f: (f.agreement_id, f.due_on)))
