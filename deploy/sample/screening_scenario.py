"""What the registries know about the sample companies: planted records, so every screening outcome occurs.

The registries (NTS business status, credit, sanctions, the R&D registries) hold records about companies; this
module writes the local registry server's dataset for a sample call, planting on chosen companies: a suspended
and a closed business, credit restrictions and delinquency, administrative sanctions (environment, building,
local tax) with records lifted before the announcement date as near misses, an ongoing duplicate project, a
paraphrased near-duplicate, a business number the tax service does not know, and a CEO name that does not match.
It also adjusts a few forms (an expert below grade 3, a stale certificate, a relocation plan, a field outside the
announced ones). `expected` says what screening should decide for each company and why."""
from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from deploy.registry.projects import rewrite, write_corpus
from sme_schemas.periods import earliest_within

# index in the sample call -> (planted record, expected outcome, rule)
PLANTED: dict[int, tuple[str, str, str]] = {
    1: ("NTS: 휴업자", "rejected", "X3"),
    2: ("NTS: 폐업자", "rejected", "X3"),
    3: ("credit: CEO under credit restriction", "rejected", "X2"),
    5: ("credit: project manager delinquent", "rejected", "X8"),
    6: ("local-tax arrears on the announcement date", "rejected", "X9"),
    8: ("illegal building, corrected before the announcement", "passed", ""),
    9: ("environmental enforcement in effect", "rejected", "X9"),
    10: ("NTIS: the same project under way", "rejected", "X5"),
    12: ("SMTECH: a paraphrased project under way", "manual-review", "D3"),
    13: ("NTS does not know the business number", "manual-review", "X3"),
    14: ("NTS validation: CEO name differs", "manual-review", "X4"),
    16: ("expert below grade 3", "rejected", "G2"),
    17: ("tax certificate issued the day before a calendar year back", "supplement-requested", "E6"),
    18: ("plans to move out of Gimpo", "rejected", "X7"),
    19: ("consulting field outside the announced ones", "manual-review", "X6"),
    20: ("NTIS: an unrelated project under way", "passed", ""),
    21: ("public sanction lifted last year", "passed", ""),
}
# The national prior-project corpus (every company's funded projects, D1–D3): a synthetic registry export the main
# job indexes; two applicants' plans are planted from projects in it.
NATIONAL_PROJECTS = 3_000  # each goal is embedded once per export (issue 25): 3,000 take about a minute
NATIONAL: dict[int, tuple[str, str, str]] = {
    22: ("national corpus: another company's funded project, paraphrased", "manual-review", "D3"),
    23: ("national corpus: the same CEO's project at a related company, re-inflected", "rejected", "X5"),
}
_NATIONAL_SOURCES = {22: (3, "paraphrased"), 23: (11, "reinflected")}  # form -> (kept source, kind of copy)
MISSING_DOCUMENT = 4  # the sample call's company 4 forgets its local-tax certificate: supplement requested (E1)
ANSWERS_NO = 24  # where the program asks yes-no questions of its own (A1), company 24 answers no: X1 if required

_PARAPHRASE = {  # (goal, method, content) of each sample problem, reworded the way another application would
    "인사노무": ("임금체계 개편과 취업규칙 정비로 직원 이직률을 낮추는 것을 목표로 함",
             "노무관리 진단 후 취업규칙 개정안을 작성하고 평가·보상 제도를 설계",
             "근로계약과 임금체계가 정비되지 않아 이직률이 높은 문제를 인사노무 전문가 진단으로 해결"),
    "공정개선": ("공정 표준화와 불량 원인 분석을 통해 불량률을 절반 수준으로 낮춤",
             "공정 FMEA와 측정시스템 분석을 거쳐 작업표준서를 개정하고 현장을 진단",
             "불량률이 높아 재작업 비용과 납기 지연이 발생하는 가공 공정을 전문가 진단으로 개선"),
}
_BACKGROUND = [  # other companies' projects: the registries hold far more than our applicants
    (
        "NTIS",
        "스마트공장 구축을 통한 설비 가동률 향상",
        "MES 도입, 설비 센서 데이터 수집 및 대시보드 구축",
        "생산설비 실시간 모니터링 시스템 개발",
    ),
    (
        "SMTECH",
        "수출 초보기업 해외 판로 개척",
        "바이어 발굴, 해외 전시회 참가, 수출 상담 지원",
        "동남아 시장 진출 전략 수립",
    ),
    (
        "GSTEP-PMS",
        "친환경 포장재 개발로 플라스틱 사용 절감",
        "생분해 소재 배합 실험과 성형 공정 최적화",
        "식품 포장용 생분해 필름 시제품 제작",
    ),
    (
        "NTIS",
        "이차전지 부품 정밀 가공 기술 고도화",
        "5축 가공 공정 개발과 치수 검사 자동화",
        "배터리 케이스 가공 불량 저감",
    ),
    (
        "SMTECH",
        "중소 식품기업 HACCP 인증 취득",
        "위생 관리 기준서 작성과 현장 교육",
        "HACCP 선행요건 구축과 인증 심사 대응",
    ),
]


def _brn_of(form: dict) -> str:
    return form["company"]["business_registration_number"]


def adjust_forms(forms: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """The form-side plants (G2, E6, X7, X6) and a grade-3-or-better expert for everybody else."""
    for i, form in enumerate(forms):
        expert = form.get("expert")
        if expert and i != 16:
            expert["qualification"].update(highest_degree="master", consulting_years=9 + i % 8)
    if len(forms) > 16 and forms[16]["expert"]:
        forms[16]["expert"]["qualification"] = {"highest_degree": "bachelor", "consulting_years": 8, "licences": []}
    if len(forms) > 17:
        for doc in forms[17]["evidence"]:
            if doc["document_type"] == "national-tax-payment-certificate":
                # E6 counts a calendar year (민법 제160조): the day before its first day is stale
                doc["issued_on"] = (earliest_within(today, years=1) - timedelta(days=1)).isoformat()
    if len(forms) > 18:
        forms[18]["declarations"]["plans_to_relocate_outside_gimpo"] = True
    if len(forms) > 19:
        forms[19]["consulting"]["consulting_field"] = "해외부동산 투자자문"
    if len(forms) > ANSWERS_NO:
        fields = forms[ANSWERS_NO].get("program_fields", {})
        fields.update({code: False for code, value in fields.items() if value is True})
    return forms


def national_corpus(forms: list[dict[str, Any]], export: Path) -> list[dict[str, Any]]:
    """Write the national registry export (`NATIONAL_PROJECTS` projects, JSONL) and plant copies of two of its
    projects in forms 22 and 23 (form 23's company is run by the source project's CEO). Returns the sources."""
    kept = write_corpus(export, NATIONAL_PROJECTS, seed=7, keep_sources=20)
    rng = random.Random(2024)
    sources = []
    for i, (source, kind) in _NATIONAL_SOURCES.items():
        if i >= len(forms):
            continue
        record, slots, plan = kept[source]
        texts = rewrite(plan, slots, kind, rng)
        forms[i]["consulting"].update(necessity_and_purpose=texts["goal"], consulting_content=texts["method"],
                                      project_overview=texts["content"])
        if NATIONAL[i][1] == "rejected":
            forms[i]["company"]["ceo_name"] = record["ceo"]
        sources.append(record)
    return sources


def expected(forms: list[dict[str, Any]], *, national: bool = False,
             program: dict[str, Any] | None = None) -> dict[str, tuple[str, str]]:
    """BRN -> (outcome, rule) the screening of the sample call should reach (`national`: with the national
    prior-project index and the plants of `national_corpus`). A `program` that announces no support fields
    refers no consulting field (X6)."""
    out = {}
    planted = {**PLANTED, **NATIONAL} if national else PLANTED
    for i, form in enumerate(forms):
        outcome, rule = planted.get(i, ("", "passed", ""))[1:]
        if rule == "X6" and program is not None and not program.get("support_fields"):
            outcome, rule = "passed", ""
        if rule == "G2" and program is not None and not program["support"].get("expert_party", True):
            outcome, rule = "passed", ""  # no expert is graded where none is a party
        required = (program or {}).get("eligibility", {}).get("answered_yes", [])
        if any(form.get("program_fields", {}).get(code) is False for code in required):
            outcome, rule = "rejected", "X1"
        if i == MISSING_DOCUMENT or (i % 11 == 4 and outcome == "passed"):
            outcome, rule = "supplement-requested", "E1"
        out[_brn_of(form)] = (outcome, rule)
    return out


def registry_dataset(forms: list[dict[str, Any]], announcement: date, today: date, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    data: dict[str, Any] = {"business_status": {}, "business_places": {}, "credit": {}, "sanctions": {},
                            "projects": []}
    for i, form in enumerate(forms):
        company, brn = form["company"], _brn_of(form)
        if i != 13:  # 13: unknown to the tax service
            data["business_status"][brn] = {
                "b_stt": "계속사업자",
                "b_stt_cd": "01",
                "tax_type": "부가가치세 일반과세자",
                "tax_type_cd": "01",
                "end_dt": "",
                "start_dt": company["founded_on"].replace("-", ""),
                "p_nm": company["ceo_name"] if i != 14 else company["ceo_name"][0] + "철수",
            }
        if i == 1:
            data["business_status"][brn].update(b_stt="휴업자", b_stt_cd="02")
        if i == 2:
            data["business_status"][brn].update(b_stt="폐업자", b_stt_cd="03", tax_type="폐업자",
                                                end_dt=(today - timedelta(days=40)).strftime("%Y%m%d"))
        data["business_places"][brn] = _places(form)
        data["credit"][brn] = _credit_records(i, form, today)
        data["sanctions"][brn] = _sanction_records(i, announcement, today, rng)
        data["projects"] += _projects(i, form, today)
    for n, (registry, goal, method, content) in enumerate(_BACKGROUND):
        data["projects"].append(_project(registry, f"BG-{n:03d}", goal[:20], f"{rng.randint(100, 899)}8{n:05d}0",
                                         goal, method, content, today))
    return data


def _places(form: dict) -> list[dict[str, Any]]:
    """X1: the places as registered, in the city since the day the form says (the screening integration test
    plants a company that moved in after the announcement: moved_in_after)."""
    company = form["company"]
    since = company["gimpo_business_since"].replace("-", "")
    places = [{"kind": "hq", "address": company["hq_address"], "registered_on": since, "moved_out_on": ""}]
    if company.get("factory_address"):
        places.append({"kind": "factory", "address": company["factory_address"], "registered_on": since,
                       "moved_out_on": ""})
    return places


def moved_in_after(form: dict, announcement: date, days: int = 3) -> list[dict[str, Any]]:
    """X1 공고일 현재: the company's HQ moved into the city from 인천 `days` after the announcement, though its form
    says it has been in the city for years."""
    company = form["company"]
    since, moved = company["gimpo_business_since"].replace("-", ""), (announcement + timedelta(days=days))
    return [{"kind": "hq", "address": "인천광역시 서구 가좌로 84", "registered_on": since,
             "moved_out_on": moved.strftime("%Y%m%d")},
            {"kind": "hq", "address": company["hq_address"], "registered_on": moved.strftime("%Y%m%d"),
             "moved_out_on": ""}]


def _credit_records(i: int, form: dict, today: date) -> list[dict[str, Any]]:
    results = []
    if i == 3:
        results.append(
            {
                "role": "ceo",
                "name": form["company"]["ceo_name"],
                "records": [
                    {
                        "type": "credit-restriction",
                        "institution": "김포농협",
                        "registered_on": (today - timedelta(days=200)).isoformat(),
                        "cleared_on": None,
                    }
                ],
            }
        )
    if i == 5:
        results.append({"role": "project-manager", "name": form["project_manager"]["name"], "records": [{
            "type": "delinquency", "institution": "OO카드", "registered_on": (today - timedelta(days=90)).isoformat(),
            "cleared_on": None}]})
    return results


def _sanction_records(i: int, announcement: date, today: date, rng: random.Random) -> list[dict[str, Any]]:
    def record(category, agency, start, end, detail, role="company"):
        return {"record_id": f"{category[:3].upper()}-{rng.randint(10000, 99999)}", "category": category,
                "agency": agency, "subject_role": role, "imposed_on": start.isoformat(),
                "lifted_on": end.isoformat() if end else None, "detail": detail}

    if i == 6:
        return [
            record(
                "local-tax-arrears",
                "김포시 세정과",
                announcement - timedelta(days=120),
                None,
                "지방세 체납 3,450,000원",
            )
        ]
    if i == 8:
        return [record("illegal-building", "김포시 건축과", announcement - timedelta(days=400),
                       announcement - timedelta(days=30), "무단 증축 (시정 완료)")]
    if i == 9:
        return [record("environmental-enforcement", "한강유역환경청", announcement - timedelta(days=60),
                       announcement + timedelta(days=120), "대기배출시설 조업정지 10일")]
    if i == 21:
        return [record("public-sanction", "중소벤처기업진흥공단", today - timedelta(days=700),
                       today - timedelta(days=300), "정부지원사업 참여제한 1년", role="company")]
    return []


def _project(registry, project_id, title, brn, goal, method, content, today) -> dict[str, Any]:
    return {
        "registry": registry,
        "project_id": project_id,
        "title": title,
        "company_brn": brn,
        "agency": {"NTIS": "과학기술정보통신부", "SMTECH": "중소벤처기업부", "GSTEP-PMS": "경기도경제과학진흥원"}[
            registry
        ],
        "start": (today - timedelta(days=120)).isoformat(),
        "end": (today + timedelta(days=240)).isoformat(),
        "goal": goal,
        "method": method,
        "content": content,
    }


def _projects(i: int, form: dict, today: date) -> list[dict[str, Any]]:
    plan, brn = form["consulting"], _brn_of(form)
    if i == 10:  # the same plan, lightly edited, already funded elsewhere
        return [
            _project(
                "NTIS",
                "NTIS-2024-031877",
                f"{plan['consulting_field']} 현장 애로 해결 컨설팅",
                brn,
                plan["necessity_and_purpose"].replace("입니다", "임"),
                plan["consulting_content"].replace("합니다", "함"),
                plan["project_overview"],
                today,
            )
        ]
    if i == 12:
        goal, method, content = _PARAPHRASE.get(plan["consulting_field"], _PARAPHRASE["인사노무"])
        return [_project("SMTECH", "S2024-0452", "중소기업 현장 애로 개선 지원", brn, goal, method, content, today)]
    if i == 20:
        registry, goal, method, content = _BACKGROUND[0]
        return [_project(registry, "NTIS-2023-118204", "스마트공장 고도화", brn, goal, method, content, today)]
    return []
