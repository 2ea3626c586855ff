"""The shared audit trail refuses a subject its table has no column for, instead of dropping it (issue 29)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from sme_runtime.audit import AuditTrail
from sme_runtime.buffered import PENDING


class _Session:
    """Only what append() touches: the session's info dict (the rows wait there until commit)."""

    def __init__(self) -> None:
        self.info: dict = {}


AT = datetime(2026, 12, 6, tzinfo=timezone.utc)


def test_a_line_waits_in_the_session_with_every_subject_column_and_sql_null_for_no_detail():
    trail = AuditTrail(("agreement_id", "application_id"))
    session = _Session()

    trail.append(session, at=AT, actor="kim", action="signed", agreement_id="AGR-1")  # type: ignore[arg-type]
    trail.append(session, at=AT, actor="kim", action="amended", detail={"사유": "기간 연장"},  # type: ignore[arg-type]
                 agreement_id="AGR-1", application_id="APP-1")

    (table, rows), = session.info[PENDING].items()
    assert table.table == "audit"
    assert [column for column, _ in table.columns] == ["agreement_id", "application_id", "at", "actor", "action",
                                                       "detail"]
    assert rows[0]["application_id"] is None and rows[0]["detail"] is None
    assert rows[1]["detail"] == '{"사유": "기간 연장"}'


def test_a_subject_the_table_has_no_column_for_is_refused_by_name():
    trail = AuditTrail(("payment_id", "application_id"))
    session = _Session()

    with pytest.raises(TypeError, match="no subject column agreement_id"):
        trail.append(session, at=AT, actor="kim", action="paid", agreement_id="AGR-1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="no subject column round_id"):
        asyncio.run(trail.of(session, "round_id", "R-1"))  # type: ignore[arg-type]
    assert PENDING not in session.info
