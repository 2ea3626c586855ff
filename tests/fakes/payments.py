"""Payments' store in memory (services/payments/payments/store.py)."""
from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from typing import Any

from payments.rows import AcceptedReportRow, PaymentRow, SignedAgreementRow, TerminationRow
from payments.store import PaymentsStore
from tests.fakes.unit import SERIAL, jsonb, no_database, read, read_all, row, update

PAYMENT_COLUMNS = tuple(f.name for f in fields(PaymentRow))


class FakePaymentsStore(PaymentsStore):
    def __init__(self) -> None:
        self.session = no_database()
        self.accepted_reports: dict[str, Any] = {}
        self.terminations: dict[str, Any] = {}
        self.payments_: dict[str, Any] = {}
        self.signed_agreements: dict[str, Any] = {}
        self.ledger: list[Any] = []
        self.adjustments: list[Any] = []
        self.audits: list[Any] = []

    async def insert_accepted_report(self, *, application_id: str, program_id: str, agreement_id: str,
                                     brn: str | None, agreed_amount: int, accepted_at: datetime,
                                     program_version: int | None) -> None:
        self.accepted_reports.setdefault(application_id, row(
            application_id=application_id, program_id=program_id, agreement_id=agreement_id, brn=brn,
            agreed_amount=agreed_amount, accepted_at=accepted_at, program_version=program_version))

    async def accepted_report(self, application_id: str) -> AcceptedReportRow | None:
        return read(AcceptedReportRow, self.accepted_reports.get(application_id))

    async def insert_termination(self, *, application_id: str, program_id: str, agreement_id: str, reason: str,
                                 clawback: bool, terminated_at: datetime) -> bool:
        if application_id in self.terminations:
            return False
        self.terminations[application_id] = row(application_id=application_id, program_id=program_id,
                                                agreement_id=agreement_id, reason=reason, clawback=clawback,
                                                terminated_at=terminated_at)
        return True

    async def termination(self, application_id: str) -> TerminationRow | None:
        return read(TerminationRow, self.terminations.get(application_id))

    async def insert_payment(self, **values) -> bool:
        unknown = set(values) - set(PAYMENT_COLUMNS)
        if unknown:
            raise AssertionError(f"payments has no column {sorted(unknown)}")
        one_instalment = values.get("application_id") is not None and any(
            (p.application_id, p.instalment) == (values["application_id"], values.get("instalment"))
            for p in self.payments_.values())
        if values["payment_id"] in self.payments_ or one_instalment:
            return False
        values = {**values, "breakdown": jsonb(values.get("breakdown")), "documents": jsonb(values.get("documents"))}
        self.payments_[values["payment_id"]] = row(**{c: values.get(c) for c in PAYMENT_COLUMNS} | {
            "returns": values.get("returns", 0), "recovered_amount": values.get("recovered_amount", 0)})
        return True

    async def payment(self, payment_id: str, *, lock: bool = False) -> PaymentRow | None:
        return read(PaymentRow, self.payments_.get(payment_id))

    async def payment_of_application(self, application_id: str, instalment: str = "balance", *,
                                     lock: bool = False) -> PaymentRow | None:
        return read(PaymentRow, next((p for p in self.payments_.values()
                              if (p.application_id, p.instalment) == (application_id, instalment)), None))

    async def payments_of_application(self, application_id: str, *, lock: bool = False) -> list[PaymentRow]:
        mine = [p for p in self.payments_.values() if p.application_id == application_id]
        return read_all(PaymentRow, sorted(mine, key=lambda p: p.instalment or ""))

    async def insert_signed_agreement(self, *, application_id: str, program_id: str, agreement_id: str,
                                      brn: str | None, agreed_amount: int, signed_at: datetime,
                                      program_version: int | None) -> bool:
        if application_id in self.signed_agreements:
            return False
        self.signed_agreements[application_id] = row(
            application_id=application_id, program_id=program_id, agreement_id=agreement_id, brn=brn,
            agreed_amount=agreed_amount, signed_at=signed_at, program_version=program_version, ended=None)
        return True

    async def signed_agreement(self, application_id: str, *, lock: bool = False) -> SignedAgreementRow | None:
        return read(SignedAgreementRow, self.signed_agreements.get(application_id))

    async def update_signed_agreement(self, application_id: str, **values) -> None:
        update(self.signed_agreements[application_id], **values)

    async def ledger_sums(self, *, application_id: str | None = None,
                          program_id: str | None = None) -> dict[tuple[str, str], int]:
        sums: dict[tuple[str, str], int] = {}
        for e in self.ledger:
            if application_id in (None, e.application_id) and program_id in (None, e.program_id):
                sums[(e.source, e.kind)] = sums.get((e.source, e.kind), 0) + e.amount
        return sums

    async def add_ledger_entries(self, entries: list[tuple[str, str, int]], *, program_id: str, application_id: str,
                                 reason: str, at: datetime, payment_id: str | None = None) -> None:
        for source, kind, amount in entries:
            if amount <= 0 or kind not in ("commitment", "release", "payment", "clawback"):
                raise AssertionError(f"ledger refuses {(source, kind, amount)}")  # the table's CHECKs
            self.ledger.append(row(id=next(SERIAL), program_id=program_id, application_id=application_id,
                                   source=source, kind=kind, amount=amount, payment_id=payment_id, reason=reason,
                                   at=at))

    async def update_payment(self, payment_id: str, **values) -> None:
        unknown = set(values) - set(PAYMENT_COLUMNS)
        if unknown:
            raise AssertionError(f"payments has no column {sorted(unknown)}")
        update(self.payments_[payment_id], **{c: jsonb(v) if c in ("breakdown", "documents", "returned_reasons") else v
                                             for c, v in values.items()})

    async def mark_overdue(self, today: date, at: datetime) -> list[PaymentRow]:
        late = [p for p in self.payments_.values() if p.status == "due" and p.due_on < today and p.overdue_at is None]
        for p in late:
            p.overdue_at = at
        return read_all(PaymentRow, late)

    async def add_adjustment(self, *, payment_id: str, changes: dict, reason: str, by: str, at: datetime) -> None:
        self.adjustments.append(row(id=next(SERIAL), payment_id=payment_id, changes=jsonb(changes), reason=reason,
                                    recorded_by=by, recorded_at=at))

    async def audit(self, *, at: datetime, actor: str, action: str, payment_id: str | None = None,
                    application_id: str | None = None, detail: dict | None = None) -> None:
        self.audits.append(row(id=next(SERIAL), payment_id=payment_id, application_id=application_id, at=at,
                               actor=actor, action=action, detail=jsonb(detail)))
