"""A realistic sample program call: a program's terms (SOS 2024 unless another file is given) with its window
open now, and about 30 companies of its region planning costs of its scale.

Deterministic for a seed, so the main job, the tests and the benchmark all see the same companies."""
from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sme_programs import ProgramDefinition, split_by_weight
from sme_schemas.values import brn_check_digit

SOS_2024 = Path(__file__).resolve().parents[1] / "programs" / "gimpo-sos-2024.json"

_NAMES = ["김포정밀", "한강테크", "대곶금속", "양촌플라스틱", "고촌식품", "통진전자", "월곶기계", "하성물류",
          "학운화학", "마송섬유", "운양바이오", "장기디자인", "구래산업", "풍무솔루션", "사우인쇄", "감정목재",
          "걸포정공", "북변포장", "장릉세라믹", "누산에너지", "석모로봇", "황금소재", "대명수산가공", "가현메디칼",
          "향산광학", "전류엔지니어링", "신곡스마트팩토리", "오니산업", "초원식품", "애기봉텍"]
_SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
_GIVEN = ["민준", "서연", "도윤", "하은", "지호", "수빈", "예준", "지민", "현우", "유진", "성훈", "영숙", "정호"]
_PLACES = {
    "김포시": ("경기도 김포시", ["양촌읍 황금로", "대곶면 대명항로", "통진읍 김포대로", "월곶면 애기봉로",
                           "하성면 하성로", "고촌읍 신곡로", "사우동 사우중로", "구래동 김포한강9로",
                           "장기동 김포한강4로", "학운산단로"]),
    "서울특별시": ("서울특별시", ["성동구 성수이로", "금천구 가산디지털1로", "구로구 디지털로", "마포구 월드컵북로",
                             "강서구 마곡중앙로", "영등포구 선유로", "송파구 법원로", "중구 을지로", "성북구 화랑로",
                             "강남구 테헤란로"]),
}
_SOS_COSTS = (4_000_000, 4_545_454, 5_000_000, 6_000_000)  # excluding VAT: under, at and over the 5,000,000 cap
_PROBLEMS = [
    ("공정개선", "생산관리", "가공 불량률이 높아 납기 지연과 재작업 비용이 커지고 있습니다.",
     "불량 원인 분석과 공정 표준화로 불량률을 절반으로 낮추는 것이 목표입니다.",
     "현장 진단, 공정 FMEA, 작업표준서 개정, 측정시스템 분석을 단계적으로 수행합니다."),
    ("마케팅", "마케팅 전략", "국내 거래처가 편중되어 신규 판로 개척이 시급합니다.",
     "온라인 판로와 수출 바이어 발굴 전략을 수립해 매출처를 다변화하려 합니다.",
     "시장 분석, 고객 세분화, 온라인 채널 전략, 수출 상담 자료 제작을 지원합니다."),
    ("인사노무", "노무관리", "인력 이직률이 높고 근로계약·임금체계가 정비되지 않았습니다.",
     "임금체계와 취업규칙을 정비하여 이직률을 낮추는 것이 목표입니다.",
     "노무 진단, 취업규칙 개정안 작성, 평가보상 체계 설계를 수행합니다."),
    ("기술개발", "제품설계", "신제품 설계 역량이 부족해 고객 요구 사양 대응이 늦습니다.",
     "설계 프로세스를 정립해 시제품 개발 기간을 30% 단축하려 합니다.",
     "설계 검증 절차 수립, CAE 해석 지도, 시제품 평가 방법을 컨설팅합니다."),
    ("재무회계", "재무관리", "원가 구조가 불투명해 수익성 판단이 어렵습니다.",
     "제품별 원가 계산 체계를 구축해 가격 결정의 근거를 마련하려 합니다.",
     "원가 분석, 관리회계 체계 설계, 자금계획 수립을 지원합니다."),
]
_CERTS = ["gyeonggi-promising-sme", "family-friendly", "good-jobs", "inno-biz", "main-biz", "green-technology",
          "venture", "women-owned", "gimpo-youth-enterprise", "research-institute"]
_LICENCES = ["management-consultant", "technical-consultant", "professional-engineer", "cpa", "labour-attorney"]


def demo_program(now: datetime, *, program_id: str = "gimpo-sos-demo", source: Path = SOS_2024) -> dict[str, Any]:
    """A program's terms (`source`) as a call whose application window is open now; the budget at most nine
    companies' caps, so the ranking shows a waitlist, its funding sources scaled to it in proportion (L1)."""
    program = json.loads(source.read_text("utf-8"))
    today = now.astimezone(timezone.utc).date()
    budget = min(program["budget"], 9 * program["support"]["cap"])
    name = program["name"].split(" (")[0]
    program.update(
        program_id=program_id, name=f"{name} (시연 {today.year})",
        announcement_date=(today - timedelta(days=7)).isoformat(),
        window={"opens_at": (now - timedelta(days=1)).isoformat(), "closes_at": (now + timedelta(days=14)).isoformat()},
        program_year_end=date(today.year + (1 if today.month >= 11 else 0), 12, 31).isoformat(),
        budget=budget,
    )
    if program.get("funding"):
        shares = split_by_weight(budget, {f["source"]: f["amount"] for f in program["funding"]})
        program["funding"] = [{**f, "amount": shares[f["source"]]} for f in program["funding"]]
    program["assumptions"] = list(program["assumptions"]) + [
        f"demo call: the terms of {source.name} with the window open today",
        f"demo call: budget {budget:,} KRW (at most nine companies at the cap), so the ranking shows a waitlist; "
        "the funding sources scaled to it in proportion"]
    return program


def demo_program_id(source: Path, now: datetime) -> str:
    """gimpo-sos-2024.json → gimpo-sos-demo-20261130-021500: each run is a call of its own."""
    stem = source.stem.rsplit("-", 1)[0] if source.stem[-4:].isdigit() else source.stem
    return f"{stem}-demo-{now:%Y%m%d-%H%M%S}"


def cost_at_the_cap(program: dict[str, Any]) -> int:
    """The least planned cost excluding VAT whose planned subsidy reaches the cap (F4): the scale of the sample
    companies' plans."""
    terms = ProgramDefinition.model_validate(program).support
    low, high = 0, terms.cap * 100
    while low < high:
        middle = (low + high) // 2
        low, high = (middle + 1, high) if terms.planned_subsidy(middle) < terms.cap else (low, middle)
    return low


def sample_costs(program: dict[str, Any]) -> list[int]:
    """SOS's four planned costs (under, at and over the cap) scaled to this program's cap."""
    scale = cost_at_the_cap(program), cost_at_the_cap(json.loads(SOS_2024.read_text("utf-8")))
    return [cost * scale[0] // scale[1] for cost in _SOS_COSTS]


def brn(rng: random.Random) -> str:
    first = f"{rng.randint(101, 899)}{rng.randint(1, 99):02d}{rng.randint(0, 9999):04d}"
    return first + str(brn_check_digit(first))


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


def company_form(i: int, program: dict[str, Any], today: date, rng: random.Random) -> dict[str, Any]:
    """One complete application form (서식1 + 서식2 + evidence) for company number i."""
    field, consultant_field, difficulty, purpose, method = _PROBLEMS[i % len(_PROBLEMS)]
    employees = rng.choice([0, 2, 4, 7, 12, 18, 35, 60]) if i % 9 else 0
    founded = today - timedelta(days=rng.randint(400, 9000))
    has_factory = i % 3 != 0
    has_expert = i % 10 != 7
    name = _NAMES[i % len(_NAMES)] + (f"{i // len(_NAMES) + 1}" if i >= len(_NAMES) else "")
    city = program["region_city"]
    prefix, places = _PLACES.get(city, (city, ["중앙로", "시청로", "산업단지로", "역전로", "공단로"]))
    year_end = date.fromisoformat(program["program_year_end"])
    research_staff = min(employees, rng.choice([0, 0, 1, 2, 3]))
    certs = rng.sample(_CERTS, rng.choice([0, 0, 1, 2, 3]))
    issued = lambda: (today - timedelta(days=rng.randint(3, 200))).isoformat()  # noqa: E731
    form: dict[str, Any] = {
        "program_id": program["program_id"],
        "company": {
            "name": f"(주){name}",
            "ceo_name": _person(rng),
            "founded_on": founded.isoformat(),
            "business_registration_number": brn(rng),
            "business_type": "제조업",
            "business_items": rng.choice(["자동차 부품", "식품 가공", "전자 부품", "금속 가공", "플라스틱 사출"]),
            "industry_code": rng.choice(["C25", "C10", "C26", "C29", "C22"]) + f"{rng.randint(100, 999)}",
            "main_products": rng.choice(["정밀 가공품", "냉동 식품", "PCB 모듈", "사출 금형", "포장재"]),
            "main_equipment": rng.choice(["CNC 선반 8대", "사출기 5대", "SMT 라인 2식", "프레스 4대"]),
            "regular_employees": employees,
            "revenue_last_year": rng.choice([3, 6, 9, 15, 24, 35]) * 100_000_000,
            "hq_address": f"{prefix} {rng.choice(places)} {rng.randint(1, 300)}",
            "factory_address": f"{prefix} {rng.choice(places)} {rng.randint(1, 300)}" if has_factory else None,
            "gimpo_business_since": (founded + timedelta(days=rng.randint(0, 300))).isoformat(),
        },
        "project_manager": {
            "name": _person(rng),
            "department": rng.choice(["생산팀", "경영지원팀", "기술연구소"]),
            "title": rng.choice(["과장", "차장", "팀장", "대리"]),
            "phone": f"031-98{rng.randint(0, 9)}-{rng.randint(1000, 9999)}",
            "email": f"pm{i}@company{i}.co.kr",
        },
        "consulting": {
            "consulting_field": field,
            "company_difficulties": difficulty,
            "consultant_field": consultant_field,
            "cost_excluding_vat": rng.choice(sample_costs(program)),
            "sessions": 10,
            "company_introduction": f"{founded.year}년 설립된 {city.removesuffix('특별시').removesuffix('시')} 소재 "
                                    f"{name} 입니다. "
            "주요 거래처와 장기 계약을 맺고 있습니다.",
            "project_overview": f"{field} 분야의 현장 애로를 전문가 진단으로 해결합니다. {difficulty}",
            "necessity_and_purpose": purpose,
            "expected_effects": "매출 증대와 일자리 창출, 원가 절감 효과를 기대합니다.",
            "consulting_content": method,
            "schedule": [
                {"month": f"{year_end.year}-{m:02d}", "activity": a}
                for m, a in ((max(1, year_end.month - 2), "현장 진단"), (year_end.month, "결과 보고"))
            ],
            "planned_completion_on": (year_end - timedelta(days=rng.randint(5, 30))).isoformat(),
        },
        "expert": (
            {
                "name": _person(rng),
                "affiliation": rng.choice(["한국생산성컨설팅", "경기경영연구원", "김포기술사사무소"]),
                "title": "수석컨설턴트",
                "contact": f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                "qualification": {
                    "highest_degree": rng.choice(["bachelor", "master", "doctorate"]),
                    "consulting_years": rng.randint(4, 20),
                    "licences": rng.sample(_LICENCES, rng.choice([0, 1])),
                },
            }
            if has_expert
            else None
        ),
        "bonus": {
            "past_public_projects": rng.choice([0, 0, 1, 3]),
            "research_staff": research_staff,
            "certifications": certs,
        },
        "declarations": {"plans_to_relocate_outside_gimpo": False, "consent_to_data_use": True},
    }
    form["evidence"] = _evidence(form, i, issued)
    form["program_fields"] = {f["code"]: _answer(f, i, today) for f in program.get("application_fields", [])}
    return form


def _answer(field: dict[str, Any], i: int, today: date) -> Any:
    """A company's answer to one of the program's own questions (A1)."""
    return {"yes-no": True, "count": i % 5, "amount-krw": 10_000_000 * (i % 4), "choice": (field.get("choices") or
            [""])[0], "date": (today - timedelta(days=90 + i)).isoformat(),
            "text": f"과학기술정보통신부 실증특례 지정 (제{today.year}-{i + 1:03d}호)"}[field["kind"]]


def _evidence(form: dict[str, Any], i: int, issued) -> list[dict[str, str]]:
    types = ["business-registration-certificate", "national-tax-payment-certificate",
             "local-tax-payment-certificate", "financial-statements" if i % 2 else "vat-tax-base-certificate"]
    if form["company"]["factory_address"]:
        types.append("factory-registration-certificate")
    if form["company"]["regular_employees"] == 0:
        types += ["health-insurance-qualification-record", "health-insurance-workplace-charge-record"]
    else:
        types.append("monthly-withholding-tax-return")
    if form["expert"]:
        types.append("expert-cv")
    if i % 11 == 4:
        types.remove("local-tax-payment-certificate")  # one company forgets a document: intake lists it as unmet
    return [{"document_type": t, "issued_on": issued(), "file_reference": f"docs://intake/sample/{i}/{t}.pdf"}
            for t in types]


def sample_forms(program: dict[str, Any], today: date, *, count: int = 30, seed: int = 2024) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [company_form(i, program, today, rng) for i in range(count)]
