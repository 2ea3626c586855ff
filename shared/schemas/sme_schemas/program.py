"""A program call, as data: every parameter DOMAIN.md lists, so a new program needs no code change."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Iterable, Literal, Mapping, TypeVar

from pydantic import Field, model_validator

from sme_schemas.application import DocumentType as D, PreferenceCertification as Cert
from sme_schemas.base import Contract
from sme_schemas.periods import KST, WorkingCalendar, earliest_within, end_of_day, local_date
from sme_schemas.values import AgencyId, Krw, ProgramId, ShortText, UtcInstant

# Korean programs count days in KST (an application at 23:30 UTC is already the next day in Gimpo): KST and
# local_date live with the rest of the legal calendar in sme_schemas.periods; re-exported here for the services.
__all__ = ["KST", "local_date"]


class ApplicationWindow(Contract):
    opens_at: UtcInstant = Field(description="First instant applications are accepted (A3)")
    closes_at: UtcInstant = Field(description="Last instant applications are accepted (A3)")

    @model_validator(mode="after")
    def _ordered(self) -> "ApplicationWindow":
        if self.closes_at <= self.opens_at:
            raise ValueError("application window closes before it opens")
        return self


CallId = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,30}$", description="The call's key, e.g. h1, 2026-04")


class Call(Contract):
    """K1: one call of a program (모집 공고 차수) — its own window and its own share of the budget; applications
    belong to the call open when they were submitted, and are selected within its share."""

    call_id: str = CallId
    title: ShortText = Field(description="e.g. 상반기 모집")
    window: ApplicationWindow
    budget: Krw = Field(description="This call's share of the program's budget (F4 within it)")


class RollingCall(Contract):
    """K2: a rolling call (수시 모집): one long window cut into rounds on the given days (each round takes what was
    submitted up to the end of its day, KST), each round with the same budget share."""

    window: ApplicationWindow
    cut_on: tuple[date, ...] = Field(min_length=1, description="The last day of each round but the last, which "
                                                               "ends with the window")
    budget_per_round: Krw

    @model_validator(mode="after")
    def _cuts_inside(self) -> "RollingCall":
        cuts = list(self.cut_on)
        if cuts != sorted(set(cuts)):
            raise ValueError("cut_on: each day once, in order")
        first, last = local_date(self.window.opens_at), local_date(self.window.closes_at)
        if not (first <= cuts[0] and cuts[-1] < last):
            raise ValueError(f"cut_on: every cut inside the window, before its last day {last}")
        return self

    def calls(self) -> tuple[Call, ...]:
        ends = [end_of_day(d) for d in self.cut_on] + [self.window.closes_at]
        starts = [self.window.opens_at] + [e + timedelta(microseconds=1) for e in ends[:-1]]
        return tuple(Call(call_id=f"r{n + 1}", title=f"수시 모집 {n + 1}차", budget=self.budget_per_round,
                          window=ApplicationWindow(opens_at=s, closes_at=e))
                     for n, (s, e) in enumerate(zip(starts, ends)))


class SupportTerms(Contract):
    cap: Krw = Field(description="Most subsidy per company, VAT included (P2, F4)")
    ratio_percent: int = Field(ge=1, le=100, description="Share of the proven cost the program pays (P2)")
    vat_percent: int = Field(10, ge=0, le=100, description="VAT added to the planned cost; truncated to the won (F4)")
    daily_fee: Krw = Field(description="G3: what the program pays an expert per day; the planned subsidy is at "
                                       "most this times the planned sessions. 0: no per-day ceiling (a build "
                                       "paid by its quote)")
    company_share_percent_of_subsidy: int = Field(0, ge=0, le=1000, description="P2: the company pays at least "
                                                  "this share of the subsidy itself (기업부담금: 지원금의 20% 이상), "
                                                  "so the subsidy is at most cost x 100 / (100 + share)")
    minimum_sessions: int = Field(ge=0, description="On-site sessions at least (C3)")
    follow_up_sessions: int = Field(ge=0, description="Follow-up sessions at least (C3)")
    max_hours_per_day: int = Field(ge=1, le=24, description="C3")
    minimum_expert_grade: int = Field(ge=0, le=5, description="Worst acceptable expert grade; 0 = 특급 (G2)")
    expert_party: bool = Field(True, description="C1: the agreement's third party is an expert (SOS's consultant; "
                                                 "a build's supplier); False: a two-party agreement of the center "
                                                 "and the company, no expert graded (G1–G3) or signing")

    def planned_subsidy(self, cost_excluding_vat: int, sessions: int | None = None) -> int:
        """F4: min(cap, ratio x (planned cost + VAT)); VAT and the ratio are truncated to the won. G3: at most the
        daily fee for each planned session, when the program pays by the day and the sessions are known."""
        vat = cost_excluding_vat * self.vat_percent // 100
        subsidy = self.subsidy_of(cost_excluding_vat + vat)
        if self.daily_fee and sessions is not None:
            subsidy = min(subsidy, self.daily_fee * sessions)
        return subsidy

    def subsidy_of(self, cost_including_vat: int) -> int:
        """P2/F4 without the agreed amount: min(cap, ratio x cost, cost x 100 / (100 + company share))."""
        subsidy = min(self.cap, cost_including_vat * self.ratio_percent // 100)
        if self.company_share_percent_of_subsidy:
            subsidy = min(subsidy, cost_including_vat * 100 // (100 + self.company_share_percent_of_subsidy))
        return subsidy


class Band(Contract):
    """One step of a 별표2 scale: from `at_least` upwards (up to the next band) it gives `points`."""

    at_least: int = Field(ge=0)
    points: int = Field(ge=0, le=100)


KsicPrefix = Field(pattern=r"^[A-U]([0-9]{1,5})?$", description="A KSIC class or any prefix of it: a section "
                   "letter (C: manufacturing) or a section with its first digits (C29: other machinery)")


# KSIC sections by two-digit division (통계청 한국표준산업분류 10차): a code given without its section letter gets it
_SECTIONS = (("A", 1, 3), ("B", 5, 8), ("C", 10, 34), ("D", 35, 35), ("E", 36, 39), ("F", 41, 42), ("G", 45, 47),
             ("H", 49, 52), ("I", 55, 56), ("J", 58, 63), ("K", 64, 66), ("L", 68, 68), ("M", 70, 73),
             ("N", 74, 76), ("O", 84, 84), ("P", 85, 85), ("Q", 86, 87), ("R", 90, 91), ("S", 94, 96),
             ("T", 97, 98), ("U", 99, 99))


def full_years(since: date, as_of: date) -> int:
    """Whole years from `since` to `as_of`; the anniversary itself counts (a 29 February start turns on 1 March)."""
    if as_of < since:
        return 0
    return as_of.year - since.year - ((as_of.month, as_of.day) < (since.month, since.day))


def ksic_with_section(industry_code: str) -> str:
    """`29299` → `C29299`; a code that has its letter, or whose division is no section's, is returned as given."""
    if industry_code[:1].isalpha() or len(industry_code) < 2:
        return industry_code
    division = int(industry_code[:2])
    return next((letter + industry_code for letter, low, high in _SECTIONS if low <= division <= high),
                industry_code)


class RevenueCeiling(Contract):
    """One line of the SME size test (중소기업기본법 시행령 별표1): companies of these industries are SMEs up to
    this revenue."""

    industries: tuple[Annotated[str, KsicPrefix], ...] = Field(min_length=1)
    revenue_at_most: Krw


def _ceiling(revenue_100m_krw: int, *industries: str) -> RevenueCeiling:
    return RevenueCeiling(industries=industries, revenue_at_most=revenue_100m_krw * 100_000_000)


# 중소기업기본법 시행령 별표1 (average revenue by main industry), as KSIC divisions; the longest matching prefix
# applies, and an industry none of them names gets the lowest (400억).
SME_REVENUE_CEILINGS = (
    _ceiling(1_500, "C14", "C15", "C17", "C24", "C28", "C32"),
    _ceiling(1_000, "C10", "C12", "C13", "C16", "C19", "C20", "C22", "C25", "C26", "C29", "C30", "C31",
             "A", "B", "D", "E36", "F", "G"),
    _ceiling(800, "C11", "C18", "C21", "C23", "C27", "C33", "E", "H", "J"),
    _ceiling(600, "C34", "M", "N", "Q", "R", "S"),
    _ceiling(400, "I", "K", "L", "P"),
)


def yes_no_or_number_problem(kind: str, value: object) -> str | None:
    """Why `value` is no answer of a yes-no, count or KRW question (None: it is, or the kind is another); shared
    by the application's questions (A1) and the outcome reports' (M1)."""
    if kind == "yes-no" and not isinstance(value, bool):
        return "true or false"
    if kind in ("count", "amount-krw") and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        return "a whole number, 0 or more" + (" (KRW)" if kind == "amount-krw" else "")
    return None


class ApplicationField(Contract):
    """A1: a question of the program's own application form, beyond 서식1 (e.g. a sandbox pilot's 규제특례 지정
    여부); answered in the application's `program_fields` under `code`."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$")
    title: ShortText = Field(description="The question as the form asks it")
    kind: Literal["yes-no", "count", "amount-krw", "text", "date", "choice"]
    required: bool = True
    choices: tuple[ShortText, ...] = Field((), description="kind choice: the answers allowed")

    @model_validator(mode="after")
    def _choices_for_a_choice(self) -> "ApplicationField":
        if (self.kind == "choice") != bool(self.choices):
            raise ValueError(f"{self.code}: choices are given for a choice, and only for a choice")
        return self

    def problem(self, value: object) -> str | None:
        """Why `value` does not answer this question (None: it does)."""
        if (why := yes_no_or_number_problem(self.kind, value)) is not None:
            return why
        if self.kind in ("text", "choice", "date") and not isinstance(value, str):
            return "text"
        if self.kind == "text" and isinstance(value, str) and (not value.strip() or "\x00" in value):
            return "text, not empty"
        if self.kind == "choice" and value not in self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind == "date":
            try:
                date.fromisoformat(str(value))
            except ValueError:
                return "a date, YYYY-MM-DD"
        return None


def program_field_problems(fields: "Iterable[ApplicationField]", answers: "Mapping[str, object]") -> list[
        tuple[str, str]]:
    """A1: (field path, why) for every required question unanswered, answer of the wrong kind, or answer to no
    question of the program."""
    fields = tuple(fields)
    known = {f.code for f in fields}
    problems = [(f"program_fields.{code}", "no such question in this program") for code in answers
                if code not in known]
    for f in fields:
        if f.code not in answers:
            if f.required:
                problems.append((f"program_fields.{f.code}", f"{f.title}: required by this program"))
        elif (why := f.problem(answers[f.code])) is not None:
            problems.append((f"program_fields.{f.code}", f"{f.title}: {why}"))
    return problems


class Eligibility(Contract):
    """Who may apply, beyond the region (X1's city, `region_city`): the program's own criteria, judged on the
    application as of the announcement date. Every criterion left out is no criterion."""

    sme: bool = Field(True, description="X1: an SME by the size test (revenue_ceilings; last year's revenue "
                                        "stands for the three-year average the law uses)")
    revenue_ceilings: tuple[RevenueCeiling, ...] = Field(SME_REVENUE_CEILINGS, description="X1's SME size test")
    industries: tuple[Annotated[str, KsicPrefix], ...] = Field(
        (), description="KSIC prefixes the company's industry_code must start with (C: manufacturers only)")
    founded_years_at_least: int | None = Field(None, ge=0, le=200, description="Full years since founding, at least")
    founded_years_at_most: int | None = Field(None, ge=0, le=200, description="Full years since founding, at most "
                                                                              "(a start-up program)")
    certified_as: tuple[Cert, ...] = Field((), description="Any one of these proven (E5), e.g. social-enterprise for "
                                                           "a social-economy program")
    answered_yes: tuple[str, ...] = Field((), description="The program's yes-no questions (application_fields) the "
                                                          "company must answer yes, e.g. regulatory-exemption")

    @model_validator(mode="after")
    def _age_range(self) -> "Eligibility":
        low, high = self.founded_years_at_least, self.founded_years_at_most
        if low is not None and high is not None and low > high:
            raise ValueError(f"founded_years_at_least: {low} is more than founded_years_at_most {high}")
        return self

    def revenue_ceiling(self, industry_code: str) -> int:
        """The SME size line of this industry: the longest prefix any ceiling names, else the lowest ceiling."""
        code = ksic_with_section(industry_code)
        matches = [(len(prefix), c.revenue_at_most) for c in self.revenue_ceilings for prefix in c.industries
                   if code.startswith(prefix)]
        if matches:
            return max(matches)[1]
        return min(c.revenue_at_most for c in self.revenue_ceilings)


class BonusItem(Contract):
    """One 가점 item of the document score sheet (Q6): `points` once when any of the 서식1 checkboxes that prove it
    is proven, however many of them are (INNO-BIZ and MAIN-BIZ are one item of 별표2)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$", description="Item key in a score breakdown")
    title: ShortText = Field(description="The item as the score sheet names it, e.g. INNO(main)-BIZ기업")
    points: int = Field(2, ge=0, le=100, description="Points when proven")
    proven_by: tuple[Cert, ...] = Field((), description="서식1 checkboxes any one of which proves it")
    proven_by_answers: tuple[str, ...] = Field((), description="Or the program's own yes-no questions "
                                               "(application_fields), for a certification 서식1 has no checkbox "
                                               "for, e.g. 하이서울기업; proven with the certificate (E5)")

    @model_validator(mode="after")
    def _proven_somehow(self) -> "BonusItem":
        if not self.proven_by and not self.proven_by_answers:
            raise ValueError(f"{self.code}: proven_by or proven_by_answers names what proves the item")
        return self


def _bonus(code: str, title: str, *proof: Cert) -> BonusItem:
    return BonusItem(code=code, title=title, points=2, proven_by=proof)


# 별표2 of the SOS 2024 guideline: twelve items of 2 points, at most 10 together
SOS_2024_BONUS_ITEMS = (
    _bonus("gyeonggi-promising-sme", "경기도 유망중소기업", Cert.GYEONGGI_PROMISING_SME),
    _bonus("family-friendly", "가족친화경영기업", Cert.FAMILY_FRIENDLY),
    _bonus("good-jobs", "일자리우수기업", Cert.GOOD_JOBS),
    _bonus("inno-main-biz", "INNO(main)-BIZ기업", Cert.INNO_BIZ, Cert.MAIN_BIZ),
    _bonus("green-technology", "녹색기술인증기업", Cert.GREEN_TECHNOLOGY),
    _bonus("net-nep", "NET, NEP 인증기업", Cert.NET, Cert.NEP),
    _bonus("social-enterprise", "사회적기업", Cert.SOCIAL_ENTERPRISE),
    _bonus("venture", "벤처기업", Cert.VENTURE),
    _bonus("women-owned", "여성기업", Cert.WOMEN_OWNED),
    _bonus("disabled-owned", "장애인기업", Cert.DISABLED_OWNED),
    _bonus("gimpo-youth-enterprise", "김포시 청년기업 인증", Cert.GIMPO_YOUTH_ENTERPRISE),
    _bonus("gimpo-sme-award", "김포시 중소기업 대상 선정 기업", Cert.GIMPO_SME_AWARD),
)


EvidenceCondition = Literal[
    "always", "has-factory", "no-regular-employees", "has-regular-employees", "names-expert", "claims-past-projects",
    "claims-research-staff", "claims-research-institute", "claims-certification", "answered-yes"]


class EvidenceLine(Contract):
    """E1–E5 as program data: one line of the evidence list — any one of `any_of` satisfies it — asked when the
    application meets `when`; a bonus proof (E5) is not mandatory (an unproven claim scores 0)."""

    rule: str = Field(pattern=r"^E[1-5]$")
    purpose: ShortText
    any_of: tuple[D, ...] = Field(min_length=1)
    when: EvidenceCondition = "always"
    answers: tuple[str, ...] = Field((), description="when answered-yes: the program's yes-no questions any yes "
                                                     "to which asks this line")
    mandatory: bool = True

    @model_validator(mode="after")
    def _answers_for_answered_yes(self) -> "EvidenceLine":
        if (self.when == "answered-yes") != bool(self.answers):
            raise ValueError(f"{self.purpose}: answers are named for when answered-yes, and only then")
        return self


def _line(rule: str, purpose: str, *any_of: D, when: str = "always", mandatory: bool = True) -> EvidenceLine:
    return EvidenceLine.model_validate({"rule": rule, "purpose": purpose, "any_of": any_of, "when": when,
                                        "mandatory": mandatory})


# 서식1's 구비서류 of the SOS 2024 guideline (E1–E5)
SOS_2024_EVIDENCE = (
    _line("E1", "사업자등록증명", D.BUSINESS_REGISTRATION_CERTIFICATE),
    _line("E1", "국세 납세증명서", D.NATIONAL_TAX_PAYMENT_CERTIFICATE),
    _line("E1", "지방세 납세증명서", D.LOCAL_TAX_PAYMENT_CERTIFICATE),
    _line("E1", "최근 1개년 재무제표 또는 부가가치세과세표준증명원", D.FINANCIAL_STATEMENTS,
          D.VAT_TAX_BASE_CERTIFICATE),
    _line("E2", "공장등록증명", D.FACTORY_REGISTRATION_CERTIFICATE, when="has-factory"),
    # E3: with no regular employees both health-insurance records are needed
    _line("E3", "건강보험자격득실확인서 (상시근로자 없음)", D.HEALTH_INSURANCE_QUALIFICATION_RECORD,
          when="no-regular-employees"),
    _line("E3", "건강보험 사업장가입자별부과내역 (상시근로자 없음)", D.HEALTH_INSURANCE_WORKPLACE_CHARGE_RECORD,
          when="no-regular-employees"),
    _line("E3", "상시근로자 확인서류 (택1)", D.MONTHLY_WITHHOLDING_TAX_RETURN, D.INDIVIDUAL_HEALTH_INSURANCE_STATEMENT,
          D.EMPLOYMENT_INSURANCE_CHARGE_RECORD, when="has-regular-employees"),
    _line("E4", "전문가 재직증명서 또는 이력서", D.EXPERT_EMPLOYMENT_CERTIFICATE, D.EXPERT_CV, when="names-expert"),
    _line("E5", "과제 수행실적 증빙", D.PAST_PROJECT_RECORD, when="claims-past-projects", mandatory=False),
    _line("E5", "연구인력 재직증명서", D.RESEARCH_STAFF_EMPLOYMENT_CERTIFICATE, when="claims-research-staff",
          mandatory=False),
    _line("E5", "연구인력 학위증명서 (석·박사)", D.RESEARCH_STAFF_DEGREE_CERTIFICATE, when="claims-research-staff",
          mandatory=False),
    _line("E5", "기업부설연구소 인정서", D.RESEARCH_INSTITUTE_REGISTRATION, when="claims-research-institute",
          mandatory=False),
    _line("E5", "우대기업 인증서", D.PREFERENCE_CERTIFICATE, when="claims-certification", mandatory=False),
)


def _each_once(values: list, message: str) -> None:
    """Codes (or sources) name one thing each; `message` names the field when one repeats."""
    if len(values) != len(set(values)):
        raise ValueError(f"{message}, got {values}")


def _descending_to_zero(bands: tuple[Band, ...], name: str) -> None:
    thresholds = [b.at_least for b in bands]
    if not bands or thresholds != sorted(set(thresholds), reverse=True) or thresholds[-1] != 0:
        raise ValueError(f"{name}: bands must run from the highest threshold down to at_least 0, each once")


class DocumentScoreSheet(Contract):
    """별표2, the quantitative document score (Q1–Q7). Defaults are the SOS 2024 sheet's scale values (Q7)."""

    revenue_last_year: tuple[Band, ...] = Field(
        (Band(at_least=3_000_000_000, points=30), Band(at_least=2_000_000_000, points=25),
         Band(at_least=1_000_000_000, points=20), Band(at_least=500_000_000, points=15), Band(at_least=0, points=10)),
        description="Q1: revenue of last year in KRW")
    regular_employees: tuple[Band, ...] = Field(
        (Band(at_least=15, points=20), Band(at_least=10, points=16), Band(at_least=5, points=12),
         Band(at_least=3, points=8), Band(at_least=0, points=4)), description="Q2: regular employees")
    years_in_city: tuple[Band, ...] = Field(
        (Band(at_least=10, points=30), Band(at_least=5, points=25), Band(at_least=3, points=20),
         Band(at_least=1, points=15), Band(at_least=0, points=10)),
        description="Q3: full years of business in the city, counted to the announcement date")
    research_staff: tuple[Band, ...] = Field(
        (Band(at_least=2, points=10), Band(at_least=1, points=5), Band(at_least=0, points=0)),
        description="Q4: research staff (master's or doctorate) among regular employees")
    research_institute: int = Field(10, ge=0, le=100, description="Q5: a registered corporate research institute")
    bonus_items: tuple[BonusItem, ...] = Field(
        SOS_2024_BONUS_ITEMS, description="Q6: the sheet's 가점 items, each with the checkboxes that prove it")
    bonus_cap: int = Field(10, ge=0, le=100, description="Q6: bonus at most")
    total_cap: int = Field(100, ge=1, le=100, description="Q7: the total is capped here")

    @model_validator(mode="before")
    @classmethod
    def _no_points_per_checkbox(cls, data: object) -> object:
        if isinstance(data, dict) and "bonus_per_certification" in data:
            raise ValueError("bonus_per_certification: Q6 scores the sheet's items, not checkboxes; give bonus_items "
                             "(each with its points and the checkboxes that prove it) instead")
        return data

    @model_validator(mode="after")
    def _bands_ordered(self) -> "DocumentScoreSheet":
        for name in ("revenue_last_year", "regular_employees", "years_in_city", "research_staff"):
            _descending_to_zero(getattr(self, name), name)
        return self

    @model_validator(mode="after")
    def _each_checkbox_proves_one_item(self) -> "DocumentScoreSheet":
        _each_once([item.code for item in self.bonus_items], "bonus_items: item codes must be unique")
        proofs = [c for item in self.bonus_items for c in item.proven_by]
        if twice := sorted({c.value for c in proofs if proofs.count(c) > 1}):
            raise ValueError(f"bonus_items: a checkbox proves one item only (Q6); {', '.join(twice)} proves several")
        if Cert.RESEARCH_INSTITUTE in proofs:
            raise ValueError("bonus_items: research-institute is scored by Q5 (research_institute), not as a bonus")
        return self

    def proven_bonus_items(self, certifications: "Iterable[Cert]",
                           answers: "Iterable[str]" = ()) -> tuple[BonusItem, ...]:
        """Q6: the items any proven certification (or a proven yes to the program's own question) proves, each
        once, in the sheet's order."""
        proven, yes = set(certifications), set(answers)
        return tuple(item for item in self.bonus_items
                     if proven.intersection(item.proven_by) or yes.intersection(item.proven_by_answers))


class RubricItem(Contract):
    """One 별표3 item: the evaluator picks one of its levels (S1)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$", description="Item key in a score form")
    section: ShortText = Field(description="평가항목, e.g. 사업의 필요성")
    title: ShortText = Field(description="세부 평가지표")
    levels: tuple[int, ...] = Field(min_length=2, description="Allowed points, best first (매우우수 … 매우미흡)")

    @model_validator(mode="after")
    def _levels_descending(self) -> "RubricItem":
        if list(self.levels) != sorted(set(self.levels), reverse=True) or self.levels[-1] < 0:
            raise ValueError(f"{self.code}: levels must be distinct, best first, not negative")
        return self


def _item(code: str, section: str, title: str, top: int) -> RubricItem:
    step = top // 5
    return RubricItem(code=code, section=section, title=title, levels=tuple(top - step * i for i in range(5)))


class CommitteeScoreSheet(Contract):
    """별표3, the qualitative committee score (S1–S3). Defaults are the SOS 2024 sheet (raw maximum 105, S2)."""

    items: tuple[RubricItem, ...] = Field(
        (_item("motive-and-need", "사업의 필요성", "추진동기 및 필요성", 15),
         _item("program-fit", "사업의 필요성", "사업목적 부합성", 15),
         _item("capability-and-will", "사업의 필요성", "추진역량 및 의지", 10),
         _item("plan-and-organisation", "사업의 적정성", "추진계획 및 추진체계", 10),
         _item("cost-versus-scope", "사업의 적정성", "사업비 대비 사업범위", 10),
         _item("preparation", "사업의 적정성", "사업 준비정도", 15),
         _item("plan-sufficiency", "기대효과", "계획의 충실성", 10),
         _item("outcome-plan", "기대효과", "성과활용 계획의 구체성", 10),
         _item("expected-effect", "기대효과", "기대효과", 10)), min_length=1)
    normalised_to: int = Field(100, ge=1, description="S2: each evaluator's raw total is scaled to this")

    @model_validator(mode="after")
    def _codes_unique(self) -> "CommitteeScoreSheet":
        _each_once([i.code for i in self.items], "committee score sheet: item codes must be unique")
        return self

    @property
    def raw_max(self) -> int:
        return sum(item.levels[0] for item in self.items)


FundingKind = Literal["national", "provincial", "city", "district", "other"]
K = TypeVar("K")


class FundingSource(Contract):
    """L1: one share of the budget by who pays it (국비, 도비, 시비, 구비, 기타)."""

    source: FundingKind = Field(description="national 국비, provincial 도비 (or a metropolitan city's 시비), city "
                                            "시비, district 구비, other 기타")
    title: ShortText = Field(description="As the budget names it, e.g. 도비 (경기도)")
    amount: Krw = Field(description="This source's share of the budget, KRW")


def split_by_weight(amount: int, weights: "Mapping[K, int]") -> dict[K, int]:
    """L2: `amount` in whole won over the keys in proportion to their weights (largest remainder; ties go to the
    earlier key), so the parts add up to the amount exactly and, when the amount is at most the weights' sum, no
    part exceeds its weight."""
    total = sum(weights.values())
    if amount < 0 or any(w < 0 for w in weights.values()):
        raise ValueError("amounts and weights are not negative")
    if amount and not total:
        raise ValueError(f"{amount:,} KRW cannot be split over nothing")
    if not amount:
        return {key: 0 for key in weights}
    parts = {key: amount * w // total for key, w in weights.items()}
    order = sorted(weights, key=lambda key: -(amount * weights[key] % total))
    for key in order[:amount - sum(parts.values())]:
        parts[key] += 1
    return parts


class PaymentSchedule(Contract):
    """I1: how the subsidy is paid — one payment after the accepted report (P1), or an advance (선금) on request
    after the agreement is signed and the balance (잔금) after the report."""

    advance_percent: int = Field(0, ge=0, le=90, description="Share of the agreed amount the company may request "
                                                             "as an advance once signed; 0: no advance")

    def advance(self, agreed_amount: int) -> int:
        return agreed_amount * self.advance_percent // 100


class SurveyItem(Contract):
    """M1: one question of the satisfaction survey (만족도 조사), answered 1 (매우 불만족) to 5 (매우 만족)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$")
    title: ShortText


class OutcomeQuestion(Contract):
    """M1: one question of an outcome report (성과 조사), e.g. SOS: did the company apply to the government call
    it was consulted for, and win it."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$")
    title: ShortText
    kind: Literal["yes-no", "count", "amount-krw", "text"]
    requires: str | None = Field(None, description="A yes-no question that must be answered yes for this one to "
                                                   "be yes or above zero (won requires applied)")


def _survey(code: str, title: str) -> SurveyItem:
    return SurveyItem(code=code, title=title)


def _question(code: str, title: str, kind: str, requires: str | None = None) -> OutcomeQuestion:
    return OutcomeQuestion.model_validate({"code": code, "title": title, "kind": kind, "requires": requires})


class FollowUp(Contract):
    """M1–M3, 사후관리: after the result report is accepted the company owes the satisfaction survey (협약 ⑨-1)
    and outcome reports up to a year after the end (협약 ④-2); the center is reminded by events and reports per
    program. Defaults are SOS 2024's reading (its assumptions say which values are assumed)."""

    survey_within_days: int = Field(30, ge=1, le=365, description="M1: the survey is due this many days after "
                                                                  "the report was accepted")
    survey_items: tuple[SurveyItem, ...] = Field(
        (_survey("overall", "사업 전반 만족도"), _survey("expert", "전문가(컨설턴트) 역량 만족도"),
         _survey("usefulness", "컨설팅 결과의 현장 활용도"), _survey("center", "전담기관 지원·안내 만족도")),
        min_length=1)
    outcome_reports_after_months: tuple[int, ...] = Field(
        (6, 12), description="M1: outcome reports due this many months after the report was accepted; a year at "
                             "most (사업종료 이후 최대 1년)")
    outcome_questions: tuple[OutcomeQuestion, ...] = Field(
        (_question("applied-to-government-call", "컨설팅 분야의 정부·지자체 지원사업 신청 여부", "yes-no"),
         _question("won-government-call", "해당 지원사업 선정 여부", "yes-no", "applied-to-government-call"),
         _question("government-funding-krw", "선정된 지원사업의 지원금 (원)", "amount-krw", "won-government-call"),
         _question("new-hires", "사업 종료 후 신규 고용 인원", "count"),
         _question("notes", "기타 성과", "text")), min_length=1)
    remind_days_before: int = Field(7, ge=0, le=90, description="M2: a reminder this many days before the due "
                                                                "date, and another the day after it passes")

    @model_validator(mode="after")
    def _consistent(self) -> "FollowUp":
        months = list(self.outcome_reports_after_months)
        if months != sorted(set(months)) or any(not 1 <= m <= 12 for m in months):
            raise ValueError(f"outcome_reports_after_months: increasing, each 1 to 12 (a year at most), got {months}")
        _each_once([i.code for i in self.survey_items], "survey_items: codes must be unique")
        _each_once([q.code for q in self.outcome_questions], "outcome_questions: codes must be unique")
        kinds = {q.code: q.kind for q in self.outcome_questions}
        for q in self.outcome_questions:
            if q.requires is not None and kinds.get(q.requires) != "yes-no":
                raise ValueError(f"outcome_questions: {q.code} requires {q.requires!r}, which is no yes-no question")
        return self


class ProgramDefinition(Contract):
    """The parameters of one program call (DOMAIN.md 'Program parameters')."""

    program_id: ProgramId
    version: int = Field(1, ge=1, description="V1: a changed definition of a running program is a new version in "
                                              "its own file; an application is judged by the version it applied "
                                              "under, new applications by the newest")
    name: ShortText = Field(description="Program name as announced")
    agency: AgencyId = Field(description="T1: the agency that runs the program; only its staff, evaluators and "
                                         "experts see and act on the program's applications, rounds, agreements, "
                                         "payments and reports. Every version of a program has the same agency")
    region_city: ShortText = Field(description="City where HQ or factory must be registered (X1)")
    eligibility: Eligibility = Field(default_factory=Eligibility, description="Who may apply beyond the region "
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
    payment_schedule: PaymentSchedule = Field(default_factory=PaymentSchedule, description="I1: one payment, or "
                                              "an advance and the balance")
    follow_up: FollowUp = Field(default_factory=FollowUp, description="M1–M3: the survey and outcome reports after "
                                                                      "the result report (사후관리)")
    application_fields: tuple[ApplicationField, ...] = Field((), description="A1: the program's own questions "
                                                             "beyond 서식1, answered in program_fields")
    target_companies: int = Field(ge=1, description="Indicative count; the budget binds, not the count")
    support: SupportTerms
    evidence: tuple[EvidenceLine, ...] = Field(SOS_2024_EVIDENCE, min_length=1, description="E1–E5: the evidence "
                                               "list, each line asked when its condition holds")
    evidence_max_age_months: int = Field(12, ge=1, le=120, description="E6: a document is fresh when issued "
                                         "within this many months before the application date, counted by the "
                                         "calendar (민법 제160조: '1년' is 12 months, not 365 days)")
    evidence_max_age_days: int | None = Field(None, ge=1, description="E6 for a program whose text counts days "
                                              "('발급일로부터 90일 이내'); set, it replaces evidence_max_age_months")
    supplement_days: int = Field(7, ge=1, description="E6: days a company has to supplement, from the day after "
                                 "the request to 24:00 KST of the last, moved past weekends and holidays (민법 "
                                 "제157조, 제159조, 제161조)")
    payment_due_days: int = Field(30, ge=1, description="P3: days from the complete request's receipt, the last "
                                  "moved past weekends and holidays (민법 제161조)")
    clawback_due_days: int = Field(30, ge=1, description="C7/P4: days from the clawback notice (환수 통지) to repay "
                                   "by, moved past weekends and holidays; the guideline gives none (assumption)")
    local_closures: tuple[date, ...] = Field((), description="Days the center is closed beyond Korea's public "
                                             "holidays (the city's own closures): a deadline falling on one moves "
                                             "to the next working day (민법 제161조)")
    pass_mark: int = Field(50, ge=0, le=100, description="F2")
    quantitative_weight_percent: int = Field(30, ge=0, le=100, description="F1; qualitative gets the rest")
    committee_min: int = Field(3, ge=1, description="S3, F6")
    committee_max: int = Field(7, ge=1, description="Committee size at most")
    evaluator_allowance_per_application: Krw = Field(20_000, description="F7")
    evaluator_allowance_cap: Krw = Field(300_000, description="F7")
    support_fields: tuple[ShortText, ...] = Field((), description="Announced support fields (X6); a consulting "
                                                  "field outside them is referred to an operator. Empty: no check")
    document_score: DocumentScoreSheet = Field(default_factory=DocumentScoreSheet, description="별표2 (Q1–Q7)")
    committee_score: CommitteeScoreSheet = Field(default_factory=CommitteeScoreSheet, description="별표3 (S1–S3)")
    conflict_lookback_days: int = Field(1095, ge=0, description="F6: a past employer within this many days "
                                        "before the round opened is a conflict")
    give_up_restriction_days: int = Field(365, ge=0, description="C6/X10 participation restriction")
    duplicate_threshold: float = Field(0.75, gt=0, le=1, description="D3: mean element similarity from which a "
                                       "prior project is a clear duplicate")
    borderline_threshold: float = Field(0.45, gt=0, le=1, description="D3: from here up to the duplicate "
                                        "threshold the committee judges (manual review)")
    national_outlier_z: float = Field(6.0, gt=0, description="D3 over the national prior-project index: a prior "
                                      "project stands out from the crowd of similar plans (and is judged) from this "
                                      "many standard deviations of search relevance above the rest")
    national_semantic_threshold: float = Field(0.89, gt=0, le=1, description="D3 over the national index, by "
                                               "meaning: a prior project whose development goal's sentence vector "
                                               "has at least this cosine with the plan's (and stands out by "
                                               "national_semantic_z) is judged by the committee")
    national_semantic_z: float = Field(3.0, ge=0, description="D3: standard deviations of the goals' cosine above "
                                       "the crowd of similar plans from which a match stands out by meaning")
    assumptions: tuple[str, ...] = Field((), description="Values the source document does not state")

    @model_validator(mode="after")
    def _committee_bounds(self) -> "ProgramDefinition":
        if self.committee_min > self.committee_max:
            raise ValueError("committee_min: more than committee_max")
        return self

    @model_validator(mode="after")
    def _funding_adds_up(self) -> "ProgramDefinition":
        if not self.funding:
            return self
        _each_once([f.source for f in self.funding], "funding: each source once")
        if (total := sum(f.amount for f in self.funding)) != self.budget:
            raise ValueError(f"funding: the sources add up to {total:,} KRW, not the budget {self.budget:,} KRW (L1)")
        return self

    @model_validator(mode="after")
    def _fields_known(self) -> "ProgramDefinition":
        _each_once([f.code for f in self.application_fields], "application_fields: codes must be unique")
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
        _each_once([c.call_id for c in calls], "calls: call ids must be unique")
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

    def working_calendar(self) -> WorkingCalendar:
        """민법 제161조: weekends, public holidays and this program's local closures are not working days."""
        return WorkingCalendar(frozenset(self.local_closures))

    def earliest_fresh_issue(self, application_date: date) -> date:
        """E6: the first issue date still 'within' the evidence age before `application_date` (by the calendar)."""
        if self.evidence_max_age_days is not None:
            return earliest_within(application_date, days=self.evidence_max_age_days)
        return earliest_within(application_date, months=self.evidence_max_age_months)

    @property
    def evidence_max_age(self) -> str:
        """E6's period as the announcement says it: '1년', '6개월', '90일'."""
        if self.evidence_max_age_days is not None:
            return f"{self.evidence_max_age_days}일"
        years, months = divmod(self.evidence_max_age_months, 12)
        return f"{years}년" if not months else f"{self.evidence_max_age_months}개월"

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
