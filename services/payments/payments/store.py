"""Payments' SQL. Every function runs inside the caller's transaction."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from payments.accounts import AccountVault
from payments.rows import (
    AcceptedReportRow, AdjustmentRow, LedgerRow, PaymentRow, PaymentTotal, SignedAgreementRow, SubsidyTotals,
    TerminationRow,
)
from sme_runtime.audit import AuditLine, AuditTrail
from sme_runtime.db import as_json
from sme_runtime.rows import columns, known, returns_row, select_all, select_one


def _json(value: Any) -> str | None:
    """SQL NULL for nothing (an allowance has no breakdown), else the JSON."""
    return None if value is None else as_json(value)


JSON_COLUMNS = ("breakdown", "documents", "returned_reasons")


def _placeholder(column: str) -> str:
    return f"CAST(:{column} AS jsonb)" if column in JSON_COLUMNS else f":{column}"


AUDIT = AuditTrail(("payment_id", "application_id"))
PAYMENT = columns(PaymentRow)


class PaymentsStore:
    """The service's queries, each inside the transaction of the session it is given (one unit of work's)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_accepted_report(self, *, application_id: str, program_id: str, agreement_id: str,
                                     brn: str | None, agreed_amount: int, accepted_at: datetime,
                                     program_version: int | None) -> None:
        await self.session.execute(text(
            "INSERT INTO accepted_reports (application_id, program_id, agreement_id, brn, agreed_amount, accepted_at, "
            "program_version) VALUES (:a, :p, :g, :brn, :amount, :at, :v) ON CONFLICT DO NOTHING"),
            {"a": application_id, "p": program_id, "g": agreement_id, "brn": brn, "amount": agreed_amount,
             "at": accepted_at, "v": program_version})

    async def accepted_report(self, application_id: str) -> AcceptedReportRow | None:
        return await select_one(self.session, AcceptedReportRow, f"SELECT {columns(AcceptedReportRow)} FROM "
                                "accepted_reports WHERE application_id = :a", a=application_id)

    async def insert_termination(self, *, application_id: str, program_id: str, agreement_id: str,
                                 reason: str, clawback: bool, terminated_at: datetime) -> bool:
        return await returns_row(self.session, """
            INSERT INTO terminations (application_id, program_id, agreement_id, reason, clawback, terminated_at)
            VALUES (:a, :p, :g, :r, :c, :at) ON CONFLICT DO NOTHING RETURNING 1""",
            a=application_id, p=program_id, g=agreement_id, r=reason, c=clawback, at=terminated_at)

    async def termination(self, application_id: str) -> TerminationRow | None:
        return await select_one(self.session, TerminationRow, f"SELECT {columns(TerminationRow)} FROM terminations "
                                "WHERE application_id = :a", a=application_id)

    async def insert_payment(self, **values: Any) -> bool:
        """False when the payment exists already (a replay, or a second request for one application)."""
        for key in ("breakdown", "documents"):
            values[key] = _json(values.get(key))
        names = ", ".join(values)
        placeholders = ", ".join(_placeholder(c) for c in values)
        return await returns_row(self.session, f"INSERT INTO payments ({names}) VALUES ({placeholders}) "
                                 "ON CONFLICT DO NOTHING RETURNING 1", **values)

    async def payment(self, payment_id: str, *, lock: bool = False) -> PaymentRow | None:
        return await select_one(self.session, PaymentRow, f"SELECT {PAYMENT} FROM payments WHERE payment_id = :id"
                                + (" FOR UPDATE" if lock else ""), id=payment_id)

    async def written_payment(self, payment_id: str) -> PaymentRow:
        """The payment this transaction has just written or changed, as it now stands."""
        return known(await self.payment(payment_id), f"payment {payment_id}, written in this transaction,")

    async def payment_of_application(self, application_id: str, instalment: str = "balance", *,
                                     lock: bool = False) -> PaymentRow | None:
        return await select_one(self.session, PaymentRow, f"SELECT {PAYMENT} FROM payments WHERE application_id = :a "
                                "AND instalment = :i" + (" FOR UPDATE" if lock else ""), a=application_id, i=instalment)

    async def payments_of_application(self, application_id: str, *, lock: bool = False) -> list[PaymentRow]:
        """The subsidy's instalments (advance first), locked when the caller changes them."""
        return await select_all(self.session, PaymentRow, f"SELECT {PAYMENT} FROM payments WHERE application_id = :a "
                                "ORDER BY instalment" + (" FOR UPDATE" if lock else ""), a=application_id)

    async def insert_signed_agreement(self, *, application_id: str, program_id: str,
                                      agreement_id: str, brn: str | None, agreed_amount: int, signed_at: datetime,
                                      program_version: int | None) -> bool:
        return await returns_row(self.session, """
            INSERT INTO signed_agreements (application_id, program_id, agreement_id, brn, agreed_amount, signed_at,
                program_version)
            VALUES (:a, :p, :g, :brn, :amount, :at, :v) ON CONFLICT DO NOTHING RETURNING 1""",
            a=application_id, p=program_id, g=agreement_id, brn=brn, amount=agreed_amount, at=signed_at,
            v=program_version)

    async def signed_agreement(self, application_id: str, *, lock: bool = False) -> SignedAgreementRow | None:
        return await select_one(self.session, SignedAgreementRow, f"SELECT {columns(SignedAgreementRow)} FROM "
                                "signed_agreements WHERE application_id = :a" + (" FOR UPDATE" if lock else ""),
                                a=application_id)

    async def update_signed_agreement(self, application_id: str, **values: Any) -> None:
        sets = ", ".join(f"{c} = :{c}" for c in values)
        await self.session.execute(text(f"UPDATE signed_agreements SET {sets} WHERE application_id = :application_id"),
                                   {**values, "application_id": application_id})

    async def ledger_sums(self, *, application_id: str | None = None,
                          program_id: str | None = None) -> dict[tuple[str, str], int]:
        """(source, kind) → KRW, of one application or one program."""
        rows = (await self.session.execute(text("""
            SELECT source, kind, CAST(sum(amount) AS bigint) AS amount FROM ledger
            WHERE (CAST(:a AS text) IS NULL OR application_id = :a) AND (CAST(:p AS text) IS NULL OR program_id = :p)
            GROUP BY source, kind"""), {"a": application_id, "p": program_id})).all()
        return {(str(source), str(kind)): int(amount) for source, kind, amount in rows}

    async def add_ledger_entries(self, entries: list[tuple[str, str, int]], *, program_id: str,
                                 application_id: str, reason: str, at: datetime, payment_id: str | None = None) -> None:
        for source, kind, amount in entries:
            await self.session.execute(text(
                "INSERT INTO ledger (program_id, application_id, source, kind, amount, payment_id, reason, at) "
                "VALUES (:p, :a, :s, :k, :amount, :pay, :r, :at)"),
                {"p": program_id, "a": application_id, "s": source, "k": kind, "amount": amount, "pay": payment_id,
                 "r": reason, "at": at})

    async def ledger_of(self, application_id: str) -> list[LedgerRow]:
        return await select_all(self.session, LedgerRow, f"SELECT {columns(LedgerRow)} FROM ledger "
                                "WHERE application_id = :a ORDER BY id", a=application_id)

    async def recorded_subsidy_totals(self, program_id: str) -> SubsidyTotals:
        """What the payments themselves say was paid and recovered (the settlement's cross-check, L4)."""
        totals = await select_one(self.session, SubsidyTotals, """
            SELECT CAST(coalesce(sum(amount) FILTER (WHERE status IN ('paid', 'clawed-back')), 0) AS bigint) AS paid,
                   CAST(coalesce(sum(recovered_amount), 0) AS bigint) AS clawed_back,
                   CAST(coalesce(sum(clawback_amount - recovered_amount), 0) AS bigint) AS receivable
            FROM payments WHERE program_id = :p AND purpose = 'subsidy'""", p=program_id)
        assert totals is not None  # an aggregate without GROUP BY always answers one row
        return totals

    async def payments(self, *, program_id: str | None = None, brn: str | None = None,
                       status: str | None = None, purpose: str | None = None,
                       programs: list[str] | None = None, evaluator_id: str | None = None) -> list[PaymentRow]:
        """`programs`: only these programs' payments (T1: the caller's agencies'); None: any. `evaluator_id`: that
        evaluator's allowances only (P5)."""
        return await select_all(self.session, PaymentRow, f"""
            SELECT {PAYMENT} FROM payments WHERE (CAST(:p AS text) IS NULL OR program_id = :p)
                AND (CAST(:brn AS text) IS NULL OR brn = :brn) AND (CAST(:st AS text) IS NULL OR status = :st)
                AND (CAST(:pu AS text) IS NULL OR purpose = :pu)
                AND (CAST(:programs AS text[]) IS NULL OR program_id = ANY(:programs))
                AND (CAST(:ev AS text) IS NULL OR evaluator_id = :ev)
            ORDER BY purpose DESC, due_on, payment_id""", p=program_id, brn=brn, st=status, pu=purpose,
            programs=programs, ev=evaluator_id)

    async def update_payment(self, payment_id: str, **values: Any) -> None:
        values = {c: _json(v) if c in JSON_COLUMNS else v for c, v in values.items()}
        sets = ", ".join(f"{c} = {_placeholder(c)}" for c in values)
        await self.session.execute(text(f"UPDATE payments SET {sets} WHERE payment_id = :payment_id"),
                                   {**values, "payment_id": payment_id})

    async def mark_overdue(self, today: date, at: datetime) -> list[PaymentRow]:
        """P3: every unpaid payment whose due date has passed and was not yet reported overdue; SKIP LOCKED so two
        replicas never raise the same one."""
        return await select_all(self.session, PaymentRow, f"""
            UPDATE payments SET overdue_at = :at WHERE payment_id IN (
                SELECT payment_id FROM payments WHERE status = 'due' AND due_on < :today AND overdue_at IS NULL
                FOR UPDATE SKIP LOCKED)
            RETURNING {PAYMENT}""", today=today, at=at)

    async def totals(self, today: date) -> list[PaymentTotal]:
        return await select_all(self.session, PaymentTotal, """
            SELECT purpose, status, (status = 'due' AND due_on < :today) AS overdue, count(*) AS n,
                   coalesce(sum(amount), 0) AS amount
            FROM payments GROUP BY purpose, status, (status = 'due' AND due_on < :today)""", today=today)

    async def add_adjustment(self, *, payment_id: str, changes: dict[str, Any], reason: str, by: str,
                             at: datetime) -> None:
        await self.session.execute(text(
            "INSERT INTO adjustments (payment_id, changes, reason, recorded_by, recorded_at) "
            "VALUES (:id, CAST(:c AS jsonb), :r, :by, :at)"),
            {"id": payment_id, "c": _json(changes), "r": reason, "by": by, "at": at})

    async def adjustments_of(self, payment_id: str) -> list[AdjustmentRow]:
        return await select_all(self.session, AdjustmentRow, f"SELECT {columns(AdjustmentRow)} FROM adjustments "
                                "WHERE payment_id = :id ORDER BY id", id=payment_id)

    async def audit(self, *, at: datetime, actor: str, action: str, payment_id: str | None = None,
                    application_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
        AUDIT.append(self.session, at=at, actor=actor, action=action, detail=detail, payment_id=payment_id,
                     application_id=application_id)

    async def audit_of(self, payment_id: str) -> list[AuditLine]:
        return await AUDIT.of(self.session, "payment_id", payment_id)

    async def reseal_accounts(self, vault: AccountVault) -> int:
        """Every stored bank account sealed again with the vault's newest key (key rotation), in one transaction:
        a row whose key is no longer listed stops the rotation before anything changes."""
        rows = (await self.session.execute(text(
            "SELECT payment_id, account_ciphertext FROM payments WHERE account_ciphertext IS NOT NULL "
            "FOR UPDATE"))).all()
        for row in rows:
            await self.session.execute(text("UPDATE payments SET account_ciphertext = :c WHERE payment_id = :p"),
                                       {"c": vault.rotate(row.account_ciphertext), "p": row.payment_id})
        return len(rows)
