"""Agreement terms (C2), signatures (C1), consulting sessions (C3), give-up restriction (C6) and when a result
report may be submitted (C8). Pure: no I/O."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Iterable

from sme_runtime.problems import Problem
from sme_schemas.application import DocumentType, EvidenceDocument, ExpertQualification
from sme_schemas.contracts import TerminationReason
from sme_schemas.grade import Grade, GradeAssessment, assess_grade, grade_acceptable, grade_label
from sme_programs import ProgramDefinition


class Party(StrEnum):
    """C1: the three who sign."""

    CENTER = "center"
    COMPANY = "company"
    EXPERT = "expert"


class SessionKind(StrEnum):
    ON_SITE = "on-site"
    FOLLOW_UP = "follow-up"


@dataclass(frozen=True)
class ConsultingSession:
    held_on: date
    hours: int
    kind: SessionKind
    photos: int = 1


def parties(expert_party: bool) -> frozenset[Party]:
    """C1: who signs — the center, the company and (where the program has one) the expert."""
    return frozenset(Party) if expert_party else frozenset({Party.CENTER, Party.COMPANY})


def in_force(signed_by: Iterable[Party], expert_party: bool = True) -> bool:
    """C1: in force only when every party of the program's agreement has signed."""
    return set(signed_by) >= parties(expert_party)


def term_problems(
    start: date, end: date, amount: int, program: ProgramDefinition, planned_subsidy: int
) -> list[Problem]:
    """C2: the term lies within the program year and the amount within what was selected (F4) and the cap."""
    problems = []
    if end < start:
        problems.append(Problem("term_end", "C2", f"the term ends ({end}) before it starts ({start})"))
    if end > program.program_year_end:
        problems.append(Problem("term_end", "C2", f"{end} is after the program year ends ({program.program_year_end})"))
    if not 0 < amount <= min(planned_subsidy, program.support.cap):
        problems.append(Problem("agreed_amount", "C2", f"{amount:,} KRW: the agreed amount is at most the planned "
                                f"subsidy {planned_subsidy:,} and the cap {program.support.cap:,}"))
    return problems


def session_problems(new: ConsultingSession, logged: Iterable[ConsultingSession], *, term_start: date,
                     term_end: date, max_hours_per_day: int, today: date) -> list[Problem]:
    """C3: held (not in the future) within the term, at least one hour, at most `max_hours_per_day` hours on one day
    (all sessions), and an on-site session's log has its photos."""
    problems = []
    if not term_start <= new.held_on <= term_end:
        problems.append(Problem("held_on", "C3", f"{new.held_on} is outside the agreement term "
                                f"{term_start} – {term_end}"))
    elif new.held_on > today:
        problems.append(Problem("held_on", "C3", f"{new.held_on} has not come yet: a log records a session held"))
    if new.kind is SessionKind.ON_SITE and new.photos < 1:
        problems.append(Problem("photo_refs", "C3", "an on-site session's log carries at least one photo"))
    same_day = sum(s.hours for s in logged if s.held_on == new.held_on)
    if new.hours < 1:
        problems.append(Problem("hours", "C3", "a session lasts at least one hour"))
    elif new.hours > max_hours_per_day:
        problems.append(Problem("hours", "C3", f"{new.hours} hours: a consulting day is at most {max_hours_per_day} "
                                "hours (1일 4시간 이내)"))
    elif same_day + new.hours > max_hours_per_day:
        problems.append(Problem("hours", "C3", f"{same_day} hours are logged on {new.held_on} already; at most "
                                f"{max_hours_per_day} hours a day"))
    return problems


def consulting_days(sessions: Iterable[ConsultingSession], kind: SessionKind) -> int:
    """C3: the guideline prices consulting by the day ('1일 × 10회 이상, 1일 4시간 이내'): sessions of one kind on
    the same day are one consulting day, however many logs split it."""
    return len({s.held_on for s in sessions if s.kind == kind})


def report_problems(sessions: Iterable[ConsultingSession], *, minimum_sessions: int,
                    follow_up_sessions: int) -> list[Problem]:
    """C8 with C3: the result report is refused until the on-site and follow-up minimums are met, counted in
    days: ten one-hour logs on three days are three days of consulting, not ten."""
    sessions = list(sessions)
    on_site = consulting_days(sessions, SessionKind.ON_SITE)
    follow_up = consulting_days(sessions, SessionKind.FOLLOW_UP)
    problems = []
    if on_site < minimum_sessions:
        problems.append(Problem("sessions", "C3", f"on-site consulting on {on_site} days; at least "
                                f"{minimum_sessions} days"))
    if follow_up < follow_up_sessions:
        problems.append(Problem("sessions", "C3", f"follow-up consulting on {follow_up} days; at least "
                                f"{follow_up_sessions} days"))
    return problems


EXPERT_EVIDENCE = (DocumentType.EXPERT_EMPLOYMENT_CERTIFICATE, DocumentType.EXPERT_CV)


def new_expert_problems(qualification: ExpertQualification | None, evidence: Iterable[EvidenceDocument],
                        program: ProgramDefinition, today: date) -> tuple[list[Problem], GradeAssessment | None]:
    """C5 with G1–G3 and E4: an expert named by an amendment passes the same checks as one named in the
    application, before the amendment takes effect — graded from the qualification (degree, consulting years,
    licences) to the program's minimum grade or better, and proven by an employment certificate or a CV issued
    within the evidence age before the amendment's day (E6). Returns the problems and the grade reached."""
    problems: list[Problem] = []
    proofs = [d for d in evidence if d.document_type in EXPERT_EVIDENCE]
    earliest = program.earliest_fresh_issue(today)
    if not any(earliest <= d.issued_on <= today for d in proofs):
        stale = " (those given are not issued within " + program.evidence_max_age + " before today)" if proofs else ""
        problems.append(Problem("expert_evidence", "E4", "the new expert's employment certificate or CV, issued "
                                f"on or after {earliest}{stale}"))
    if qualification is None:
        problems.append(Problem("expert_qualification", "G1", "a new expert is graded before the amendment takes "
                                "effect: give the highest degree, consulting years and licences"))
        return problems, None
    assessment = assess_grade(qualification)
    worst = program.support.minimum_expert_grade
    if not grade_acceptable(assessment, worst):
        problems.append(Problem("expert_qualification", "G2", f"grade {grade_label(assessment.grade)} "
                                f"({assessment.recognised_years} recognised years: {', '.join(assessment.breakdown)})"
                                f"; the program takes grade {grade_label(Grade(worst))} or "
                                "better"))
    return problems, assessment


def restricted_until(approved_on: date, restriction_days: int) -> date | None:
    """C6/X10: the participation restriction runs from the approval date for the program's number of days."""
    return approved_on + timedelta(days=restriction_days - 1) if restriction_days > 0 else None


def visible_to(role: str, brn_claim: str | None, agreement_brn: str) -> bool:
    """C9: an agreement and everything under it is seen by the center's operators and by its own parties: the
    company (its business number) and the expert engaged by it (a token issued for that engagement)."""
    if role == "operator":
        return True
    return role in ("company", "expert") and brn_claim is not None and brn_claim == agreement_brn


def party_of(role: str) -> Party | None:
    """Which of the three signs when this role signs (C1)."""
    return {"operator": Party.CENTER, "company": Party.COMPANY, "expert": Party.EXPERT}.get(role)


def freed_on_leaving(agreed_amount: int, report_accepted: bool) -> int:
    """F5 via C6/C7: leaving before the result report was accepted frees the agreed amount for the waitlist; after
    it, the subsidy is owed (or clawed back) and the money is no longer free to commit."""
    return 0 if report_accepted else agreed_amount


def termination_record(reason: TerminationReason, note: str) -> str:
    """C7: how a termination's reason and the center's note are kept in the agreement's one `ended_reason`."""
    return f"{reason.value}: {note}"


def how_it_ended(terminated: bool, ended_reason: str | None) -> tuple[TerminationReason | None, str | None]:
    """C7/C6: the termination's reason and the center's note apart (termination_record's inverse), for the people
    who read them; a give-up keeps the company's own words, the note."""
    if not terminated or not ended_reason:
        return None, ended_reason
    code, _, note = ended_reason.partition(": ")
    try:
        return TerminationReason(code), note
    except ValueError:  # written before the reason was kept apart: the words as they are
        return None, ended_reason
