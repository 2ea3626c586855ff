"""The screening decision (X1–X11 with E1–E6, G1–G3, D1–D3) as one pure function of what is known.

`decide` is called again whenever something changes (a lookup answers, the company supplements, an operator
rules, the supplement deadline passes) and always gives the whole answer, with the rule ids and the evidence
behind it. Precedence, and why:
1. any exclusion found → rejected (one definite reason is enough; waiting for the rest would only delay it);
2. required evidence missing or stale → supplement requested (asked at once, while the lookups run);
3. a registry has not answered → waiting (never passed or failed for want of an answer);
4. something only a person can judge → manual review (X4, X6, D3 borderline, an unsettled lookup);
5. otherwise → passed, with the verified facts evaluation scores from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Iterable, Mapping

from screening.evidence import Freshness, review_evidence
from sme_schemas.grade import assess_grade, grade_acceptable, grade_label
from screening.lookup.messages import LookupResult, Registry, Verdict
from sme_schemas.application import (
    ApplicationContent, CompanyProfile, DocumentType as D, EvidenceRequirement, PreferenceCertification,
)
from sme_schemas.periods import local_date
from sme_programs import ApplicationField, Eligibility, ProgramDefinition, full_years, ksic_with_section
from sme_schemas.periods import korean_time
from sme_schemas.screening import DecidedBy, Finding, RequestedDocument, VerifiedFacts


OPERATOR_RULES = ("X4", "X6")


class ScreeningOutcome(StrEnum):
    PASSED = "passed"
    REJECTED = "rejected"
    SUPPLEMENT_REQUESTED = "supplement-requested"
    MANUAL_REVIEW = "manual-review"
    WAITING = "waiting"  # on a registry


@dataclass(frozen=True)
class Restriction:
    """C6/X10: a participation restriction after an approved give-up, from approval until `until` (inclusive)."""

    approved_on: date
    until: date | None  # None: the center imposed no restriction


@dataclass(frozen=True)
class Ruling:
    """An operator's judgement of a referred question (X4, X6, D3, an unsettled lookup), with the audit facts."""

    rule: str
    exclude: bool
    operator: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class Case:
    """Everything screening knows about one application at one moment."""

    content: ApplicationContent
    required_evidence: tuple[EvidenceRequirement, ...]
    submitted_at: datetime
    program: ProgramDefinition
    now: datetime
    answers: Mapping[Registry, LookupResult | None] = field(default_factory=dict)  # None: not answered yet
    rulings: Mapping[str, Ruling] = field(default_factory=dict)  # by rule id
    restrictions: tuple[Restriction, ...] = ()
    supplement_deadline: datetime | None = None

    @property
    def application_date(self) -> date:
        return local_date(self.submitted_at)


@dataclass(frozen=True)
class Decision:
    outcome: ScreeningOutcome
    findings: tuple[Finding, ...] = ()  # rejected: the deciding rules; passed: every check and what it found
    documents: tuple[RequestedDocument, ...] = ()  # supplement requested
    questions: tuple[Finding, ...] = ()  # manual review: what the operator must judge
    waiting_on: tuple[Registry, ...] = ()
    decided_by: DecidedBy = "rules"  # or "operator" when a ruling decided a rejection
    expert_grade: str | None = None  # G2 label when an expert is named
    facts: VerifiedFacts | None = None  # passed only


@dataclass
class _Tally:
    """Findings sorted into what excludes, what was checked, and what a person must judge."""

    exclusions: list[Finding] = field(default_factory=list)
    checks: list[Finding] = field(default_factory=list)
    questions: list[Finding] = field(default_factory=list)
    operator_decided: bool = False

    def check(self, rule: str, detail: str) -> None:
        self.checks.append(Finding(rule=rule, detail=detail))

    def exclude(self, rule: str, detail: str) -> None:
        self.exclusions.append(Finding(rule=rule, detail=detail))

    def refer(self, finding: Finding, rulings: Mapping[str, Ruling]) -> None:
        ruling = rulings.get(finding.rule)
        if ruling is None:
            self.questions.append(finding)
            return
        verdict = f"{finding.detail} — operator {ruling.operator} ({korean_time(ruling.at)}): {ruling.reason}"
        if ruling.exclude:
            self.exclusions.append(Finding(rule=finding.rule, detail=verdict))
            self.operator_decided = True
        else:
            self.checks.append(Finding(rule=finding.rule, detail=verdict))


def can_change_the_decision(still_awaited: Iterable[Registry], arrived: Iterable[Verdict]) -> bool:
    """Whether answers that just arrived can change an application's decision (D2: the registries answer one by
    one). A clear answer while another registry is still awaited cannot: the outcome stays what it was — waiting,
    or a supplement request waiting too — and only the registries it waits on change. An exclusion or a referral
    can (X1–X9 reject at once; a question joins the decision), and so does the last awaited answer. Deciding an
    application once per batch of answers cost screening 3.44 decisions per application (issue 30)."""
    return not any(True for _ in still_awaited) or any(v is not Verdict.CLEAR for v in arrived)


def awaited(registries: Iterable[Registry]) -> tuple[Registry, ...]:
    """Registries in the order a decision names them in `waiting_on`."""
    return tuple(r for r in Registry if r in set(registries))


def decide(case: Case) -> Decision:
    tally = _Tally()
    _region(case, tally)
    _relocation(case, tally)
    _restriction(case, tally)
    grade = _expert_grade(case, tally)
    _support_field(case, tally)
    fresh = Freshness(case.program.earliest_fresh_issue(case.application_date), local_date(case.now))
    review = review_evidence(case.required_evidence, case.content.evidence, fresh)
    if review.supplement and case.supplement_deadline is not None and case.now > case.supplement_deadline:
        tally.exclude(
            "E6",
            f"보완 기한 {korean_time(case.supplement_deadline)}까지 서류가 보완되지 않았습니다: "
            + ", ".join("/".join(d.any_of) for d in review.supplement),
        )
    elif not review.supplement:
        tally.check("E6", f"필수 증빙서류가 모두 신청일({case.application_date}) 기준 "
                          f"{case.program.evidence_max_age} 이내({fresh.earliest} 이후)에 발급되었습니다")
    _eligibility(case, tally, {d for line in review.unproven for d in line.any_of})
    waiting = _lookups(case.answers, case.rulings, tally)
    _operator_findings(case.rulings, tally)
    if tally.exclusions:
        return Decision(ScreeningOutcome.REJECTED, findings=tuple(tally.exclusions), expert_grade=grade,
                        decided_by="operator" if tally.operator_decided else "rules")
    if review.supplement:
        return Decision(ScreeningOutcome.SUPPLEMENT_REQUESTED, documents=review.supplement, waiting_on=waiting,
                        questions=tuple(tally.questions), expert_grade=grade)
    if waiting:
        return Decision(ScreeningOutcome.WAITING, waiting_on=waiting, questions=tuple(tally.questions),
                        expert_grade=grade)
    if tally.questions:
        return Decision(ScreeningOutcome.MANUAL_REVIEW, questions=tuple(tally.questions), expert_grade=grade)
    return Decision(ScreeningOutcome.PASSED, findings=tuple(tally.checks), expert_grade=grade,
                    facts=verified_facts(case, review.unproven))


def carried_over(now: Mapping[Registry, LookupResult | None], then: Mapping[Registry, LookupResult | None],
                 earlier: Mapping[str, Ruling]) -> tuple[dict[str, Ruling], dict[str, Ruling]]:
    """X11 after an operator cleared a question at screening: asked again on the same evidence (the registry
    answers word for word as then) the clearance stands, saying so; asked on changed evidence it goes back to an
    operator with the earlier ruling named. Returns (rulings carried over, earlier clearances whose evidence
    changed), by rule. An exclusion is never carried: it had already rejected the application."""
    carried: dict[str, Ruling] = {}
    changed: dict[str, Ruling] = {}
    for registry, result in now.items():
        if result is None or result.verdict is not Verdict.REFER:
            continue
        before = then.get(registry)
        for rule in {f.rule for f in result.findings}:
            ruling = earlier.get(rule)
            if ruling is None or ruling.exclude:
                continue
            same = before is not None and _details(before, rule) == _details(result, rule)
            if same:
                carried[rule] = Ruling(rule, False, ruling.operator, f"서류 검토 때의 판단 유지(재확인 결과가 그때와 "
                                       f"같음): {ruling.reason}", ruling.at)
            else:
                changed[rule] = ruling
    return carried, changed


def _details(result: LookupResult, rule: str) -> list[str]:
    return sorted(f.detail for f in result.findings if f.rule == rule)


def decide_recheck(answers: Mapping[Registry, LookupResult | None], rulings: Mapping[str, Ruling],
                   reconsidered: Mapping[str, Ruling] | None = None) -> Decision:
    """X11: the same lookups again before the selected are notified; only their answers decide. A question an
    operator cleared before on other evidence (`reconsidered`) says so, so the operator sees why it is back."""
    tally = _Tally()
    waiting = _lookups(answers, rulings, tally)
    for ruling in (reconsidered or {}).values():
        tally.questions = [q if q.rule != ruling.rule else Finding(rule=q.rule, detail=(
            f"{q.detail} — 서류 검토 때 {ruling.operator}{particle(ruling.operator, '이', '가')} "
            f"{local_date(ruling.at)} 문제없음으로 판단했으나"
            f"({ruling.reason}) 재확인 조회 결과가 그때와 다릅니다")) for q in tally.questions]
    if tally.exclusions:
        return Decision(ScreeningOutcome.REJECTED, findings=tuple(tally.exclusions),
                        decided_by="operator" if tally.operator_decided else "rules")
    if waiting:
        return Decision(ScreeningOutcome.WAITING, waiting_on=waiting, questions=tuple(tally.questions))
    if tally.questions:
        return Decision(ScreeningOutcome.MANUAL_REVIEW, questions=tuple(tally.questions))
    return Decision(ScreeningOutcome.PASSED, findings=tuple(tally.checks))


# --- the rules, one function each -------------------------------------------------------------------------------

def _region(case: Case, tally: _Tally) -> None:
    """X1: HQ or factory in the program's city *as of the announcement date* (공고일 현재), as the application
    states it; the business-places registry checks the registration itself (lookup.adapters.interpret_places)."""
    city, announced = case.program.region_city, case.program.announcement_date
    company = case.content.company
    places = [a for a in (company.hq_address, company.factory_address) if a and city in a]
    if not places:
        tally.exclude("X1", f"본사·공장 모두 {city} 밖에 있습니다 (본사 {company.hq_address}"
                      + (f", 공장 {company.factory_address})" if company.factory_address else ")"))
    elif company.gimpo_business_since > announced:
        tally.exclude("X1", f"공고일({announced}) 현재 {city} 소재 기업이 아닙니다: 신청서의 {city} 사업 개시일 "
                            f"{company.gimpo_business_since}")
    else:
        tally.check("X1", f"{city} 소재: {places[0]} ({company.gimpo_business_since}부터, 공고일 {announced} 현재)")


def _eligibility(case: Case, tally: _Tally, unproven_documents: set[D]) -> None:
    """X1 beyond the region, as the program defines it (`eligibility`), as of the announcement date: an SME by
    the size test, of the program's industries, of the program's company age, certified as the program asks."""
    criteria, company = case.program.eligibility, case.content.company
    for problem in eligibility_problems(criteria, company, case.program.announcement_date,
                                        claimed=case.content.bonus.certifications,
                                        certificates_proven=D.PREFERENCE_CERTIFICATE not in unproven_documents,
                                        answers=case.content.program_fields,
                                        fields=case.program.application_fields):
        tally.exclude("X1", problem)
    if criteria.sme:
        ceiling = criteria.revenue_ceiling(company.industry_code)
        if company.revenue_last_year <= ceiling:
            tally.check("X1", f"중소기업 규모기준 충족: 전년도 매출액 {company.revenue_last_year:,}원 ≤ "
                              f"{ksic_with_section(company.industry_code)} 업종 기준 {ceiling:,}원")


def eligibility_problems(criteria: Eligibility, company: CompanyProfile, announced: date, *,
                         claimed: Iterable[PreferenceCertification], certificates_proven: bool,
                         answers: Mapping[str, object] | None = None,
                         fields: Iterable[ApplicationField] = ()) -> list[str]:
    """Each criterion of the program the company fails, in the center's words (empty: eligible)."""
    problems = []
    code = ksic_with_section(company.industry_code)
    if criteria.sme and company.revenue_last_year > (ceiling := criteria.revenue_ceiling(company.industry_code)):
        problems.append(f"중소기업 규모기준 초과: 전년도 매출액 {company.revenue_last_year:,}원이 {code} 업종 기준 "
                        f"{ceiling:,}원을 넘습니다 (eligibility.sme)")
    if criteria.industries and not code.startswith(criteria.industries):
        problems.append(f"지원 대상 업종이 아닙니다: 업종코드 {code}, 대상 {', '.join(criteria.industries)} "
                        "(eligibility.industries)")
    age = full_years(company.founded_on, announced)
    if criteria.founded_years_at_least is not None and age < criteria.founded_years_at_least:
        problems.append(f"업력 {age}년 (설립 {company.founded_on}): 공고일 기준 {criteria.founded_years_at_least}년 "
                        "이상이어야 합니다 (eligibility.founded_years_at_least)")
    if criteria.founded_years_at_most is not None and age > criteria.founded_years_at_most:
        problems.append(f"업력 {age}년 (설립 {company.founded_on}): 공고일 기준 {criteria.founded_years_at_most}년 "
                        "이하여야 합니다 (eligibility.founded_years_at_most)")
    for code in criteria.answered_yes:
        if (answers or {}).get(code) is not True:
            title = next((f.title for f in fields if f.code == code), code)
            problems.append(f"{title}: '예'여야 신청할 수 있습니다 (eligibility.answered_yes, program_fields.{code})")
    if criteria.certified_as:
        held = set(claimed).intersection(criteria.certified_as)
        wanted = ", ".join(c.value for c in criteria.certified_as)
        if not held:
            problems.append(f"대상 인증({wanted})이 없습니다 (eligibility.certified_as)")
        elif not certificates_proven:
            problems.append(f"대상 인증({wanted})의 인증서가 제출되지 않았거나 유효기간이 지났습니다 "
                            "(eligibility.certified_as, E5)")
    return problems


def _relocation(case: Case, tally: _Tally) -> None:
    """X7: a declared plan to move out of the city during the program."""
    if case.content.declarations.plans_to_relocate_outside_gimpo:
        tally.exclude("X7", "사업기간 중 타 시 이전 계획이 있다고 신고하였습니다")
    else:
        tally.check("X7", "사업기간 중 이전 계획 없음 (신청인 신고)")


def _restriction(case: Case, tally: _Tally) -> None:
    """X10: under a participation restriction from an earlier give-up on the application date."""
    day = case.application_date
    for r in case.restrictions:
        if r.until is not None and r.approved_on <= day <= r.until:
            tally.exclude("X10", f"{r.approved_on} 포기 승인에 따른 참여제한 기간({r.until}까지) 중입니다")
            return
    tally.check("X10", "참여제한 이력 없음")


def _expert_grade(case: Case, tally: _Tally) -> str | None:
    """G1–G3: the named expert must be the program's minimum grade or better (a program whose agreement has no
    expert party grades nobody)."""
    expert = case.content.expert
    if not case.program.support.expert_party:
        tally.check("G2", "전문가가 협약 당사자가 아닌 사업: 전문가 등급 확인 없음 (support.expert_party)")
        return None
    if expert is None:
        tally.check("G2", "전문가 미지정: 협약 전 3등급 이상 전문가를 지정해야 합니다")
        return None
    assessment = assess_grade(expert.qualification)
    label = grade_label(assessment.grade)
    why = f"{expert.name}: 인정경력 {assessment.recognised_years}년 ({', '.join(assessment.breakdown)}) → 등급 {label}"
    if grade_acceptable(assessment, case.program.support.minimum_expert_grade):
        tally.check("G2", why)
    else:
        tally.exclude("G2", f"{why}; {case.program.support.minimum_expert_grade}등급 이상이 필요합니다 "
                      "(다른 전문가로 다시 신청할 수 있습니다)")
    return label


def _support_field(case: Case, tally: _Tally) -> None:
    """X6: a consulting field outside the announced support fields is for an operator to judge."""
    fields = case.program.support_fields
    wanted = case.content.consulting.consulting_field
    if not fields or wanted in fields:
        tally.check("X6", f"컨설팅 희망분야 '{wanted}'{particle(wanted, '은', '는')} 공고된 지원분야입니다"
                    if fields else "지원분야 제한 없음")
        return
    tally.refer(Finding(rule="X6", detail=f"컨설팅 희망분야 '{wanted}'{particle(wanted, '이', '가')} 공고된 지원분야"
                        f"({', '.join(fields)})에 "
                        "없습니다: 과제 내용이 지원분야와 상이한지 판단이 필요합니다"), case.rulings)


def particle(word: str, after_consonant: str, after_vowel: str) -> str:
    """The Korean particle that follows `word`: 이/가, 은/는 … by whether its last syllable ends in a consonant
    (받침). A word ending in anything but Hangul gets both, as forms do: 이(가)."""
    last = word.rstrip()[-1:] or " "
    if not "가" <= last <= "힣":
        return f"{after_consonant}({after_vowel})"
    return after_consonant if (ord(last) - ord("가")) % 28 else after_vowel


def _operator_findings(rulings: Mapping[str, Ruling], tally: _Tally) -> None:
    """X4 false statements and X6 field mismatch are operator decisions even when no rule referred them."""
    for rule in OPERATOR_RULES:
        ruling = rulings.get(rule)
        if ruling and ruling.exclude and not any(f.rule == rule for f in tally.exclusions):
            tally.exclude(rule, f"operator {ruling.operator} ({korean_time(ruling.at)}): {ruling.reason}")
            tally.operator_decided = True


def _lookups(answers: Mapping[Registry, LookupResult | None], rulings: Mapping[str, Ruling],
             tally: _Tally) -> tuple[Registry, ...]:
    """X2, X3, X5, X8, X9 (and X4/D3 referrals) from the registries' answers; returns those still awaited."""
    waiting = []
    for registry in Registry:
        if registry not in answers:
            continue
        result = answers[registry]
        if result is None:
            waiting.append(registry)
            continue
        for finding in result.findings:
            if result.verdict is Verdict.EXCLUDED:
                tally.exclusions.append(finding)
            elif result.verdict is Verdict.REFER:
                tally.refer(finding, rulings)
            else:
                tally.checks.append(finding)
    return tuple(waiting)


def proven_answers(case: Case, unproven_docs: set[D]) -> tuple[str, ...]:
    """Q6/E5: the program's own questions that prove a bonus item, answered yes, whose proof (the evidence lines
    that yes asks for) is in order."""
    proving = {code for item in case.program.document_score.bonus_items for code in item.proven_by_answers}
    yes = sorted(code for code in proving if case.content.program_fields.get(code) is True)
    return tuple(code for code in yes if not any(
        unproven_docs.intersection(line.any_of) for line in case.program.evidence
        if line.when == "answered-yes" and code in line.answers))


def verified_facts(case: Case, unproven: tuple[EvidenceRequirement, ...]) -> VerifiedFacts:
    """E5: a bonus claim without fresh proof counts as 0 for evaluation (it never rejects)."""
    unproven_docs = {d for line in unproven for d in line.any_of}
    content, bonus = case.content, case.content.bonus
    staff_proven = not unproven_docs & {D.RESEARCH_STAFF_EMPLOYMENT_CERTIFICATE, D.RESEARCH_STAFF_DEGREE_CERTIFICATE}
    institute = (PreferenceCertification.RESEARCH_INSTITUTE in bonus.certifications
                 and D.RESEARCH_INSTITUTE_REGISTRATION not in unproven_docs)
    certifications = () if D.PREFERENCE_CERTIFICATE in unproven_docs else tuple(
        c for c in bonus.certifications if c is not PreferenceCertification.RESEARCH_INSTITUTE)
    return VerifiedFacts(
        proven_answers=proven_answers(case, unproven_docs),
        company_name=content.company.name, business_registration_number=content.company.business_registration_number,
        ceo_name=content.company.ceo_name, expert_name=content.expert.name if content.expert else None,
        expert_affiliation=content.expert.affiliation if content.expert else None,
        revenue_last_year=content.company.revenue_last_year, regular_employees=content.company.regular_employees,
        gimpo_business_since=content.company.gimpo_business_since,
        research_staff=bonus.research_staff if staff_proven else 0, research_institute=institute,
        certifications=certifications, consulting_cost_excluding_vat=content.consulting.cost_excluding_vat,
        consulting_sessions=content.consulting.sessions,
        consulting_field=content.consulting.consulting_field, submitted_at=case.submitted_at,
        consulting_plan=content.consulting,
    )
