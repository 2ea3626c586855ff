"""E1–E5: which documents this company must provide."""
from pathlib import Path

import pytest

from intake.domain import required_evidence, unmet_requirements
from sme_schemas.application import (
    BonusClaims, CompanyProfile, DocumentType as D, EvidenceDocument, Expert, PreferenceCertification as C,
)
from sme_programs import ProgramDefinition
from sme_schemas.examples import EXAMPLES

SOS = ProgramDefinition.load(Path(__file__).resolve().parents[2] / "deploy/programs/gimpo-sos-2024.json")

BASE = EXAMPLES["ApplicationSubmitted"]["content"]


def company(**changes) -> CompanyProfile:
    return CompanyProfile.model_validate({**BASE["company"], **changes})


EXPERT = Expert.model_validate(BASE["expert"])
E1 = [(D.BUSINESS_REGISTRATION_CERTIFICATE,), (D.NATIONAL_TAX_PAYMENT_CERTIFICATE,),
      (D.LOCAL_TAX_PAYMENT_CERTIFICATE,), (D.FINANCIAL_STATEMENTS, D.VAT_TAX_BASE_CERTIFICATE)]
WITH_EMPLOYEES = [(D.MONTHLY_WITHHOLDING_TAX_RETURN, D.INDIVIDUAL_HEALTH_INSURANCE_STATEMENT,
                   D.EMPLOYMENT_INSURANCE_CHARGE_RECORD)]
NO_EMPLOYEES = [(D.HEALTH_INSURANCE_QUALIFICATION_RECORD,), (D.HEALTH_INSURANCE_WORKPLACE_CHARGE_RECORD,)]


@pytest.mark.parametrize("factory, employees, expert, bonus, expected", [
    # E1 always; E3 'any one of three' with employees
    (None, 5, None, BonusClaims(), E1 + WITH_EMPLOYEES),
    # E2 factory; E3 with no employees needs both records
    ("경기도 김포시 대곶면 1", 0, None, BonusClaims(), E1 + [(D.FACTORY_REGISTRATION_CERTIFICATE,)] + NO_EMPLOYEES),
    # the boundary of E3: one employee is 'with employees'
    (None, 1, None, BonusClaims(), E1 + WITH_EMPLOYEES),
    # E4 named expert
    (None, 5, EXPERT, BonusClaims(), E1 + WITH_EMPLOYEES + [(D.EXPERT_EMPLOYMENT_CERTIFICATE, D.EXPERT_CV)]),
    # E5 each bonus claim needs its proof
    (None, 5, None, BonusClaims(past_public_projects=1, research_staff=2,
                                certifications=(C.RESEARCH_INSTITUTE, C.VENTURE)),
     E1 + WITH_EMPLOYEES + [(D.PAST_PROJECT_RECORD,), (D.RESEARCH_STAFF_EMPLOYMENT_CERTIFICATE,),
                            (D.RESEARCH_STAFF_DEGREE_CERTIFICATE,), (D.RESEARCH_INSTITUTE_REGISTRATION,),
                            (D.PREFERENCE_CERTIFICATE,)]),
])
def test_evidence_list(factory, employees, expert, bonus, expected):
    lines = required_evidence(company(factory_address=factory, regular_employees=employees), expert, bonus,
                              SOS.evidence)
    assert [line.any_of for line in lines] == expected


def test_bonus_proof_is_never_mandatory_e5():
    lines = required_evidence(company(), None, BonusClaims(past_public_projects=3, certifications=(C.VENTURE,)),
                              SOS.evidence)
    assert {line.rule for line in lines if not line.mandatory} == {"E5"}
    assert all(line.mandatory for line in lines if line.rule != "E5")


def test_unmet_lines_are_those_no_document_satisfies():
    lines = required_evidence(company(factory_address=None, regular_employees=3), None, BonusClaims(), SOS.evidence)
    docs = tuple(EvidenceDocument(document_type=t, issued_on="2024-03-01", file_reference=f"docs://{t}")
                 for t in (D.BUSINESS_REGISTRATION_CERTIFICATE, D.VAT_TAX_BASE_CERTIFICATE,
                           D.INDIVIDUAL_HEALTH_INSURANCE_STATEMENT))
    unmet = unmet_requirements(lines, docs)
    assert [u.any_of for u in unmet] == [(D.NATIONAL_TAX_PAYMENT_CERTIFICATE,), (D.LOCAL_TAX_PAYMENT_CERTIFICATE,)]


def test_the_evidence_list_is_the_programs_own():
    """E1–E5 as program data: a program that asks the factory registration of every company and no local-tax
    certificate gets exactly its lines; SOS's list (the tests above) is the guideline's, from its program file."""
    from pydantic import ValidationError

    from sme_programs import EvidenceLine

    sos = SOS.model_dump(mode="json")
    lines = tuple(line for line in SOS.evidence if D.LOCAL_TAX_PAYMENT_CERTIFICATE not in line.any_of) + (
        EvidenceLine(rule="E2", purpose="공장등록증명 (제조 현장 필수)", any_of=(D.FACTORY_REGISTRATION_CERTIFICATE,)),)
    asked = required_evidence(company(factory_address=None, regular_employees=3), None, BonusClaims(), lines)
    assert [line.any_of for line in asked] == [E1[0], E1[1], E1[3], *WITH_EMPLOYEES,
                                               (D.FACTORY_REGISTRATION_CERTIFICATE,)]
    with pytest.raises(ValidationError, match=r"evidence\.0\.rule"):
        ProgramDefinition.model_validate({**sos, "evidence": [{"rule": "E6", "purpose": "x",
                                                                "any_of": ["expert-cv"]}]})
    with pytest.raises(ValidationError, match=r"evidence\.0\.when"):
        ProgramDefinition.model_validate({**sos, "evidence": [{"rule": "E1", "purpose": "x", "any_of": ["expert-cv"],
                                                                "when": "on-tuesdays"}]})
