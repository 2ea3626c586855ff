"""Contracts' SQL. Every function runs inside the caller's transaction."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, text
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.rows import (
    AgreementRow, AmendmentRow, FollowUpRow, PartiesRow, ReportRow, SelectionRow, SessionRow, SignatureRow,
)
from contracts.status import ReportStatus
from sme_runtime.audit import AuditLine, AuditTrail
from sme_runtime.db import as_json as _json
from sme_runtime.rows import columns, known, returns_row, select_all, select_one


AUDIT = AuditTrail(("agreement_id", "application_id"))
AGREEMENT, FOLLOW_UP = columns(AgreementRow), columns(FollowUpRow)


class ContractsStore:
    """The service's queries, each inside the transaction of the session it is given (one unit of work's)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- what the events tell ---------------------------------------------------------------------------------

    async def lock_application(self, application_id: str) -> None:
        """Serialise the two events that together draft an agreement: without it, each consumer could commit its
        half without seeing the other's and no agreement would ever be drafted."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:a))"), {"a": application_id})

    async def upsert_parties(self, *, application_id: str, program_id: str, revision: int, brn: str,
                             company_name: str, ceo_name: str, expert_name: str | None, expert_affiliation: str | None,
                             consulting_cost: int) -> None:
        """The latest passed revision wins, whatever order the events arrive in."""
        await self.session.execute(text("""
            INSERT INTO parties (application_id, program_id, revision, brn, company_name, ceo_name, expert_name,
                expert_affiliation, consulting_cost)
            VALUES (:a, :p, :rev, :brn, :name, :ceo, :ex, :aff, :cost)
            ON CONFLICT (application_id) DO UPDATE SET revision = EXCLUDED.revision, brn = EXCLUDED.brn,
                company_name = EXCLUDED.company_name, ceo_name = EXCLUDED.ceo_name, expert_name = EXCLUDED.expert_name,
                expert_affiliation = EXCLUDED.expert_affiliation, consulting_cost = EXCLUDED.consulting_cost
            WHERE parties.revision < EXCLUDED.revision"""),
            {"a": application_id, "p": program_id, "rev": revision, "brn": brn, "name": company_name, "ceo": ceo_name,
             "ex": expert_name, "aff": expert_affiliation, "cost": consulting_cost})

    async def insert_selection(self, *, application_id: str, program_id: str, round_id: str,
                               planned_subsidy: int, selected_at: datetime, via: str,
                               program_version: int | None = None) -> None:
        await self.session.execute(text(
            "INSERT INTO selections (application_id, program_id, round_id, planned_subsidy, selected_at, via, "
            "program_version) VALUES (:a, :p, :r, :amount, :at, :via, :v) ON CONFLICT DO NOTHING"),
            {"a": application_id, "p": program_id, "r": round_id, "amount": planned_subsidy, "at": selected_at,
             "via": via, "v": program_version})

    async def parties(self, application_id: str) -> PartiesRow | None:
        return await select_one(self.session, PartiesRow, f"SELECT {columns(PartiesRow)} FROM parties "
                                "WHERE application_id = :a", a=application_id)

    async def selection(self, application_id: str) -> SelectionRow | None:
        return await select_one(self.session, SelectionRow, f"SELECT {columns(SelectionRow)} FROM selections "
                                "WHERE application_id = :a", a=application_id)

    # --- agreements -------------------------------------------------------------------------------------------

    async def insert_agreement(self, **values: Any) -> bool:
        """False when the application has its agreement already (a replay)."""
        names = ", ".join(values)
        return await returns_row(self.session, f"INSERT INTO agreements ({names}) VALUES "
                                 f"({', '.join(':' + c for c in values)}) ON CONFLICT DO NOTHING RETURNING 1", **values)

    async def agreement(self, agreement_id: str, *, lock: bool = False) -> AgreementRow | None:
        return await select_one(self.session, AgreementRow, f"SELECT {AGREEMENT} FROM agreements "
                                "WHERE agreement_id = :id" + (" FOR UPDATE" if lock else ""), id=agreement_id)

    async def written_agreement(self, agreement_id: str) -> AgreementRow:
        """The agreement this transaction has just written or changed, as it now stands."""
        return known(await self.agreement(agreement_id), f"agreement {agreement_id}, written in this transaction,")

    async def agreements(self, *, program_id: str | None = None, brn: str | None = None,
                         status: str | None = None, programs: list[str] | None = None,
                         application_id: str | None = None) -> list[AgreementRow]:
        """`programs`: only these programs' agreements (T1: the caller's agencies'); None: any."""
        return await select_all(self.session, AgreementRow, f"""
            SELECT {AGREEMENT} FROM agreements WHERE (CAST(:p AS text) IS NULL OR program_id = :p)
                AND (CAST(:brn AS text) IS NULL OR brn = :brn) AND (CAST(:st AS text) IS NULL OR status = :st)
                AND (CAST(:programs AS text[]) IS NULL OR program_id = ANY(:programs))
                AND (CAST(:a AS text) IS NULL OR application_id = :a)
            ORDER BY drafted_at, agreement_id""", p=program_id, brn=brn, st=status, programs=programs,
                                a=application_id)

    async def update_agreement(self, agreement_id: str, **values: Any) -> None:
        sets = ", ".join(f"{c} = :{c}" for c in values)
        await self.session.execute(text(f"UPDATE agreements SET {sets} WHERE agreement_id = :agreement_id"),
                                   {**values, "agreement_id": agreement_id})

    async def unsigned_past_deadline(self, now: datetime) -> list[AgreementRow]:
        return await select_all(self.session, AgreementRow, f"SELECT {AGREEMENT} FROM agreements "
                                "WHERE status = 'drafted' AND sign_by < :now ORDER BY sign_by", now=now)

    async def counts_by_status(self) -> dict[str, int]:
        rows = (await self.session.execute(text("SELECT status, count(*) FROM agreements GROUP BY status"))).all()
        return {status: n for status, n in rows}

    # --- signatures -------------------------------------------------------------------------------------------

    async def sign(self, agreement_id: str, party: str, by: str, at: datetime) -> bool:
        """False when that party had signed already."""
        return await returns_row(self.session, "INSERT INTO signatures (agreement_id, party, signed_by, signed_at) "
                                 "VALUES (:id, :party, :by, :at) ON CONFLICT DO NOTHING RETURNING 1",
                                 id=agreement_id, party=party, by=by, at=at)

    async def signatures(self, agreement_id: str) -> list[SignatureRow]:
        return await select_all(self.session, SignatureRow, f"SELECT {columns(SignatureRow)} FROM signatures "
                                "WHERE agreement_id = :id ORDER BY signed_at", id=agreement_id)

    async def clear_signatures(self, agreement_id: str) -> int:
        deleted = await self.session.execute(text("DELETE FROM signatures WHERE agreement_id = :id"),
                                             {"id": agreement_id})
        return cast(CursorResult[Any], deleted).rowcount

    # --- sessions, amendments, reports ------------------------------------------------------------------------

    async def add_session(self, *, agreement_id: str, held_on: date, hours: int, kind: str, place: str,
                          notes: str, photo_refs: list[str], logged_by: str, logged_at: datetime) -> int:
        return int((await self.session.execute(text(
            "INSERT INTO sessions (agreement_id, held_on, hours, kind, place, notes, photo_refs, logged_by, logged_at) "
            "VALUES (:id, :on, :h, :k, :place, :notes, CAST(:photos AS jsonb), :by, :at) RETURNING id"),
            {"id": agreement_id, "on": held_on, "h": hours, "k": kind, "place": place, "notes": notes,
             "photos": _json(photo_refs), "by": logged_by, "at": logged_at})).scalar_one())

    async def sessions_of(self, agreement_id: str) -> list[SessionRow]:
        return await select_all(self.session, SessionRow, f"SELECT {columns(SessionRow)} FROM sessions "
                                "WHERE agreement_id = :id ORDER BY held_on, id", id=agreement_id)

    async def add_amendment(self, *, agreement_id: str, changes: dict[str, Any], reason: str, agreed_by: list[str],
                            recorded_by: str, at: datetime) -> None:
        await self.session.execute(text(
            "INSERT INTO amendments (agreement_id, changes, reason, agreed_by, recorded_by, recorded_at) "
            "VALUES (:id, CAST(:changes AS jsonb), :reason, CAST(:agreed AS jsonb), :by, :at)"),
            {"id": agreement_id, "changes": _json(changes), "reason": reason, "agreed": _json(agreed_by),
             "by": recorded_by, "at": at})

    async def amendments_of(self, agreement_id: str) -> list[AmendmentRow]:
        return await select_all(self.session, AmendmentRow, f"SELECT {columns(AmendmentRow)} FROM amendments "
                                "WHERE agreement_id = :id ORDER BY id", id=agreement_id)

    async def reports_of(self, agreement_id: str) -> list[ReportRow]:
        return await select_all(self.session, ReportRow, f"SELECT {columns(ReportRow)} FROM reports "
                                "WHERE agreement_id = :id ORDER BY revision", id=agreement_id)

    async def add_report(self, *, agreement_id: str, revision: int, report_ref: str, log_refs: list[str],
                         fee_evidence_refs: list[str], submitted_by: str, at: datetime) -> None:
        await self.session.execute(text(
            "INSERT INTO reports (agreement_id, revision, status, report_ref, log_refs, fee_evidence_refs, "
            "submitted_by, submitted_at) VALUES (:id, :rev, 'submitted', :ref, CAST(:logs AS jsonb), "
            "CAST(:fees AS jsonb), :by, :at)"),
            {"id": agreement_id, "rev": revision, "ref": report_ref, "logs": _json(log_refs),
             "fees": _json(fee_evidence_refs), "by": submitted_by, "at": at})

    async def review_report(self, agreement_id: str, revision: int, *, status: ReportStatus, by: str,
                            at: datetime, reasons: list[str] | None = None) -> None:
        await self.session.execute(text(
            "UPDATE reports SET status = :st, reviewed_by = :by, reviewed_at = :at, return_reasons = CAST(:r AS jsonb) "
            "WHERE agreement_id = :id AND revision = :rev"),
            {"id": agreement_id, "rev": revision, "st": status, "by": by, "at": at,
             "r": _json(reasons) if reasons else None})

    # --- audit ------------------------------------------------------------------------------------------------

    async def audit(self, *, at: datetime, actor: str, action: str, agreement_id: str | None = None,
                    application_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
        AUDIT.append(self.session, at=at, actor=actor, action=action, detail=detail, agreement_id=agreement_id,
                     application_id=application_id)

    async def audit_of(self, agreement_id: str) -> list[AuditLine]:
        return await AUDIT.of(self.session, "agreement_id", agreement_id)

    # --- 사후관리 (M1–M3) --------------------------------------------------------------------------------------

    async def owe_follow_up(self, *, agreement: AgreementRow, kind: str, due_on: date) -> None:
        await self.session.execute(text(
            "INSERT INTO follow_ups (agreement_id, kind, application_id, program_id, program_version, brn, due_on) "
            "VALUES (:g, :k, :a, :p, :v, :brn, :due) ON CONFLICT DO NOTHING"),
            {"g": agreement.agreement_id, "k": kind, "a": agreement.application_id, "p": agreement.program_id,
             "v": agreement.program_version, "brn": agreement.brn, "due": due_on})

    async def follow_ups_of(self, agreement_id: str) -> list[FollowUpRow]:
        return await select_all(self.session, FollowUpRow, f"SELECT {FOLLOW_UP} FROM follow_ups "
                                "WHERE agreement_id = :g ORDER BY due_on, kind", g=agreement_id)

    async def follow_up(self, agreement_id: str, kind: str, *, lock: bool = False) -> FollowUpRow | None:
        return await select_one(self.session, FollowUpRow, f"SELECT {FOLLOW_UP} FROM follow_ups "
                                "WHERE agreement_id = :g AND kind = :k" + (" FOR UPDATE" if lock else ""),
                                g=agreement_id, k=kind)

    async def written_follow_up(self, agreement_id: str, kind: str) -> FollowUpRow:
        """The obligation this transaction has just answered, as it now stands."""
        return known(await self.follow_up(agreement_id, kind),
                     f"follow-up {kind} of {agreement_id}, written in this transaction,")

    async def answer_follow_up(self, agreement_id: str, kind: str, *, answers: dict[str, Any], by: str,
                               at: datetime) -> None:
        await self.session.execute(text(
            "UPDATE follow_ups SET answers = CAST(:ans AS jsonb), submitted_by = :by, submitted_at = :at "
            "WHERE agreement_id = :g AND kind = :k"), {"ans": _json(answers), "by": by, "at": at, "g": agreement_id,
                                                      "k": kind})

    async def open_follow_ups_due_by(self, horizon: date) -> list[FollowUpRow]:
        """Unanswered obligations due by `horizon` not yet reminded as overdue; SKIP LOCKED so two replicas never
        remind the same one."""
        return await select_all(self.session, FollowUpRow, f"""
            SELECT {FOLLOW_UP} FROM follow_ups
            WHERE submitted_at IS NULL AND reminded_overdue_at IS NULL AND due_on <= :h
            ORDER BY due_on FOR UPDATE SKIP LOCKED""", h=horizon)

    async def mark_reminded(self, agreement_id: str, kind: str, reminder: str, at: datetime) -> None:
        column = "reminded_overdue_at" if reminder == "overdue" else "reminded_due_soon_at"
        await self.session.execute(text(f"UPDATE follow_ups SET {column} = :at WHERE agreement_id = :g AND kind = :k"),
                                   {"at": at, "g": agreement_id, "k": kind})

    async def follow_ups_of_program(self, program_id: str) -> list[FollowUpRow]:
        return await select_all(self.session, FollowUpRow, f"SELECT {FOLLOW_UP} FROM follow_ups "
                                "WHERE program_id = :p ORDER BY agreement_id, due_on", p=program_id)
