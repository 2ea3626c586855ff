"""The program report (사업 결과 현황), pure: one row per agreement in ranking order — sessions held, amounts agreed,
paid and due — with totals that add up (a given-up or terminated agreement is shown, its amount no longer agreed),
and the same table as CSV and as an XLSX workbook."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, fields

from openpyxl import Workbook
from openpyxl.styles import Font

from portal import labels

ENDED = ("given-up", "terminated")


@dataclass(frozen=True)
class ReportRow:
    rank: int | None
    company_name: str
    application_id: str
    agreement_status: str
    sessions_on_site: int
    sessions_follow_up: int
    agreed: int
    paid: int
    due: int
    note: str


HEADERS = ("순위", "기업명", "신청번호", "협약 상태", "현장 컨설팅(회)", "사후 컨설팅(회)", "협약금액(원)",
           "지급액(원)",
           "지급 예정(원)", "비고")


def rows(agreements: list[dict], payments: list[dict], ranks: dict[str, int]) -> list[ReportRow]:
    """`agreements` are contracts' views (with sessions_held), `payments` payments' subsidy payments."""
    by_application: dict[str, list[dict]] = {}
    for p in payments:
        if p["purpose"] == "subsidy":
            by_application.setdefault(p["application_id"], []).append(p)
    out = []
    for a in sorted(agreements, key=lambda a: (ranks.get(a["application_id"], 10**6), a["application_id"])):
        ps = by_application.get(a["application_id"], [])
        paid = sum(p["amount"] - (p.get("clawback_amount") or 0) for p in ps if p["status"] == "paid")
        due_ones = [p for p in ps if p["status"] == "due"]
        held = a.get("sessions_held") or {}
        ended = a["status"] in ENDED
        note = ", ".join([f"지급 기한 {labels.day(p['due_on'])}" + (" (기한 경과)" if p.get("overdue") else "")
                          for p in due_ones]
                         + ([f"{labels.status(labels.AGREEMENT_STATUS, a['status'])}: 협약금액 "
                             f"{labels.won(a['agreed_amount'])} 해제"] if ended else []))
        out.append(ReportRow(ranks.get(a["application_id"]), a["company_name"], a["application_id"],
                             labels.status(labels.AGREEMENT_STATUS, a["status"]), held.get("on-site", 0),
                             held.get("follow-up", 0), 0 if ended else a["agreed_amount"], paid,
                             sum(p["amount"] for p in due_ones), note))
    return out


def totals(report: list[ReportRow]) -> dict[str, int]:
    return {"agreed": sum(r.agreed for r in report), "paid": sum(r.paid for r in report),
            "due": sum(r.due for r in report), "sessions_on_site": sum(r.sessions_on_site for r in report),
            "sessions_follow_up": sum(r.sessions_follow_up for r in report)}


def _cells(row: ReportRow) -> list:
    return [getattr(row, f.name) if getattr(row, f.name) is not None else "" for f in fields(ReportRow)]


def _total_cells(report: list[ReportRow]) -> list:
    t = totals(report)
    return ["", "합계", "", "", t["sessions_on_site"], t["sessions_follow_up"], t["agreed"], t["paid"], t["due"], ""]


def as_csv(report: list[ReportRow]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel on a Korean Windows opens the Hangul right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows(_cells(r) for r in report)
    writer.writerow(_total_cells(report))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def as_xlsx(report: list[ReportRow], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "사업 결과 현황"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(list(HEADERS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for r in report:
        sheet.append(_cells(r))
    sheet.append(_total_cells(report))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for column in "GHI":
        for cell in sheet[column][2:]:
            cell.number_format = "#,##0"
    for column, width in zip("ABCDEFGHIJ", (6, 24, 22, 12, 14, 14, 16, 16, 16, 40)):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class FollowUpRow:
    """M3, one obligation kind of the program's follow-up as a line of the report."""

    kind: str  # 만족도 조사, 6개월 성과 보고
    owed: int
    answered: int
    overdue: int
    detail: str  # the survey's means, or the outcomes' counts and totals


def follow_up_lines(report: dict, program: dict) -> list[FollowUpRow]:
    """contracts' M3 report (one entry per kind beside program_id, as_of and companies) as report lines, each
    question by its title in the program file."""
    terms = program.get("follow_up") or {}
    titles = {q["code"]: q["title"] for q in [*terms.get("survey_items", ()), *terms.get("outcome_questions", ())]}
    lines = []
    for kind, line in sorted((k, v) for k, v in report.items() if isinstance(v, dict)):
        if "mean" in line:
            detail = ", ".join(f"{titles.get(code, '문항')} {mean}" for code, mean in line["mean"].items()
                               if mean is not None)
        else:
            detail = ", ".join(f"{titles.get(code, '문항')} {value:,}"
                               for code, value in line.get("answers", {}).items())
        lines.append(FollowUpRow(labels.follow_up(kind), line["owed"], line["answered"], line["overdue"], detail))
    return lines
