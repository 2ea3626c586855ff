"""X1–X11 with E1–E6, G1–G3 and D3 as one decision: each rule at its boundary, and the precedence between them."""
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from screening.lookup.messages import LookupResult, Registry, Verdict
from screening.rules import (
    Case, ScreeningOutcome, Restriction, Ruling, awaited, can_change_the_decision, decide, decide_recheck,
)
from sme_schemas.application import (
    ApplicationContent, DocumentType as D, EvidenceDocument, EvidenceRequirement, PreferenceCertification as C,
)
from sme_schemas.examples import EXAMPLES
from sme_programs import Eligibility, ProgramDefinition, ksic_with_section
from sme_schemas.screening import Finding

PROGRAM = ProgramDefinition.load(Path(__file__).resolve().parents[2] / "deploy/programs/gimpo-sos-2024.json")
SUBMITTED = datetime(2024, 4, 2, 1, 0, tzinfo=timezone.utc)  # 2024-04-02 10:00 KST
APPLIED = date(2024, 4, 2)
NOW = SUBMITTED + timedelta(hours=1)
BASE = ApplicationContent.model_validate(EXAMPLES["ApplicationSubmitted"]["content"])
REQUIRED = (
    EvidenceRequirement(rule="E1", any_of=(D.BUSINESS_REGISTRATION_CERTIFICATE,), mandatory=True, purpose="사업자"),
    EvidenceRequirement(rule="E1", any_of=(D.NATIONAL_TAX_PAYMENT_CERTIFICATE,), mandatory=True, purpose="국세"),
    EvidenceRequirement(rule="E5", any_of=(D.RESEARCH_STAFF_EMPLOYMENT_CERTIFICATE,), mandatory=False, purpose="연구"),
    EvidenceRequirement(rule="E5", any_of=(D.PREFERENCE_CERTIFICATE,), mandatory=False, purpose="우대"),
)
CLEAR = {r: LookupResult.clear("X3", f"{r.value} clear") for r in Registry}


def doc(kind: D, days_before: int = 5) -> EvidenceDocument:
    return EvidenceDocument(document_type=kind, issued_on=APPLIED - timedelta(days=days_before),
                            file_reference=f"docs://{kind.value}")


FRESH = (doc(D.BUSINESS_REGISTRATION_CERTIFICATE), doc(D.NATIONAL_TAX_PAYMENT_CERTIFICATE),
         doc(D.RESEARCH_STAFF_EMPLOYMENT_CERTIFICATE), doc(D.PREFERENCE_CERTIFICATE))


def content(**changes) -> ApplicationContent:
    """The example application with complete, fresh evidence, and the given parts changed."""
    data = BASE.model_dump()
    data["evidence"] = [d.model_dump() for d in FRESH]
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target = data
        for part in parents:
            target = target[part]
        target[leaf] = value
    return ApplicationContent.model_validate(data)


def case(c: ApplicationContent | None = None, **kw) -> Case:
    return Case(content=c or content(), required_evidence=REQUIRED, submitted_at=SUBMITTED, program=PROGRAM,
                now=kw.pop("now", NOW), answers=kw.pop("answers", CLEAR), **kw)


def rules_of(findings) -> set[str]:
    return {f.rule for f in findings}


def test_a_clean_application_passes_with_every_check_recorded():
    decision = decide(case())
    assert decision.outcome is ScreeningOutcome.PASSED
    assert {"X1", "X6", "X7", "X10", "G2", "E6"} <= rules_of(decision.findings)
    assert (
        decision.expert_grade == "2" and decision.facts.company_name
    )  # 11y + master 2 + licence 3 = 16 == BASE.company.name


# X1 -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("hq, factory, eligible", [
    ("경기도 김포시 양촌읍 황금로 1", None, True),
    ("서울특별시 강서구 공항대로 1", "경기도 김포시 대곶면 대명항로 45", True),  # the factory alone is enough
    ("서울특별시 강서구 공항대로 1", None, False),
    ("인천광역시 서구 1", "경기도 부천시 1", False),
])
def test_x1_hq_or_factory_in_the_city(hq, factory, eligible):
    decision = decide(case(content(company__hq_address=hq, company__factory_address=factory)))
    assert (decision.outcome is ScreeningOutcome.PASSED) is eligible
    if not eligible:
        assert rules_of(decision.findings) == {"X1"}


@pytest.mark.parametrize("since, eligible", [
    (date(2024, 3, 24), True),  # the day before the announcement (2024-03-25)
    (date(2024, 3, 25), True),  # in the city on the announcement day itself: 공고일 현재
    (date(2024, 3, 26), False),  # moved in the day after
])
def test_x1_in_the_city_as_of_the_announcement_date(since, eligible):
    decision = decide(case(content(company__gimpo_business_since=since)))
    assert (decision.outcome is ScreeningOutcome.PASSED) is eligible
    if not eligible:
        assert rules_of(decision.findings) == {"X1"} and "공고일(2024-03-25) 현재" in decision.findings[0].detail


# X1: the program's own eligibility criteria (program data) -------------------------------------------------
def program_with(**criteria) -> ProgramDefinition:
    return PROGRAM.model_copy(update={"eligibility": Eligibility(**{"sme": True, **criteria})})


def decided(program: ProgramDefinition, **changes):
    return decide(Case(content=content(**changes), required_evidence=REQUIRED, submitted_at=SUBMITTED,
                       program=program, now=NOW, answers=CLEAR))


def x1_problems(decision) -> list[str]:
    if decision.outcome is not ScreeningOutcome.REJECTED:
        return []
    return [f.detail for f in decision.findings if f.rule == "X1"]


@pytest.mark.parametrize("industry, revenue, sme", [
    ("C30399", 100_000_000_000, True), ("C30399", 100_000_000_001, False),  # other transport equipment: 1,000억
    ("30399", 100_000_000_001, False),  # the same industry without its section letter
    ("C14110", 150_000_000_000, True), ("C14110", 150_000_000_001, False),  # clothing: 1,500억
    ("C27", 80_000_000_000, True), ("C27", 80_000_000_001, False),  # medical and precision instruments: 800억
    ("M71", 60_000_000_000, True), ("M71", 60_000_000_001, False),  # professional services: 600억
    ("I56", 40_000_000_000, True), ("I56", 40_000_000_001, False),  # restaurants: 400억
    ("T97", 40_000_000_001, False),  # named by no line: the lowest ceiling
])
def test_x1_an_sme_by_the_size_test_of_its_industry(industry, revenue, sme):
    decision = decided(PROGRAM, company__industry_code=industry, company__revenue_last_year=revenue)
    assert (decision.outcome is ScreeningOutcome.PASSED) is sme
    if not sme:
        [problem] = x1_problems(decision)
        assert "eligibility.sme" in problem and f"{revenue:,}" in problem


def test_x1_the_size_test_can_be_switched_off_or_given_by_the_program():
    huge = {"company__revenue_last_year": 500_000_000_000}
    assert decided(program_with(sme=False), **huge).outcome is ScreeningOutcome.PASSED
    own = program_with(revenue_ceilings=[{"industries": ["C"], "revenue_at_most": 500_000_000_000}])
    assert decided(own, **huge).outcome is ScreeningOutcome.PASSED
    assert x1_problems(decided(own, company__revenue_last_year=500_000_000_001))


@pytest.mark.parametrize("industry, eligible", [("C30399", True), ("30399", True), ("C10", True), ("G46101", False),
                                                ("35110", False), ("M71", False)])
def test_x1_manufacturers_only(industry, eligible):
    decision = decided(program_with(industries=["C"]), company__industry_code=industry)
    assert (decision.outcome is ScreeningOutcome.PASSED) is eligible
    if not eligible:
        assert "eligibility.industries" in x1_problems(decision)[0]


# The example company was founded on 2012-03-15; SOS 2024 was announced on 2024-03-25: 12 full years.
@pytest.mark.parametrize("at_least, at_most, founded, eligible", [
    (12, None, "2012-03-15", True), (13, None, "2012-03-15", False),
    (None, 12, "2012-03-15", True), (None, 11, "2012-03-15", False),
    (None, 3, "2021-03-25", True),  # three years on the announcement day itself
    (None, 2, "2021-03-25", False), (None, 2, "2021-03-26", True),
])
def test_x1_company_age_on_the_announcement_date(at_least, at_most, founded, eligible):
    decision = decided(program_with(founded_years_at_least=at_least, founded_years_at_most=at_most),
                       company__founded_on=founded)
    assert (decision.outcome is ScreeningOutcome.PASSED) is eligible
    if not eligible:
        assert "eligibility.founded_years_at" in x1_problems(decision)[0]


def test_x1_a_social_economy_program_wants_the_certification_claimed_and_proven():
    social = program_with(certified_as=[C.SOCIAL_ENTERPRISE])
    assert decided(social, bonus__certifications=[C.SOCIAL_ENTERPRISE]).outcome is ScreeningOutcome.PASSED
    assert "eligibility.certified_as" in x1_problems(decided(social, bonus__certifications=[C.VENTURE]))[0]
    stale = [d.model_dump() for d in FRESH[:3]] + [doc(D.PREFERENCE_CERTIFICATE, days_before=400).model_dump()]
    unproven = decided(social, bonus__certifications=[C.SOCIAL_ENTERPRISE], evidence=stale)
    assert "E5" in x1_problems(unproven)[0]


def test_x1_every_failed_criterion_is_named_and_no_registry_is_asked():
    strict = program_with(industries=["G"], founded_years_at_least=20, certified_as=[C.SOCIAL_ENTERPRISE])
    decision = decide(Case(content=content(company__revenue_last_year=200_000_000_000), required_evidence=REQUIRED,
                           submitted_at=SUBMITTED, program=strict, now=NOW, answers={}))
    assert decision.outcome is ScreeningOutcome.REJECTED
    assert [p.split("(eligibility.")[1].split(")")[0] for p in x1_problems(decision)] == [
        "sme", "industries", "founded_years_at_least", "certified_as"]


@pytest.mark.parametrize("eligibility, named", [
    ({"industries": ["manufacturing"]}, "industries"),
    ({"founded_years_at_least": 5, "founded_years_at_most": 3}, "founded_years_at_least"),
    ({"revenue_ceilings": [{"industries": [], "revenue_at_most": 1}]}, "industries"),
    ({"certified_as": ["social-economy"]}, "certified_as"),
    ({"smes_only": True}, "smes_only"),
])
def test_a_malformed_eligibility_is_refused_naming_the_field(eligibility, named):
    with pytest.raises(ValueError, match=named) as refused:
        ProgramDefinition.model_validate({**PROGRAM.model_dump(mode="json"),
                                          "eligibility": {"sme": True, **eligibility}})
    assert "eligibility" in str(refused.value)


@pytest.mark.parametrize("code, with_section", [("01110", "A01110"), ("03", "A03"), ("10", "C10"), ("34", "C34"),
                                                ("35", "D35"), ("99", "U99"), ("04", "04"), ("C30399", "C30399")])
def test_ksic_codes_get_their_section_letter(code, with_section):
    assert ksic_with_section(code) == with_section


# X7 -------------------------------------------------------------------------------------------------------
def test_x7_a_declared_relocation_excludes_without_asking_any_registry():
    decision = decide(case(content(declarations__plans_to_relocate_outside_gimpo=True), answers={}))
    assert decision.outcome is ScreeningOutcome.REJECTED and rules_of(decision.findings) == {"X7"}


# X10 ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("approved, until, excluded", [
    (APPLIED - timedelta(days=30), APPLIED, True),               # last day of the restriction
    (APPLIED - timedelta(days=30), APPLIED - timedelta(days=1), False),  # ended the day before
    (APPLIED, APPLIED + timedelta(days=365), True),              # approved on the application day
    (APPLIED + timedelta(days=1), APPLIED + timedelta(days=365), False),  # approved after applying
    (APPLIED - timedelta(days=30), None, False),                 # give-up without a restriction
])
def test_x10_participation_restriction_on_the_application_date(approved, until, excluded):
    decision = decide(case(restrictions=(Restriction(approved, until),)))
    assert (decision.outcome is ScreeningOutcome.REJECTED) is excluded
    if excluded:
        assert rules_of(decision.findings) == {"X10"}


def test_x10_the_application_date_is_the_korean_calendar_day():
    late_evening_utc = datetime(2024, 4, 1, 16, 0, tzinfo=timezone.utc)  # 2024-04-02 01:00 KST
    restriction = Restriction(date(2023, 4, 2), date(2024, 4, 1))
    decision = decide(Case(content=content(), required_evidence=REQUIRED, submitted_at=late_evening_utc,
                           program=PROGRAM, now=NOW, answers=CLEAR, restrictions=(restriction,)))
    assert decision.outcome is ScreeningOutcome.PASSED


# G1–G3 ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("degree, years, outcome", [
    ("master", 7, ScreeningOutcome.PASSED),     # 7 + 2 = 9: grade 3
    ("bachelor", 9, ScreeningOutcome.PASSED),   # 9 years without a master's: grade 3
    ("bachelor", 8, ScreeningOutcome.REJECTED),  # grade 4
    ("master", 6, ScreeningOutcome.REJECTED),   # 6 + 2 = 8: grade 4
    ("none", 30, ScreeningOutcome.REJECTED),    # no bachelor's degree: no grade at all
])
def test_g2_expert_grade_three_or_better(degree, years, outcome):
    c = content(expert__qualification={"highest_degree": degree, "consulting_years": years, "licences": []})
    decision = decide(case(c))
    assert decision.outcome is outcome
    if outcome is ScreeningOutcome.REJECTED:
        assert rules_of(decision.findings) == {"G2"} and "다른 전문가" in decision.findings[0].detail


def test_g2_the_minimum_grade_is_program_data():
    lenient = PROGRAM.model_copy(update={"support": PROGRAM.support.model_copy(update={"minimum_expert_grade": 4})})
    c = content(expert__qualification={"highest_degree": "bachelor", "consulting_years": 8, "licences": []})
    assert decide(case(c)).outcome is ScreeningOutcome.REJECTED
    assert decide(Case(content=c, required_evidence=REQUIRED, submitted_at=SUBMITTED, program=lenient, now=NOW,
                       answers=CLEAR)).outcome is not ScreeningOutcome.REJECTED


def test_no_expert_named_yet_passes_without_a_grade():
    decision = decide(case(content(expert=None)))
    assert decision.outcome is ScreeningOutcome.PASSED and decision.expert_grade is None


# X6 -------------------------------------------------------------------------------------------------------
def test_x6_a_field_outside_the_announced_ones_goes_to_an_operator_not_to_rejection():
    decision = decide(case(content(consulting__consulting_field="해외부동산 투자자문")))
    assert decision.outcome is ScreeningOutcome.MANUAL_REVIEW and rules_of(decision.questions) == {"X6"}


def test_x6_without_announced_fields_nothing_is_flagged():
    open_call = PROGRAM.model_copy(update={"support_fields": ()})
    decision = decide(
        Case(
            content=content(consulting__consulting_field="해외부동산 투자자문"),
            required_evidence=REQUIRED,
            submitted_at=SUBMITTED,
            program=open_call,
            now=NOW,
            answers=CLEAR,
        )
    )
    assert decision.outcome is ScreeningOutcome.PASSED


# E6 -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("days_before, outcome", [(365, ScreeningOutcome.PASSED), (366, ScreeningOutcome.PASSED),
                                                  (367, ScreeningOutcome.SUPPLEMENT_REQUESTED)])
def test_e6_a_calendar_year_before_counts_the_day_before_it_does_not(days_before, outcome):
    # 2023-04-02 is 366 days before 2024-04-02 (a leap day between) and a calendar year before: fresh (민법 제160조)
    evidence = [doc(D.BUSINESS_REGISTRATION_CERTIFICATE), doc(D.NATIONAL_TAX_PAYMENT_CERTIFICATE, days_before)]
    decision = decide(case(content(evidence=[d.model_dump() for d in evidence])))
    assert decision.outcome is outcome
    if outcome is ScreeningOutcome.SUPPLEMENT_REQUESTED:
        assert [(d.rule, d.problem.value) for d in decision.documents] == [("E6", "stale")]


def test_e6_a_supplement_issued_after_the_application_passes_before_the_deadline():
    """Asked to supplement a stale certificate, the company files one issued three days after the application."""
    stale = [doc(D.BUSINESS_REGISTRATION_CERTIFICATE), doc(D.NATIONAL_TAX_PAYMENT_CERTIFICATE, 400)]
    asked = decide(case(content(evidence=[d.model_dump() for d in stale])))
    assert asked.outcome is ScreeningOutcome.SUPPLEMENT_REQUESTED
    filed = NOW + timedelta(days=3)
    renewed = [stale[0], doc(D.NATIONAL_TAX_PAYMENT_CERTIFICATE, -3)]
    deadline = PROGRAM.working_calendar().deadline(NOW, days=PROGRAM.supplement_days)
    decision = decide(case(content(evidence=[d.model_dump() for d in renewed]), now=filed,
                           supplement_deadline=deadline))
    assert decision.outcome is ScreeningOutcome.PASSED
    # the same certificate read after the deadline is too late; one dated after the day it is read is no evidence
    late = decide(case(content(evidence=[d.model_dump() for d in stale]), now=deadline + timedelta(seconds=1),
                       supplement_deadline=deadline))
    assert late.outcome is ScreeningOutcome.REJECTED and rules_of(late.findings) == {"E6"}
    assert "24:00 KST" in late.findings[0].detail
    future = decide(case(content(evidence=[d.model_dump() for d in renewed])))
    assert future.outcome is ScreeningOutcome.SUPPLEMENT_REQUESTED


def test_e6_supplement_is_requested_while_the_registries_are_still_asked():
    evidence = [doc(D.BUSINESS_REGISTRATION_CERTIFICATE).model_dump()]
    decision = decide(case(content(evidence=evidence), answers={r: None for r in Registry}))
    assert decision.outcome is ScreeningOutcome.SUPPLEMENT_REQUESTED
    assert [(d.rule, d.problem.value) for d in decision.documents] == [("E1", "missing")]
    assert set(decision.waiting_on) == set(Registry)


@pytest.mark.parametrize("now_offset, outcome", [
    (timedelta(0), ScreeningOutcome.SUPPLEMENT_REQUESTED),  # at the deadline itself: still in time
    (timedelta(microseconds=1), ScreeningOutcome.REJECTED),  # just after: incomplete
])
def test_e6_no_supplement_by_the_deadline_rejects_as_incomplete(now_offset, outcome):
    deadline = SUBMITTED + timedelta(days=7)
    evidence = [doc(D.BUSINESS_REGISTRATION_CERTIFICATE).model_dump()]
    decision = decide(case(content(evidence=evidence), now=deadline + now_offset, supplement_deadline=deadline))
    assert decision.outcome is outcome
    if outcome is ScreeningOutcome.REJECTED:
        assert rules_of(decision.findings) == {"E6"}


def test_e6_a_complete_supplement_after_the_deadline_passed_is_not_rejected():
    deadline = SUBMITTED + timedelta(days=7)
    decision = decide(case(now=deadline + timedelta(days=1), supplement_deadline=deadline))
    assert decision.outcome is ScreeningOutcome.PASSED


# E5: unproven claims score 0 in the facts evaluation receives ----------------------------------------------
def test_e5_unproven_bonus_claims_count_as_zero_for_evaluation():
    evidence = [
        doc(D.BUSINESS_REGISTRATION_CERTIFICATE).model_dump(),
        doc(D.NATIONAL_TAX_PAYMENT_CERTIFICATE).model_dump(),
    ]
    facts = decide(case(content(evidence=evidence))).facts
    assert facts.research_staff == 0 and facts.certifications == ()
    proven = decide(case()).facts
    assert proven.research_staff == BASE.bonus.research_staff
    assert set(proven.certifications) == {C.INNO_BIZ, C.VENTURE}


# Lookups: X2, X3, X5, X8, X9 and the wait ------------------------------------------------------------------
def excluded(rule: str) -> LookupResult:
    return LookupResult(verdict=Verdict.EXCLUDED, findings=(Finding(rule=rule, detail=f"{rule} record"),))


def referred(rule: str) -> LookupResult:
    return LookupResult(verdict=Verdict.REFER, findings=(Finding(rule=rule, detail=f"{rule} unclear"),))


@pytest.mark.parametrize("registry, rule", [(Registry.CREDIT, "X2"), (Registry.BUSINESS_STATUS, "X3"),
                                            (Registry.DUPLICATE_PROJECTS, "X5"), (Registry.SANCTIONS, "X8"),
                                            (Registry.SANCTIONS, "X9")])
def test_a_registry_record_excludes_even_while_another_registry_is_silent(registry, rule):
    others_silent = {r: None for r in Registry if r is not registry}
    decision = decide(case(answers={registry: excluded(rule), **others_silent}))
    assert decision.outcome is ScreeningOutcome.REJECTED and rules_of(decision.findings) == {rule}


def test_without_an_answer_an_application_waits_never_passes():
    decision = decide(case(answers={**CLEAR, Registry.SANCTIONS: None}))
    assert decision.outcome is ScreeningOutcome.WAITING and decision.waiting_on == (Registry.SANCTIONS,)
    assert decision.facts is None


def test_borderline_duplicate_waits_for_an_operator_then_follows_the_ruling():
    answers = {**CLEAR, Registry.DUPLICATE_PROJECTS: referred("D3")}
    assert decide(case(answers=answers)).outcome is ScreeningOutcome.MANUAL_REVIEW
    at = NOW + timedelta(hours=1)
    cleared = decide(case(answers=answers, rulings={"D3": Ruling("D3", False, "kim", "목표가 다름", at)}))
    assert cleared.outcome is ScreeningOutcome.PASSED
    assert "kim" in next(f.detail for f in cleared.findings if f.rule == "D3")
    rejected = decide(case(answers=answers, rulings={"D3": Ruling("D3", True, "kim", "같은 과제", at)}))
    assert rejected.outcome is ScreeningOutcome.REJECTED and rejected.decided_by == "operator"
    assert "같은 과제" in rejected.findings[0].detail


def test_x4_an_operator_may_exclude_for_false_statements_without_a_referral():
    ruling = Ruling("X4", True, "lee", "매출액 허위 기재 (재무제표 대조)", NOW)
    decision = decide(case(rulings={"X4": ruling}))
    assert decision.outcome is ScreeningOutcome.REJECTED and rules_of(decision.findings) == {"X4"}
    assert decision.decided_by == "operator"


def test_precedence_exclusion_over_supplement_over_wait_over_review():
    missing = content(evidence=[doc(D.BUSINESS_REGISTRATION_CERTIFICATE).model_dump()])
    review = {Registry.DUPLICATE_PROJECTS: referred("D3")}
    assert (decide(case(missing, answers={**review, Registry.CREDIT: excluded("X2")})).outcome
            is ScreeningOutcome.REJECTED)
    assert (decide(case(missing, answers={**review, Registry.CREDIT: None})).outcome
            is ScreeningOutcome.SUPPLEMENT_REQUESTED)
    assert decide(case(answers={**review, Registry.CREDIT: None})).outcome is ScreeningOutcome.WAITING
    assert decide(case(answers={**CLEAR, **review})).outcome is ScreeningOutcome.MANUAL_REVIEW


# X11 ------------------------------------------------------------------------------------------------------
def test_x11_recheck_decides_on_the_lookups_alone():
    assert decide_recheck(CLEAR, {}).outcome is ScreeningOutcome.PASSED
    assert decide_recheck({**CLEAR, Registry.SANCTIONS: excluded("X9")}, {}).outcome is ScreeningOutcome.REJECTED
    assert decide_recheck({**CLEAR, Registry.CREDIT: None}, {}).outcome is ScreeningOutcome.WAITING
    assert (decide_recheck({**CLEAR, Registry.DUPLICATE_PROJECTS: referred("D3")}, {}).outcome
            is ScreeningOutcome.MANUAL_REVIEW)


# Properties ------------------------------------------------------------------------------------------------
answer = st.sampled_from([None, "clear", "excluded", "refer"])


def _answer(kind, registry):
    return {None: None, "clear": CLEAR[registry], "excluded": excluded("X2"), "refer": referred("D3")}[kind]


@settings(max_examples=200, deadline=None)
@given(st.tuples(answer, answer, answer, answer), st.booleans(), st.booleans())
def test_never_passed_without_every_answer_and_never_both_waiting_and_decided(kinds, relocating, stale):
    answers = {r: _answer(k, r) for r, k in zip(Registry, kinds)}
    evidence = [doc(D.BUSINESS_REGISTRATION_CERTIFICATE), doc(D.NATIONAL_TAX_PAYMENT_CERTIFICATE, 400 if stale else 5)]
    c = content(declarations__plans_to_relocate_outside_gimpo=relocating, evidence=[d.model_dump() for d in evidence])
    decision = decide(case(c, answers=answers))
    if decision.outcome is ScreeningOutcome.PASSED:
        assert all(kind == "clear" for kind in kinds) and not relocating and not stale
    if decision.outcome is ScreeningOutcome.REJECTED:
        assert relocating or "excluded" in kinds
    if relocating or "excluded" in kinds:
        assert decision.outcome is ScreeningOutcome.REJECTED
    if None in kinds and decision.outcome is ScreeningOutcome.WAITING:
        assert decision.waiting_on


# --- A1/X1: the program's own questions ----------------------------------------------------------------------------

SANDBOX_FIELDS = (
    {"code": "regulatory-exemption", "title": "규제특례 지정 여부", "kind": "yes-no"},
    {"code": "exemption-designated-on", "title": "규제특례 지정일", "kind": "date"},
    {"code": "pilot-sites", "title": "실증 장소 수", "kind": "count", "required": False},
    {"code": "track", "title": "특례 유형", "kind": "choice", "choices": ["실증특례", "임시허가"]},
)


def sandbox(**eligibility) -> ProgramDefinition:
    return ProgramDefinition.model_validate({**PROGRAM.model_dump(mode="json"), "application_fields": SANDBOX_FIELDS,
                                             "eligibility": {**PROGRAM.eligibility.model_dump(mode="json"),
                                                             **eligibility}})


ANSWERS = {"regulatory-exemption": True, "exemption-designated-on": "2024-01-15", "track": "실증특례"}


def test_x1_a_program_question_that_must_be_answered_yes():
    program = sandbox(answered_yes=["regulatory-exemption"])
    assert decided(program, program_fields=ANSWERS).outcome is ScreeningOutcome.PASSED
    refused = x1_problems(decided(program, program_fields={**ANSWERS, "regulatory-exemption": False}))
    assert refused == ["규제특례 지정 여부: '예'여야 신청할 수 있습니다 (eligibility.answered_yes, "
                       "program_fields.regulatory-exemption)"]
    assert (decided(sandbox(), program_fields={**ANSWERS, "regulatory-exemption": False}).outcome
            is ScreeningOutcome.PASSED)


@pytest.mark.parametrize("answers, problems", [
    (ANSWERS, []),
    ({**ANSWERS, "pilot-sites": 3}, []),
    ({k: v for k, v in ANSWERS.items() if k != "track"}, [("program_fields.track", "특례 유형: required by this "
                                                                                   "program")]),
    ({**ANSWERS, "track": "규제신속확인"}, [("program_fields.track", "특례 유형: one of 실증특례, 임시허가")]),
    ({**ANSWERS, "regulatory-exemption": "yes"}, [("program_fields.regulatory-exemption",
                                                   "규제특례 지정 여부: true or false")]),
    ({**ANSWERS, "exemption-designated-on": "2024-02-30"}, [("program_fields.exemption-designated-on",
                                                             "규제특례 지정일: a date, YYYY-MM-DD")]),
    ({**ANSWERS, "pilot-sites": -1}, [("program_fields.pilot-sites", "실증 장소 수: a whole number, 0 or more")]),
    ({**ANSWERS, "pilot-sites": True}, [("program_fields.pilot-sites", "실증 장소 수: a whole number, 0 or more")]),
    ({**ANSWERS, "gimpo-since": "2020-01-01"}, [("program_fields.gimpo-since", "no such question in this program")]),
])
def test_a1_the_programs_own_questions_are_checked_at_intake_naming_the_field(answers, problems):
    from intake.domain import content_problems

    program = sandbox().model_copy(update={"program_year_end": date(2099, 12, 31)})
    found = content_problems(content(program_fields=answers), program, APPLIED)
    assert [(p.field, p.message) for p in found] == problems and all(p.rule == "A1" for p in found)


@pytest.mark.parametrize("change, named", [
    ({"eligibility": {"sme": True, "answered_yes": ["track"]}},
     "eligibility.answered_yes: 'track' is no yes-no question"),
    ({"eligibility": {"sme": True, "answered_yes": ["missing"]}},
     "eligibility.answered_yes: 'missing' is no yes-no question"),
    ({"application_fields": [*SANDBOX_FIELDS, SANDBOX_FIELDS[0]]}, "application_fields: codes must be unique"),
    ({"application_fields": [{"code": "track", "title": "유형", "kind": "choice"}]},
     "track: choices are given for a choice, and only for a choice"),
])
def test_a_malformed_program_question_is_refused_naming_the_field(change, named):
    body = {**PROGRAM.model_dump(mode="json"), "application_fields": SANDBOX_FIELDS, **change}
    with pytest.raises(ValueError, match=named):
        ProgramDefinition.model_validate(body)


# --- Q6 with a certification of the program's own (no 서식1 checkbox) -------------------------------------------------

def hi_seoul() -> ProgramDefinition:
    body = PROGRAM.model_dump(mode="json")
    sheet = body["document_score"]
    return ProgramDefinition.model_validate({
        **body,
        "application_fields": [{"code": "hi-seoul", "title": "하이서울기업 인증 여부", "kind": "yes-no"}],
        "evidence": [{"rule": "E1", "purpose": "사업자등록증명", "any_of": ["business-registration-certificate"]},
                     {"rule": "E1", "purpose": "국세 납세증명서", "any_of": ["national-tax-payment-certificate"]},
                     {"rule": "E5", "purpose": "하이서울기업 인증서", "when": "answered-yes", "answers": ["hi-seoul"],
                      "any_of": ["preference-certificate"], "mandatory": False}],
        "document_score": {**sheet, "bonus_items": [*sheet["bonus_items"], {
            "code": "hi-seoul", "title": "하이서울기업", "points": 3, "proven_by_answers": ["hi-seoul"]}]}})


@pytest.mark.parametrize("answer, uploaded, asked, points", [
    (True, True, True, 3),      # answered yes and proven: the item's 3 points
    (True, False, True, 0),     # yes without the certificate: asked (E5), scores 0, never rejects
    (False, True, False, 0),    # no: not asked, not scored
])
def test_q6_a_bonus_item_proven_by_the_programs_own_question(answer, uploaded, asked, points):
    from evaluation.scoring import document_score
    from intake.domain import required_evidence

    program = hi_seoul()
    evidence = [d for d in FRESH if d.document_type is not D.PREFERENCE_CERTIFICATE or uploaded]
    c = content(program_fields={"hi-seoul": answer}, bonus__certifications=[], evidence=[
        d.model_dump() for d in evidence])
    lines = required_evidence(c.company, c.expert, c.bonus, program.evidence, c.program_fields)
    assert any(line.purpose == "하이서울기업 인증서" for line in lines) == asked
    decision = decide(Case(content=c, required_evidence=lines, submitted_at=SUBMITTED, program=program, now=NOW,
                           answers=CLEAR))
    assert decision.facts is not None, decision
    score = document_score(decision.facts, program.document_score, program.announcement_date)
    assert next(p for rule, p, _ in score.parts if rule == "Q6") == points
    assert ("hi-seoul" in decision.facts.proven_answers) == (points > 0)


def test_q6_an_item_proven_by_no_yes_no_question_is_refused():
    body = hi_seoul().model_dump(mode="json")
    body["application_fields"] = [{"code": "hi-seoul", "title": "하이서울기업 인증번호", "kind": "text"}]
    with pytest.raises(ValueError, match="hi-seoul is proven by 'hi-seoul', which is no yes-no question"):
        ProgramDefinition.model_validate(body)
    item = {"code": "empty", "title": "빈 항목", "points": 2}
    with pytest.raises(ValueError, match="empty: proven_by or proven_by_answers"):
        ProgramDefinition.model_validate({**body, "document_score": {**body["document_score"], "bonus_items": [item]}})


def test_g2_no_expert_is_graded_where_the_agreement_has_no_expert_party():
    two_party = PROGRAM.model_copy(update={"support": PROGRAM.support.model_copy(update={"expert_party": False})})
    weak = {"highest_degree": "bachelor", "consulting_years": 1, "licences": []}
    assert decided(PROGRAM, expert__qualification=weak).outcome is ScreeningOutcome.REJECTED
    passed = decided(two_party, expert__qualification=weak)
    assert passed.outcome is ScreeningOutcome.PASSED and passed.expert_grade is None
    assert "support.expert_party" in next(f.detail for f in passed.findings if f.rule == "G2")


def test_the_particle_after_a_field_follows_its_last_syllable():
    from screening.rules import particle

    assert particle("해외부동산 투자자문", "이", "가") == "이"  # 문 ends in ㄴ
    assert particle("마케팅 자료", "이", "가") == "가"
    assert particle("공정개선", "은", "는") == "은" and particle("유통 구조", "은", "는") == "는"
    assert particle("ERP", "이", "가") == "이(가)"


def test_x11_keeps_an_operators_clearance_while_the_registry_says_the_same_and_names_it_when_not():
    from screening.rules import carried_over

    at = datetime(2026, 11, 20, 5, 0, tzinfo=timezone.utc)
    cleared = {"X4": Ruling("X4", False, "operator:kim", "대표자 변경 등기 확인", at)}
    then = {**CLEAR, Registry.BUSINESS_STATUS: referred("X4")}
    carried, changed = carried_over(then, then, cleared)
    assert list(carried) == ["X4"] and not changed
    assert carried["X4"].operator == "operator:kim" and "그때와 같음" in carried["X4"].reason
    assert decide_recheck(then, carried).outcome is ScreeningOutcome.PASSED
    # the registry now says something else: back to an operator, with the earlier ruling named
    now = {**CLEAR, Registry.BUSINESS_STATUS: LookupResult(verdict=Verdict.REFER, findings=(
        Finding(rule="X4", detail="대표자 성명이 또 다릅니다"),))}
    carried, changed = carried_over(now, then, cleared)
    assert not carried and list(changed) == ["X4"]
    decision = decide_recheck(now, carried, reconsidered=changed)
    assert decision.outcome is ScreeningOutcome.MANUAL_REVIEW
    assert "operator:kim이(가) 2026-11-20 문제없음으로 판단했으나" in decision.questions[0].detail
    # an exclusion is never carried (it had rejected the application), nor a clearance of another rule
    assert carried_over(then, then, {"X4": Ruling("X4", True, "op", "허위", at)}) == ({}, {})
    assert carried_over(then, then, {"D3": cleared["X4"]}) == ({}, {})


@given(awaited_now=st.sets(st.sampled_from(list(Registry))),
       arrived=st.lists(st.sampled_from(list(Verdict)), max_size=4))
def test_only_the_last_awaited_answer_or_one_that_is_not_clear_can_change_a_decision(awaited_now, arrived):
    """Issue 30 / D2: the rules run again when an answer can change the outcome, not on every clear answer."""
    expected = not awaited_now or any(v is not Verdict.CLEAR for v in arrived)
    assert can_change_the_decision(awaited_now, arrived) is expected
    assert awaited(awaited_now) == tuple(r for r in Registry if r in awaited_now)
