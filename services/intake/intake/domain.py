"""Intake's rules (A1–A3, E1–E5) as pure functions: no I/O, no framework."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Mapping

from sme_runtime.problems import Problem
from sme_schemas.application import (
    ApplicationContent, BonusClaims, CompanyProfile, EvidenceDocument, EvidenceRequirement, Expert,
    PreferenceCertification,
)
from sme_schemas.intake import FilingDisposition
from sme_schemas.periods import korean_time
from sme_programs import EvidenceLine, ProgramDefinition, program_field_problems


class Status(StrEnum):
    SUBMITTED = "submitted"  # live, the company may still amend it (A2)
    SCREENING = "screening"  # live, screening has started: amendments are refused (A2)
    SUPPLEMENT = "supplement"  # live, screening asked for documents: only the evidence may change (E6)
    PASSED = "passed"  # live, passed screening
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


LIVE = (Status.SUBMITTED, Status.SCREENING, Status.SUPPLEMENT, Status.PASSED)


def _applies(line: EvidenceLine, company: CompanyProfile, expert: Expert | None, bonus: BonusClaims,
             answers: Mapping[str, object]) -> bool:
    institute = PreferenceCertification.RESEARCH_INSTITUTE
    if line.when == "answered-yes":
        return any(answers.get(code) is True for code in line.answers)
    return {
        "always": True,
        "has-factory": bool(company.factory_address),
        "no-regular-employees": company.regular_employees == 0,
        "has-regular-employees": company.regular_employees > 0,
        "names-expert": expert is not None,
        "claims-past-projects": bonus.past_public_projects > 0,
        "claims-research-staff": bonus.research_staff > 0,
        "claims-research-institute": institute in bonus.certifications,
        "claims-certification": any(c is not institute for c in bonus.certifications),
    }[line.when]


def required_evidence(company: CompanyProfile, expert: Expert | None, bonus: BonusClaims,
                      lines: tuple[EvidenceLine, ...],
                      answers: Mapping[str, object] | None = None) -> tuple[EvidenceRequirement, ...]:
    """The program's evidence list for this company (E1–E5, the program's `evidence`); E5 lines are not
    mandatory (an unproven claim scores 0)."""
    return tuple(EvidenceRequirement(rule=line.rule, any_of=line.any_of, mandatory=line.mandatory,
                                     purpose=line.purpose)
                 for line in lines if _applies(line, company, expert, bonus, answers or {}))


def unmet_requirements(requirements: tuple[EvidenceRequirement, ...],
                       evidence: tuple[EvidenceDocument, ...]) -> tuple[EvidenceRequirement, ...]:
    """Lines of the evidence list that no uploaded document satisfies (staleness is screening's E6)."""
    have = {doc.document_type for doc in evidence}
    return tuple(line for line in requirements if not have.intersection(line.any_of))


def window_problem(program: ProgramDefinition, at: datetime) -> Problem | None:
    """A3: only inside the application window — of one of its calls, where the program runs several (K1, K2)."""
    window = program.window
    if program.call_at(at) is not None:
        return None
    if window.opens_at <= at <= window.closes_at:
        calls = "; ".join(f"{c.title} {korean_time(c.window.opens_at)} – {korean_time(c.window.closes_at)}"
                          for c in program.program_calls())
        return Problem("submitted_at", "A3", f"no call of {program.program_id} is open at {korean_time(at)}: {calls}")
    when = "has not opened yet" if at < window.opens_at else "is closed"
    return Problem("submitted_at", "A3",
                   f"the application window of {program.program_id} ({korean_time(window.opens_at)} – "
                   f"{korean_time(window.closes_at)}) {when}; received {korean_time(at)}")


def content_problems(content: ApplicationContent, program: ProgramDefinition, today: date) -> list[Problem]:
    """A1 checks that need more than one field, or the program."""
    problems = []
    company = content.company
    if company.founded_on > today:
        problems.append(Problem("company.founded_on", "A1", f"founding date {company.founded_on} is in the future"))
    if company.gimpo_business_since < company.founded_on:
        problems.append(Problem("company.gimpo_business_since", "A1",
                                f"{company.gimpo_business_since} is before the founding date {company.founded_on}"))
    if company.gimpo_business_since > today:
        problems.append(Problem("company.gimpo_business_since", "A1", "date is in the future"))
    plan = content.consulting
    if plan.planned_completion_on > program.program_year_end:
        problems.append(Problem("consulting.planned_completion_on", "C2",
                                f"consulting must be finished by {program.program_year_end} (the program year)"))
    for path, why in program_field_problems(program.application_fields, content.program_fields):
        problems.append(Problem(path, "A1", why))
    if plan.sessions < program.support.minimum_sessions:
        problems.append(Problem("consulting.sessions", "C3", f"{plan.sessions} sessions planned; the program asks "
                                f"for at least {program.support.minimum_sessions} on-site sessions (G3, C3)"))
    if content.bonus.research_staff > company.regular_employees:
        problems.append(Problem("bonus.research_staff", "A1",
                                f"{content.bonus.research_staff} research staff but only "
                                f"{company.regular_employees} regular employees"))
    for i, doc in enumerate(content.evidence):
        if doc.issued_on > today:
            problems.append(Problem(f"evidence.{i}.issued_on", "A1", f"issue date {doc.issued_on} is in the future"))
    return problems


class Disposition(StrEnum):
    CREATE = "create"
    AMEND = "amend"
    UNCHANGED = "unchanged"

    @property
    def done(self) -> FilingDisposition:
        """As the API and a filing's result report it: what the submission did."""
        return _DONE[self]


_DONE: dict[Disposition, FilingDisposition] = {
    Disposition.CREATE: "created", Disposition.AMEND: "amended", Disposition.UNCHANGED: "unchanged"}


@dataclass(frozen=True)
class LiveApplication:
    application_id: str
    status: Status
    content: ApplicationContent


def dispose_submission(live: LiveApplication | None, content: ApplicationContent) -> Disposition:
    """A2: one live application per company and program; a second submission amends the first until
    screening starts, and is refused after. An identical resubmission (a double click) changes nothing."""
    if live is None:
        return Disposition.CREATE
    if live.status is Status.SUPPLEMENT:
        changed = changed_beyond_evidence(live.content, content)
        if changed:
            raise A2Refusal(Problem(changed[0], "E6", "screening has started and asked only for documents: only "
                                    f"the evidence may change now (changed: {', '.join(changed)})"))
        return Disposition.UNCHANGED if _same(live.content, content) else Disposition.AMEND
    if live.status is not Status.SUBMITTED:
        raise_a2(live)
    return Disposition.UNCHANGED if _same(live.content, content) else Disposition.AMEND


def changed_beyond_evidence(a: ApplicationContent, b: ApplicationContent) -> list[str]:
    """E6 supplement: the parts other than the evidence documents that differ (they must not)."""
    strip: dict[str, Any] = {"declarations": {"consent_given_at"}, "evidence": True}
    before, after = a.model_dump(exclude=strip), b.model_dump(exclude=strip)
    return sorted(k for k in before if before[k] != after.get(k))


def supplement_problem(deadline: datetime | None, at: datetime) -> Problem | None:
    """E6: documents are accepted only until the supplement deadline."""
    if deadline is not None and at > deadline:
        return Problem("evidence", "E6", f"the supplement deadline {korean_time(deadline)} has passed")
    return None


def _same(a: ApplicationContent, b: ApplicationContent) -> bool:
    # The consent instant is stamped on each submission; it is not part of what the company states.
    strip = {"declarations": {"consent_given_at"}}
    return a.model_dump(exclude=strip) == b.model_dump(exclude=strip)


class A2Refusal(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def raise_a2(live: LiveApplication) -> None:
    raise A2Refusal(Problem(
        "company.business_registration_number", "A2",
        f"application {live.application_id} of this company is already {live.status.value}: "
        "it can no longer be amended, and a company may have only one live application per program"))


def amendable(status: Status) -> bool:
    """A2 before screening starts; E6 (evidence only) while a supplement is requested."""
    return status in (Status.SUBMITTED, Status.SUPPLEMENT)


def withdrawable(status: Status) -> bool:
    return status in LIVE
