"""Program definitions as data (DOMAIN.md 'Program parameters'), one module per stage; every value a program sets
comes from its file (deploy/programs/*.json), none from code."""
from sme_programs.calls import ApplicationWindow, Call, RollingCall
from sme_programs.definition import ProgramDefinition, Programs, load_programs
from sme_programs.eligibility import SME_REVENUE_CEILINGS, Eligibility, RevenueCeiling, full_years, ksic_with_section
from sme_programs.evidence import EvidenceCondition, EvidenceLine
from sme_programs.follow_up import FollowUp, OutcomeQuestion, SurveyItem
from sme_programs.funding import FundingSource, PaymentSchedule, SupportTerms, split_by_weight
from sme_programs.questions import ApplicationField, program_field_problems, yes_no_or_number_problem
from sme_programs.scoring import Band, BonusItem, CommitteeScoreSheet, DocumentScoreSheet, RubricItem

__all__ = ["ApplicationField", "ApplicationWindow", "Band", "BonusItem", "Call", "CommitteeScoreSheet",
           "DocumentScoreSheet", "Eligibility", "EvidenceCondition", "EvidenceLine", "FollowUp", "FundingSource",
           "OutcomeQuestion", "PaymentSchedule", "ProgramDefinition", "Programs", "RevenueCeiling", "RollingCall",
           "RubricItem", "SME_REVENUE_CEILINGS", "SupportTerms", "SurveyItem", "full_years", "ksic_with_section",
           "load_programs", "program_field_problems", "split_by_weight", "yes_no_or_number_problem"]
