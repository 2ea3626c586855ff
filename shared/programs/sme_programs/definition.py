"""A program call, as data: every parameter DOMAIN.md lists, so a new program needs no code change."""
from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Iterable, Mapping

from pydantic import Field, StringConstraints, model_validator

from sme_schemas.base import Contract
from sme_schemas.periods import WorkingCalendar, earliest_within
from sme_schemas.values import AgencyId, Krw, ProgramId, ShortText

from sme_programs.calls import ApplicationWindow, Call, RollingCall
from sme_programs.checks import each_once
from sme_programs.eligibility import Eligibility
from sme_programs.evidence import EvidenceLine
from sme_programs.follow_up import FollowUp
from sme_programs.funding import FundingSource, PaymentSchedule, SupportTerms, split_by_weight
from sme_programs.questions import ApplicationField
from sme_programs.scoring import CommitteeScoreSheet, DocumentScoreSheet


class ProgramDefinition(Contract):
    """The parameters of one program call (DOMAIN.md 'Program parameters')."""

    program_id: ProgramId
    version: int = Field(1, ge=1, description="V1: a changed definition of a running program is a new version in "
                                              "its own file; an application is judged by the version it applied "
                                              "under, new applications by the newest")
    name: ShortText = Field(description="Program name as announced")
    short_name: ShortText | None = Field(None, max_length=20, description="What people call it in a notice's "
                                         "subject ('[SOS 컨설팅] 선정 안내'); none: the announced name")
    agency: AgencyId = Field(description="T1: the agency that runs the program; only its staff, evaluators and "
                                         "experts see and act on the program's applications, rounds, agreements, "
                                         "payments and reports. Every version of a program has the same agency")
    region_city: ShortText = Field(description="City where HQ or factory must be registered (X1)")
    eligibility: Eligibility = Field(description="Who may apply beyond the region "
                                     "(X1: SME status, industries, company age, certifications)")
    announcement_date: date = Field(description="공고일: X1 and X9 are judged as of this date")
    window: ApplicationWindow
    program_year_end: date = Field(description="Consulting must be finished by then (C2)")
    budget: Krw = Field(description="Binding budget of the call (F4)")
    funding: tuple[FundingSource, ...] = Field((), description="L1: the budget by source, adding up to it; empty: "
                                               "the whole budget from the city (시비)")
    calls: tuple[Call, ...] = Field((), description="K1: several calls, each with its window inside the program's "
                                                    "and its share of the budget; empty: one call, the window")
    rolling: RollingCall | None = Field(None, description="K2: a rolling call cut into rounds by date")
    payment_schedule: PaymentSchedule = Field(description="I1: one payment, or "
                                              "an advance and the balance")
    follow_up: FollowUp = Field(description="M1–M3: the survey and outcome reports after "
                                                                      "the result report (사후관리)")
    application_fields: tuple[ApplicationField, ...] = Field((), description="A1: the program's own questions "
                                                             "beyond 서식1, answered in program_fields")
    form_labels: dict[Annotated[str, StringConstraints(pattern=r"^(section:.+|[a-z_]+(\.[a-z0-9_]+)+)$",
                                                       max_length=100)], ShortText] = Field(
        {}, description="A1: the application form in the program's own words — a field's label by its path "
                        "(consulting.consulting_field: '구축 희망분야') or a section's title by 'section:<title>'; "
                        "what is not named keeps 서식1's wording")
    target_companies: int = Field(ge=1, description="Indicative count; the budget binds, not the count")
    support: SupportTerms
    evidence: tuple[EvidenceLine, ...] = Field(min_length=1, description="E1–E5: the evidence "
                                               "list, each line asked when its condition holds")
    evidence_max_age_months: int | None = Field(None, ge=1, le=120, description="E6: a document is fresh when "
                                                "issued within this many months before the application date, "
                                                "counted by the calendar (민법 제160조: '1년' is 12 months, not "
                                                "365 days)")
    evidence_max_age_days: int | None = Field(None, ge=1, description="E6 for a program whose text counts days "
                                              "('발급일로부터 90일 이내'); given instead of evidence_max_age_months")
    supplement_days: int = Field(ge=1, description="E6: days a company has to supplement, from the day after "
                                 "the request to 24:00 KST of the last, moved past weekends and holidays (민법 "
                                 "제157조, 제159조, 제161조)")
    payment_due_days: int = Field(ge=1, description="P3: days from the complete request's receipt, the last "
                                  "moved past weekends and holidays (민법 제161조)")
    clawback_due_days: int = Field(ge=1, description="C7/P4: days from the clawback notice (환수 통지) to repay "
                                   "by, moved past weekends and holidays; the guideline gives none (assumption)")
    local_closures: tuple[date, ...] = Field((), description="Days the center is closed beyond Korea's public "
                                             "holidays (the city's own closures): a deadline falling on one moves "
                                             "to the next working day (민법 제161조)")
    pass_mark: int = Field(ge=0, le=100, description="F2")
    quantitative_weight_percent: int = Field(ge=0, le=100, description="F1; qualitative gets the rest")
    committee_min: int = Field(ge=1, description="S3, F6")
    committee_max: int = Field(ge=1, description="Committee size at most")
    evaluator_allowance_per_application: Krw = Field(description="F7")
    evaluator_allowance_cap: Krw = Field(description="F7")
    support_fields: tuple[ShortText, ...] = Field((), description="Announced support fields (X6); a consulting "
                                                  "field outside them is referred to an operator. Empty: no check")
    document_score: DocumentScoreSheet = Field(description="별표2 (Q1–Q7)")
    committee_score: CommitteeScoreSheet = Field(description="별표3 (S1–S3)")
    conflict_lookback_days: int = Field(ge=0, description="F6: a past employer within this many days "
                                        "before the round opened is a conflict")
    give_up_restriction_days: int = Field(ge=0, description="C6/X10 participation restriction")
    duplicate_threshold: float = Field(gt=0, le=1, description="D3: mean element similarity from which a "
                                       "prior project is a clear duplicate")
    borderline_threshold: float = Field(gt=0, le=1, description="D3: from here up to the duplicate "
                                        "threshold the committee judges (manual review)")
    national_outlier_z: float = Field(gt=0, description="D3 over the national prior-project index: a prior "
                                      "project stands out from the crowd of similar plans (and is judged) from this "
                                      "many standard deviations of search relevance above the rest")
    national_semantic_threshold: float = Field(gt=0, le=1, description="D3 over the national index, by "
                                               "meaning: a prior project whose development goal's sentence vector "
                                               "has at least this cosine with the plan's (and stands out by "
                                               "national_semantic_z) is judged by the committee")
    national_semantic_z: float = Field(ge=0, description="D3: standard deviations of the goals' cosine above "
                                       "the crowd of similar plans from which a match stands out by meaning")
    assumptions: tuple[str, ...] = Field((), description="Values the source document does not state")

    @model_validator(mode="after")
    def _evidence_age_given(self) -> "ProgramDefinition":
        if (self.evidence_max_age_months is None) == (self.evidence_max_age_days is None):
            raise ValueError("evidence_max_age_months: give it, or evidence_max_age_days for a program that counts "
                             "days, not both (E6)")
        return self

    @model_validator(mode="after")
    def _committee_bounds(self) -> "ProgramDefinition":
        if self.committee_min > self.committee_max:
            raise ValueError("committee_min: more than committee_max")
        return self

    @model_validator(mode="after")
    def _funding_adds_up(self) -> "ProgramDefinition":
        if not self.funding:
            return self
        each_once([f.source for f in self.funding], "funding: each source once")
        if (total := sum(f.amount for f in self.funding)) != self.budget:
            raise ValueError(f"funding: the sources add up to {total:,} KRW, not the budget {self.budget:,} KRW (L1)")
        return self

    @model_validator(mode="after")
    def _fields_known(self) -> "ProgramDefinition":
        each_once([f.code for f in self.application_fields], "application_fields: codes must be unique")
        kinds = {f.code: f.kind for f in self.application_fields}
        for code in self.eligibility.answered_yes:
            if kinds.get(code) != "yes-no":
                raise ValueError(f"eligibility.answered_yes: {code!r} is no yes-no question of application_fields")
        for item in self.document_score.bonus_items:
            for code in item.proven_by_answers:
                if kinds.get(code) != "yes-no":
                    raise ValueError(f"document_score.bonus_items: {item.code} is proven by {code!r}, which is no "
                                     "yes-no question of application_fields")
        return self

    @model_validator(mode="after")
    def _calls_fit(self) -> "ProgramDefinition":
        if self.calls and self.rolling:
            raise ValueError("calls: give several calls or a rolling call, not both")
        calls = self.program_calls()
        each_once([c.call_id for c in calls], "calls: call ids must be unique")
        for c in calls:
            if not self.window.opens_at <= c.window.opens_at <= c.window.closes_at <= self.window.closes_at:
                raise ValueError(f"calls: {c.call_id}'s window is not inside the program's window (K1)")
        ordered = sorted(calls, key=lambda c: c.window.opens_at)
        for before, after in zip(ordered, ordered[1:]):
            if after.window.opens_at <= before.window.closes_at:
                raise ValueError(f"calls: {before.call_id} and {after.call_id} overlap; an application belongs to one "
                                 "call (K1)")
        if (total := sum(c.budget for c in calls)) > self.budget:
            raise ValueError(f"calls: the calls' budgets add up to {total:,} KRW, more than the budget "
                             f"{self.budget:,} KRW (K1)")
        return self

    @property
    def notice_tag(self) -> str:
        """The program's name in the subject of every notice and e-mail it sends (issue 32: never another's)."""
        return self.short_name or self.name

    def working_calendar(self) -> WorkingCalendar:
        """민법 제161조: weekends, public holidays and this program's local closures are not working days."""
        return WorkingCalendar(frozenset(self.local_closures))

    def earliest_fresh_issue(self, application_date: date) -> date:
        """E6: the first issue date still 'within' the evidence age before `application_date` (by the calendar)."""
        if self.evidence_max_age_days is not None:
            return earliest_within(application_date, days=self.evidence_max_age_days)
        return earliest_within(application_date, months=self._evidence_max_age_months())

    @property
    def evidence_max_age(self) -> str:
        """E6's period as the announcement says it: '1년', '6개월', '90일'."""
        if self.evidence_max_age_days is not None:
            return f"{self.evidence_max_age_days}일"
        years, months = divmod(self._evidence_max_age_months(), 12)
        return f"{years}년" if not months else f"{self._evidence_max_age_months()}개월"

    def _evidence_max_age_months(self) -> int:
        if self.evidence_max_age_months is None:  # _evidence_age_given: then the days are given
            raise ValueError(f"{self.program_id} counts evidence age in days (evidence_max_age_days)")
        return self.evidence_max_age_months

    def program_calls(self) -> tuple[Call, ...]:
        """K1/K2: the calls, the rolling call's rounds, or the one call of the program's window and budget."""
        if self.rolling is not None:
            return self.rolling.calls()
        return self.calls or (Call(call_id="main", title=self.name, window=self.window, budget=self.budget),)

    def call_at(self, at: datetime) -> Call | None:
        """K1: the call an application submitted at `at` belongs to (None: between calls, or outside them)."""
        return next((c for c in self.program_calls() if c.window.opens_at <= at <= c.window.closes_at), None)

    def call(self, call_id: str | None) -> Call | None:
        return next((c for c in self.program_calls() if c.call_id == (call_id or "main")), None)

    def funding_sources(self) -> tuple[FundingSource, ...]:
        """L1: the declared sources, or the whole budget from the city."""
        return self.funding or (FundingSource(source="city", title="시비", amount=self.budget),)

    def commitment_by_source(self, amount: int) -> dict[str, int]:
        """L2: an agreed amount split over the sources in proportion to their budget shares."""
        return split_by_weight(amount, {f.source: f.amount for f in self.funding_sources()})

    @classmethod
    def load(cls, path: Path) -> "ProgramDefinition":
        return cls.model_validate(json.loads(path.read_text("utf-8")))


class Programs(dict[str, ProgramDefinition]):
    """The programs a service knows: `programs[id]` is the newest version (what a new application applies
    under), `at(id, version)` any version still loaded (V1)."""

    def __init__(self, versions: Mapping[tuple[str, int], ProgramDefinition] | None = None) -> None:
        self.versions = dict(versions or {})
        newest: dict[str, ProgramDefinition] = {}
        for (program_id, _), program in sorted(self.versions.items()):
            newest[program_id] = program
        super().__init__(newest)

    def at(self, program_id: str, version: int | None) -> ProgramDefinition | None:
        """The version an application applied under; None (an older event) means the newest."""
        return self.get(program_id) if version is None else self.versions.get((program_id, version))

    def agency_of(self, program_id: str | None) -> str | None:
        """T1: the agency that runs `program_id`; None for a program not deployed here."""
        program = self.get(program_id) if program_id else None
        return program.agency if program else None

    def of_agencies(self, agencies: Iterable[str]) -> frozenset[str]:
        """T1: the ids of the programs the `agencies` run."""
        wanted = set(agencies)
        return frozenset(p for p, program in self.items() if program.agency in wanted)


def load_programs(path_list: str) -> Programs:
    """Program definition files (*.json) of colon-separated folders; a later folder's file of the same program and
    version overrides an earlier one's, two of them in one folder are refused (V1)."""
    versions: dict[tuple[str, int], ProgramDefinition] = {}
    for folder in filter(None, path_list.split(":")):
        seen: dict[tuple[str, int], Path] = {}
        for file in sorted(Path(folder).glob("*.json")):
            try:
                program = ProgramDefinition.load(file)
            except ValueError as exc:  # pydantic's errors name the field; the operator also needs the file
                raise ValueError(f"program file {file} refused: {exc}") from exc
            key = (program.program_id, program.version)
            if key in seen:
                raise ValueError(f"program file {file} refused: version: {program.program_id} version "
                                 f"{program.version} is also defined by {seen[key].name} (V1)")
            seen[key] = file
            versions[key] = program
    _one_agency_per_program(versions)
    return Programs(versions)


def _one_agency_per_program(versions: Mapping[tuple[str, int], ProgramDefinition]) -> None:
    """T1: a new version cannot move a program to another agency (its applications would change hands)."""
    agency: dict[str, ProgramDefinition] = {}
    for (program_id, _), program in sorted(versions.items()):
        first = agency.setdefault(program_id, program)
        if first.agency != program.agency:
            raise ValueError(f"program files refused: agency: {program_id} version {program.version} names "
                             f"{program.agency!r}, version {first.version} {first.agency!r}; a program keeps its "
                             "agency (T1)")
