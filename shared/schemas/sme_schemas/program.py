"""A program call, as data: every parameter DOMAIN.md lists, so a new program needs no code change."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from pydantic import Field, model_validator

from sme_schemas.base import Contract
from sme_schemas.values import Krw, ProgramId, ShortText, UtcInstant


# Korean programs count days in KST: an application at 23:30 UTC is already the next day in Gimpo.
KST = timezone(timedelta(hours=9))


def local_date(at: datetime) -> date:
    """The calendar day in Korea of a UTC instant (E6 ages, X9/X10 'as of' dates, A3)."""
    return at.astimezone(KST).date()


class ApplicationWindow(Contract):
    opens_at: UtcInstant = Field(description="First instant applications are accepted (A3)")
    closes_at: UtcInstant = Field(description="Last instant applications are accepted (A3)")

    @model_validator(mode="after")
    def _ordered(self) -> "ApplicationWindow":
        if self.closes_at <= self.opens_at:
            raise ValueError("application window closes before it opens")
        return self


class SupportTerms(Contract):
    cap: Krw = Field(description="Most subsidy per company, VAT included (P2, F4)")
    ratio_percent: int = Field(ge=1, le=100, description="Share of the proven cost the program pays (P2)")
    vat_percent: int = Field(10, ge=0, le=100, description="VAT added to the planned cost; truncated to the won (F4)")
    daily_fee: Krw = Field(description="What the program pays an expert per day (G3)")
    minimum_sessions: int = Field(ge=0, description="On-site sessions at least (C3)")
    follow_up_sessions: int = Field(ge=0, description="Follow-up sessions at least (C3)")
    max_hours_per_day: int = Field(ge=1, le=24, description="C3")
    minimum_expert_grade: int = Field(ge=0, le=5, description="Worst acceptable expert grade; 0 = 특급 (G2)")


class ProgramDefinition(Contract):
    """The parameters of one program call (DOMAIN.md 'Program parameters')."""

    program_id: ProgramId
    name: ShortText = Field(description="Program name as announced")
    region_city: ShortText = Field(description="City where HQ or factory must be registered (X1)")
    announcement_date: date = Field(description="공고일: X1 and X9 are judged as of this date")
    window: ApplicationWindow
    program_year_end: date = Field(description="Consulting must be finished by then (C2)")
    budget: Krw = Field(description="Binding budget of the call (F4)")
    target_companies: int = Field(ge=1, description="Indicative count; the budget binds, not the count")
    support: SupportTerms
    evidence_max_age_days: int = Field(365, ge=1, description="E6")
    supplement_days: int = Field(7, ge=1, description="Days a company has to supplement (E6)")
    payment_due_days: int = Field(30, ge=1, description="P3")
    pass_mark: int = Field(50, ge=0, le=100, description="F2")
    quantitative_weight_percent: int = Field(30, ge=0, le=100, description="F1; qualitative gets the rest")
    committee_min: int = Field(3, ge=1, description="S3, F6")
    committee_max: int = Field(7, ge=1, description="Committee size at most")
    evaluator_allowance_per_application: Krw = Field(20_000, description="F7")
    evaluator_allowance_cap: Krw = Field(300_000, description="F7")
    support_fields: tuple[ShortText, ...] = Field((), description="Announced support fields (X6); a consulting "
                                                  "field outside them is referred to an operator. Empty: no check")
    give_up_restriction_days: int = Field(365, ge=0, description="C6/X10 participation restriction")
    duplicate_threshold: float = Field(0.75, gt=0, le=1, description="D3: mean element similarity from which a "
                                       "prior project is a clear duplicate")
    borderline_threshold: float = Field(0.45, gt=0, le=1, description="D3: from here up to the duplicate "
                                        "threshold the committee judges (manual review)")
    assumptions: tuple[str, ...] = Field((), description="Values the source document does not state")

    @classmethod
    def load(cls, path: Path) -> "ProgramDefinition":
        return cls.model_validate(json.loads(path.read_text("utf-8")))


def load_programs(path_list: str) -> dict[str, ProgramDefinition]:
    """Program definition files (*.json) of colon-separated folders; later folders override earlier ones."""
    programs: dict[str, ProgramDefinition] = {}
    for folder in filter(None, path_list.split(":")):
        for file in sorted(Path(folder).glob("*.json")):
            program = ProgramDefinition.load(file)
            programs[program.program_id] = program
    return programs
