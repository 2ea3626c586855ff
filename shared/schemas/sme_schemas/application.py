"""The application as other services see it: 서식1 and 서식2 without contact details (ARCHITECTURE: no phone
numbers on the bus). Intake's HTTP form adds the contact fields and translates in one place."""
from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from sme_schemas.base import Contract
from sme_schemas.values import BusinessRegistrationNumber, Krw, LongText, ShortText, UtcInstant

IndustryCode = Annotated[
    str, StringConstraints(pattern=r"^[A-U]?[0-9]{2,5}$"),
    Field(description="업종코드: Korean Standard Industrial Classification code", examples=["C29299"]),
]


class PreferenceCertification(StrEnum):
    """The 15 checkboxes of 서식1 (Q5 research institute and Q6 bonuses)."""

    GYEONGGI_PROMISING_SME = "gyeonggi-promising-sme"  # 경기도 유망중소기업
    FAMILY_FRIENDLY = "family-friendly"  # 가족친화경영기업
    GOOD_JOBS = "good-jobs"  # 일자리우수기업
    INNO_BIZ = "inno-biz"  # INNO-BIZ기업
    MAIN_BIZ = "main-biz"  # MAIN-BIZ기업
    GREEN_TECHNOLOGY = "green-technology"  # 녹색기술인증기업
    NET = "net"  # NET 인증기업
    NEP = "nep"  # NEP 인증기업
    SOCIAL_ENTERPRISE = "social-enterprise"  # 사회적기업
    VENTURE = "venture"  # 벤처기업
    WOMEN_OWNED = "women-owned"  # 여성기업
    DISABLED_OWNED = "disabled-owned"  # 장애인기업
    GIMPO_YOUTH_ENTERPRISE = "gimpo-youth-enterprise"  # 김포시 청년기업
    GIMPO_SME_AWARD = "gimpo-sme-award"  # 김포시 우수 중소기업
    RESEARCH_INSTITUTE = "research-institute"  # 기업부설연구소 (Q5)


class Degree(StrEnum):
    NONE = "none"
    BACHELOR = "bachelor"
    MASTER = "master"
    DOCTORATE = "doctorate"


class Licence(StrEnum):
    """Licences that add recognised years to an expert (G1)."""

    PROFESSIONAL_ENGINEER = "professional-engineer"  # 기술사 (+6)
    MANAGEMENT_CONSULTANT = "management-consultant"  # 경영지도사 (+3, once)
    TECHNICAL_CONSULTANT = "technical-consultant"  # 기술지도사
    ATTORNEY = "attorney"  # 변호사
    PATENT_ATTORNEY = "patent-attorney"  # 변리사
    CPA = "cpa"  # 공인회계사
    TAX_ACCOUNTANT = "tax-accountant"  # 세무사
    LABOUR_ATTORNEY = "labour-attorney"  # 공인노무사


class DocumentType(StrEnum):
    """Evidence documents of the guideline (E1–E5)."""

    BUSINESS_REGISTRATION_CERTIFICATE = "business-registration-certificate"  # 사업자등록증명
    NATIONAL_TAX_PAYMENT_CERTIFICATE = "national-tax-payment-certificate"  # 국세 납세증명서
    LOCAL_TAX_PAYMENT_CERTIFICATE = "local-tax-payment-certificate"  # 지방세 납세증명서
    FINANCIAL_STATEMENTS = "financial-statements"  # 최근 1개년 재무제표
    VAT_TAX_BASE_CERTIFICATE = "vat-tax-base-certificate"  # 부가가치세과세표준증명원
    FACTORY_REGISTRATION_CERTIFICATE = "factory-registration-certificate"  # 공장등록증명
    HEALTH_INSURANCE_QUALIFICATION_RECORD = "health-insurance-qualification-record"  # 건강보험자격득실확인서
    HEALTH_INSURANCE_WORKPLACE_CHARGE_RECORD = "health-insurance-workplace-charge-record"  # 사업장가입자별부과내역
    MONTHLY_WITHHOLDING_TAX_RETURN = "monthly-withholding-tax-return"  # 월별원천징수이행상황신고서
    INDIVIDUAL_HEALTH_INSURANCE_STATEMENT = "individual-health-insurance-statement"  # 개인별건강보험고지산출내역
    EMPLOYMENT_INSURANCE_CHARGE_RECORD = "employment-insurance-charge-record"  # 월별보험료부과내역(고용, 산재)
    EXPERT_EMPLOYMENT_CERTIFICATE = "expert-employment-certificate"  # 전문가 재직증명서
    EXPERT_CV = "expert-cv"  # 전문가 이력서
    PAST_PROJECT_RECORD = "past-project-record"  # 과제 수행실적 증빙
    RESEARCH_STAFF_EMPLOYMENT_CERTIFICATE = "research-staff-employment-certificate"  # 연구인력 재직증명서
    RESEARCH_STAFF_DEGREE_CERTIFICATE = "research-staff-degree-certificate"  # 연구인력 학위증명서
    RESEARCH_INSTITUTE_REGISTRATION = "research-institute-registration"  # 기업부설연구소 인정서
    PREFERENCE_CERTIFICATE = "preference-certificate"  # 우대기업 인증서


class CompanyProfile(Contract):
    """기업 현황 of 서식1."""

    name: ShortText = Field(description="기업명", examples=["(주)김포정밀"])
    ceo_name: ShortText = Field(description="대표자 성명 (checked for credit restriction, X2/X8)", examples=["김대표"])
    founded_on: date = Field(description="설립일자", examples=["2012-03-15"])
    business_registration_number: BusinessRegistrationNumber
    business_type: ShortText = Field(description="업태", examples=["제조업"])
    business_items: ShortText = Field(description="종목", examples=["자동차 부품"])
    industry_code: IndustryCode
    main_products: ShortText = Field(description="주생산품", examples=["브레이크 캘리퍼"])
    main_equipment: ShortText = Field(description="주요 보유설비", examples=["CNC 선반 12대"])
    regular_employees: int = Field(ge=0, le=100_000, description="상시종업원수 (Q2, E3)", examples=[23])
    revenue_last_year: Krw = Field(description="전년도 매출액 in KRW (Q1)", examples=[2_450_000_000])
    hq_address: ShortText = Field(description="본사 소재지 (X1)", examples=["경기도 김포시 양촌읍 황금로 123"])
    factory_address: ShortText | None = Field(None, description="사업장(공장) 소재지, if any (X1, E2)")
    gimpo_business_since: date = Field(
        description="Date since which the company has done business in 김포시 (Q3)", examples=["2014-06-01"])


class ProjectManager(Contract):
    """과제책임자 (checked for credit restriction, X2/X8); contact details stay in intake."""

    name: ShortText = Field(description="성명", examples=["박과장"])
    department: ShortText = Field(description="부서", examples=["생산관리팀"])
    title: ShortText = Field(description="직책", examples=["과장"])


class ExpertQualification(Contract):
    """What the expert grade is computed from (G1, G2)."""

    highest_degree: Degree = Field(description="Highest degree held (G1 counts only the highest)")
    consulting_years: int = Field(ge=0, le=70, description="Years of consulting in the field", examples=[11])
    licences: tuple[Licence, ...] = Field((), description="Licences held (G1)")


class Expert(Contract):
    """전문가 활용 내용: the consultant the company chose itself."""

    name: ShortText = Field(description="성명", examples=["이컨설"])
    affiliation: ShortText = Field(description="소속", examples=["한국생산성컨설팅"])
    title: ShortText = Field(description="직위", examples=["수석컨설턴트"])
    qualification: ExpertQualification


class ScheduleItem(Contract):
    month: Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = Field(
        description="Month of the activity (YYYY-MM)", examples=["2024-05"]
    )
    activity: ShortText = Field(description="추진내용", examples=["현장 진단 및 공정 분석"])


class ConsultingPlan(Contract):
    """신청 사항 and 세부내용 of 서식1; the free text is Korean UTF-8."""

    consulting_field: ShortText = Field(description="컨설팅 희망분야", examples=["공정개선"])
    company_difficulties: LongText = Field(description="기업애로사항")
    consultant_field: ShortText = Field(description="컨설턴트 전문분야", examples=["생산관리"])
    cost_excluding_vat: Krw = Field(description="컨설팅 소요비용 (부가세 제외)", examples=[5_000_000])
    sessions: int = Field(ge=1, le=100, description="컨설팅 횟수", examples=[10])
    company_introduction: LongText = Field(description="기업소개")
    project_overview: LongText = Field(description="과제개요 (compared as development content, D1)")
    necessity_and_purpose: LongText = Field(description="필요성 및 목적 (compared as development goal, D1)")
    expected_effects: LongText = Field(description="기대효과")
    consulting_content: LongText = Field(description="컨설팅 내용 (compared as development method, D1)")
    schedule: tuple[ScheduleItem, ...] = Field(min_length=1, description="진행일정")
    planned_completion_on: date = Field(description="완료 예정일")


class BonusClaims(Contract):
    """가점사항: claims that need proof (E5); an unproven claim scores 0."""

    past_public_projects: int = Field(0, ge=0, le=1000, description="과제 수행실적 (건)")
    research_staff: int = Field(0, ge=0, le=10_000, description="연구인력 보유현황 (명), master's/doctorate (Q4)")
    certifications: tuple[PreferenceCertification, ...] = Field((), description="우대사항 checkboxes")

    @model_validator(mode="after")
    def _no_repeats(self) -> "BonusClaims":
        if len(set(self.certifications)) != len(self.certifications):
            raise ValueError("certifications: each checkbox at most once")
        return self


class Declarations(Contract):
    """What the applicant declares; consent (서식2) is mandatory."""

    plans_to_relocate_outside_gimpo: bool = Field(description="사업기간 중 타 시 이전 계획 (X7)")
    consent_given_at: UtcInstant = Field(description="When the 서식2 consent was given")


class EvidenceDocument(Contract):
    """Metadata of one uploaded evidence document; the file itself stays in the document store."""

    document_type: DocumentType
    issued_on: date = Field(description="발급일 (E6: within 365 days before the application date)")
    file_reference: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="Where the file is stored (document-store URI)", examples=["docs://intake/2024/abc123.pdf"])


class EvidenceRequirement(Contract):
    """One line of the evidence list this company must provide (E1–E5)."""

    rule: Annotated[str, StringConstraints(pattern=r"^E[1-5]$")] = Field(
        description="Rule id from DOMAIN.md", examples=["E1"]
    )
    any_of: tuple[DocumentType, ...] = Field(min_length=1, description="Any one of these satisfies the line")
    mandatory: bool = Field(description="False for bonus proof (E5): missing proof scores 0, it does not reject")
    purpose: ShortText = Field(description="Why it is asked for", examples=["국세 납세 확인"])


ProgramFieldCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,40}$")]
ProgramFieldValue = bool | int | Annotated[str, StringConstraints(max_length=2000)]


class ApplicationContent(Contract):
    """The whole application as published: company, plan, expert, claims, declarations and evidence."""

    company: CompanyProfile
    project_manager: ProjectManager
    consulting: ConsultingPlan
    expert: Expert | None = Field(None, description="The consultant, when already chosen (E4, G1–G3)")
    bonus: BonusClaims = BonusClaims()
    declarations: Declarations
    evidence: tuple[EvidenceDocument, ...] = Field((), description="Evidence documents uploaded so far (E1–E6)")
    program_fields: dict[ProgramFieldCode, ProgramFieldValue] = Field(
        default_factory=dict, max_length=50, description="A1: the answers to the program's own questions "
        "(application_fields of its definition), by code; a date as YYYY-MM-DD")
