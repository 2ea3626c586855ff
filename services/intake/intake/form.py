"""The HTTP form (서식1 + 서식2 + evidence metadata) and its translation to the published content.

Contact details are part of the form but never leave intake (no phone numbers on the bus)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from sme_schemas.application import (
    ApplicationContent, BonusClaims, CompanyProfile, ConsultingPlan, Declarations, EvidenceDocument, Expert,
    ProgramFieldCode, ProgramFieldValue, ProjectManager,
)
from sme_schemas.base import Contract
from sme_schemas.values import ProgramId
from pydantic_core import PydanticCustomError

Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^0[0-9]{1,2}-?[0-9]{3,4}-?[0-9]{4}$"),
                  Field(description="Korean phone number", examples=["031-987-6543"])]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
                  Field(examples=["pm@gimpo-precision.co.kr"])]


def _consent_given(value: bool) -> bool:
    if value is not True:
        raise PydanticCustomError("A1", "the consent to collect and use personal and company data (서식2) is mandatory")
    return value


class ProjectManagerForm(ProjectManager):
    phone: Phone
    email: Email


class ExpertForm(Expert):
    contact: Phone = Field(description="연락처")


class DeclarationsForm(Contract):
    plans_to_relocate_outside_gimpo: bool = Field(description="사업기간 중 타 시 이전 계획 (X7)")
    consent_to_data_use: Annotated[bool, AfterValidator(_consent_given)] = Field(
        description="서식2: consent to the collection, use and provision of personal and company data")


class ApplicationForm(Contract):
    """What a company (or an operator, for a paper application) submits."""

    program_id: ProgramId
    company: CompanyProfile
    project_manager: ProjectManagerForm
    consulting: ConsultingPlan
    expert: ExpertForm | None = None
    bonus: BonusClaims = BonusClaims()
    declarations: DeclarationsForm
    evidence: tuple[EvidenceDocument, ...] = Field((), max_length=60)
    program_fields: dict[ProgramFieldCode, ProgramFieldValue] = Field(
        default_factory=dict, max_length=50, description="The program's own questions (its application_fields), "
        "by code; checked against the program when submitted (A1)")


class ContactDetails(Contract):
    """What intake keeps to itself."""

    project_manager_phone: str
    project_manager_email: str
    expert_contact: str | None = None


def to_content(form: ApplicationForm, *, consent_at: datetime) -> ApplicationContent:
    """The published part of the form."""
    expert = None
    if form.expert is not None:
        expert = Expert(**form.expert.model_dump(exclude={"contact"}))
    return ApplicationContent(
        company=form.company,
        project_manager=ProjectManager(**form.project_manager.model_dump(exclude={"phone", "email"})),
        consulting=form.consulting, expert=expert, bonus=form.bonus,
        declarations=Declarations(plans_to_relocate_outside_gimpo=form.declarations.plans_to_relocate_outside_gimpo,
                                  consent_given_at=consent_at),
        evidence=form.evidence, program_fields=form.program_fields,
    )


def to_contacts(form: ApplicationForm) -> ContactDetails:
    return ContactDetails(project_manager_phone=form.project_manager.phone,
                          project_manager_email=form.project_manager.email,
                          expert_contact=form.expert.contact if form.expert else None)
