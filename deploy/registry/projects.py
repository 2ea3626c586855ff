"""A synthetic national corpus of prior R&D projects (the registry exports of D2: NTIS, SMTECH, GSTEP-PMS) and
labelled queries with planted duplicates, for tests, the main job and `bench.duplicate_search`.

    python -m deploy.registry.projects --projects 100000 --out corpus.jsonl --queries queries.jsonl [--seed 7]

Each project is a plan of a small manufacturer or service company: a product of its industry, a process, one or
two technologies, two measurable targets, a site and a customer, written out as development goal, method and
content (D1) in the sentence patterns of real plans, with lengths as in them (goal 1–3 sentences, method 3–6,
content 4–9). Companies run several projects; a CEO may run two companies.

Queries are new plans. Each planted duplicate copies one corpus project and changes it in one way:
  verbatim      the same text;
  reordered     the sentences of each element shuffled;
  reinflected   the same words with other endings and connectives (개선한다 → 개선하고자 함, 통해 → 활용하여);
  synonyms      generic words replaced by synonyms (향상 → 제고, 시스템 → 체계, 불량률 → 결함률);
  summarised    a shorter plan: the first sentences of each element only;
  paraphrased   other sentence patterns, synonyms, other endings and another order at once: only the
                project's own specifics (product, process, technology, targets) are left as they were;
and `fresh` queries are new plans of the same industries that duplicate nothing (the precision side).
`--holdout` draws other sources and other rewrites (another seed): tune on one set, report on the other."""
from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator

KINDS = ("verbatim", "reordered", "reinflected", "synonyms", "summarised", "paraphrased")
REGISTRIES = ("NTIS", "SMTECH", "GSTEP-PMS")

INDUSTRIES: dict[str, dict[str, list[str]]] = {
    "자동차부품": {
        "material": ["알루미늄", "고장력강", "마그네슘 합금", "엔지니어링 플라스틱", "탄소섬유 복합재", "주철"],
        "part": ["브래킷", "하우징", "배터리 케이스", "도어 힌지", "브레이크 캘리퍼", "서스펜션 암", "시트 프레임",
                 "커넥터", "히트싱크", "범퍼 빔"],
        "process": ["사출 성형", "다이캐스팅", "프레스 가공", "CNC 가공", "용접", "도장", "열처리", "조립"],
        "customer": ["완성차 업체", "1차 협력사", "전기차 제조사"],
    },
    "식품": {
        "material": ["국내산 쌀", "발효 콩", "김", "인삼", "과채", "수산물", "유청 단백질"],
        "part": ["간편식", "음료", "소스", "스낵", "건강기능식품", "냉동 만두", "즉석밥", "조미김"],
        "process": ["배합", "살균", "충진", "발효", "건조", "포장", "세척", "냉동"],
        "customer": ["대형 유통사", "온라인 쇼핑몰", "급식 업체", "수출 바이어"],
    },
    "전자부품": {
        "material": ["세라믹", "구리", "실리콘", "유리 기판", "폴리이미드 필름"],
        "part": ["인쇄회로기판", "센서 모듈", "전원 공급 장치", "LED 조명", "카메라 모듈", "무선 충전 코일",
                 "배터리 관리 장치"],
        "process": ["표면 실장", "리플로우 솔더링", "검사", "코팅", "조립", "에이징 시험", "포장"],
        "customer": ["가전 대기업", "통신 장비 업체", "해외 바이어"],
    },
    "기계장비": {
        "material": ["스테인리스", "주강", "알루미늄 압출재", "특수강"],
        "part": ["감속기", "유압 실린더", "컨베이어", "산업용 펌프", "공작기계 스핀들", "포장 기계", "밸브"],
        "process": ["CNC 가공", "연삭", "용접", "조립", "성능 시험", "도장", "열처리"],
        "customer": ["플랜트 업체", "조선소", "공공기관", "해외 대리점"],
    },
    "화학소재": {
        "material": ["친환경 수지", "바이오 플라스틱", "기능성 코팅제", "접착제", "세정제", "도료"],
        "part": ["포장 필름", "점착 테이프", "산업용 세정액", "방청 코팅", "단열재", "건축용 실란트"],
        "process": ["중합", "배합", "압출", "코팅", "건조", "충진", "품질 시험"],
        "customer": ["건설사", "포장재 업체", "자동차 부품사", "수출 바이어"],
    },
    "섬유의류": {
        "material": ["기능성 원단", "재생 폴리에스터", "면", "니트 원단", "부직포"],
        "part": ["아웃도어 의류", "작업복", "마스크", "유니폼", "기능성 양말", "방호복"],
        "process": ["재단", "봉제", "염색", "검사", "포장", "원단 연단"],
        "customer": ["의류 브랜드", "공공기관", "온라인 쇼핑몰"],
    },
    "물류유통": {
        "material": ["상온 상품", "냉장 상품", "냉동 상품", "소형 택배"],
        "part": ["물류센터", "배송 서비스", "재고 관리", "주문 처리", "반품 처리"],
        "process": ["입고", "피킹", "분류", "출고", "적재", "배차"],
        "customer": ["온라인 쇼핑몰", "대형 유통사", "지역 소상공인"],
    },
    "바이오의료": {
        "material": ["의료용 실리콘", "생체 적합 소재", "진단 시약", "천연 추출물"],
        "part": ["진단 키트", "의료용 튜브", "재활 보조기기", "화장품 원료", "의료용 소모품"],
        "process": ["정제", "충진", "멸균", "포장", "품질 시험", "클린룸 조립"],
        "customer": ["병원", "의료기기 유통사", "해외 바이어"],
    },
}

TECHNOLOGIES = ["IoT 센서", "머신비전 검사", "인공지능 예측 모델", "생산관리시스템(MES)", "전사적 자원관리(ERP)",
                "디지털 트윈", "협동로봇", "PLC 제어", "빅데이터 분석", "클라우드 플랫폼", "RFID 태그", "바코드 추적",
                "자동 검사 장비", "딥러닝 영상 분석", "에너지 관리 시스템(EMS)", "예지 보전", "무인 운반차(AGV)",
                "창고관리시스템(WMS)", "스마트 계량 장치", "원격 모니터링"]
METRICS = ["불량률", "설비 가동률", "생산 리드타임", "재고 회전율", "에너지 사용량", "시간당 생산량", "출하 검사 시간",
           "작업자 이동 거리", "원자재 손실률", "납기 준수율", "고객 불만 건수", "재작업률"]
DOWN_METRICS = {"불량률", "생산 리드타임", "에너지 사용량", "출하 검사 시간", "작업자 이동 거리", "원자재 손실률",
                "고객 불만 건수", "재작업률"}
SITES = ["김포 본사 공장", "양촌 산업단지 공장", "제2 생산라인", "학운 산업단지 사업장", "대곶 공장", "물류 거점",
         "통진 사업장", "신규 증설 라인"]
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = ["민준", "서연", "도윤", "하은", "지호", "수빈", "현우", "지민", "예준", "서윤", "성호", "영숙", "정훈",
         "미경", "상철", "은주", "태현", "유진", "동현", "혜린"]

# Generic words and their synonyms (never the project's specifics): what a rewrite of the same plan changes.
SYNONYMS: dict[str, list[str]] = {
    "향상": ["제고", "개선"], "개선": ["향상", "고도화"], "저감": ["절감", "감축"], "구축": ["마련", "조성"],
    "도입": ["적용", "접목"], "시스템": ["체계", "솔루션"], "공정": ["프로세스", "작업 과정"],
    "실시간": ["즉시", "상시"], "모니터링": ["감시", "관측"], "데이터": ["정보", "자료"], "분석": ["해석", "진단"],
    "자동화": ["무인화", "기계화"], "품질": ["제품 품질", "품질 특성"], "설비": ["장비", "기계 설비"],
    "수집": ["취득", "확보"], "관리": ["운영", "통제"], "검사": ["검수", "점검"], "고객": ["거래처", "수요처"],
    "비용": ["원가", "경비"], "목표": ["목적", "지향점"], "확보": ["달성", "마련"], "현장": ["작업장", "생산 현장"],
    "작업자": ["근로자", "현장 인력"], "이상": ["특이 사항", "이상 징후"], "조기": ["초기", "사전"],
    "표준화": ["정형화", "규격화"], "경쟁력": ["시장 경쟁력", "사업 역량"], "효율": ["능률", "효율성"],
    "불량률": ["결함률", "불량 발생률"], "생산성": ["생산 효율", "제조 생산성"], "재고": ["보유 물량", "재고 물량"],
    "연계": ["연동", "통합"], "체계적": ["조직적", "일관된"], "대응": ["조치", "대처"], "정밀": ["정교", "세밀"],
}

# What a plan says, per element: meaning units, each with several wordings ({…} filled from the project; {end}
# is the sentence ending). A plan says some of the units in some order, each in one wording; a paraphrase says
# the same units in other wordings.
GOAL_UNITS = [
    ["{tech1}을 {process} 공정에 도입하여 {product}의 {metric1}을 {target1} {dir1}{end}",
     "{product} {process} 공정에 {tech1}을 적용해 {metric1} {target1} {dir1}을 달성{end}",
     "{metric1}을 {target1} {dir1}하기 위해 {product} {process} 공정에 {tech1}을 접목{end}"],
    ["{metric2}은 {target2} {dir2}하여 원가 경쟁력을 확보{end}",
     "아울러 {metric2} {target2} {dir2}로 원가 부담을 줄이는 것을 목표{end}",
     "{metric2} 측면에서도 {target2} {dir2} 성과를 확보{end}"],
    ["{site}의 {process} 현장에 {tech2} 기반 관리 시스템을 구축{end}",
     "{tech2}을 활용한 관리 시스템을 {site}에 마련{end}",
     "{site} 현장 관리를 위해 {tech2} 중심의 시스템을 조성{end}"],
    ["이를 통해 {customer} 대상 품질 경쟁력을 확보{end}",
     "그 결과 {customer} 납품 품질에 대한 신뢰를 높이는 것을 목표{end}",
     "{customer}이 요구하는 품질 수준을 안정적으로 충족{end}"],
]
METHOD_UNITS = [
    ["현행 {process} 공정을 진단하여 {metric1} 발생 원인을 분석{end}",
     "{metric1}의 원인을 찾기 위해 {process} 공정 현황을 먼저 진단{end}",
     "{process} 공정 진단으로 {metric1} 증가 요인을 규명{end}"],
    ["{process} 설비에 {tech1}을 설치하여 공정 데이터를 실시간으로 수집{end}",
     "{tech1}을 {process} 설비에 부착해 실시간 공정 데이터를 확보{end}",
     "실시간 공정 데이터 수집을 위해 {process} 설비마다 {tech1}을 설치{end}"],
    ["수집된 데이터를 {tech2}으로 분석하여 {metric1}에 영향을 주는 요인을 도출{end}",
     "{tech2}을 이용해 {metric1}과 공정 조건의 관계를 분석{end}",
     "{metric1} 변동 요인은 {tech2} 분석으로 규명{end}"],
    ["이상 징후가 감지되면 작업자에게 즉시 알림을 전송하는 모니터링 체계를 구축{end}",
     "설비 이상이 생기면 곧바로 작업자에게 알리는 감시 체계를 마련{end}",
     "작업자가 이상 상황을 바로 알 수 있도록 알림 기반 모니터링을 도입{end}"],
    ["{product} 품질 기준을 표준화하고 검사 이력을 제품 단위로 관리{end}",
     "제품 단위 검사 이력 관리와 함께 {product} 품질 기준을 표준화{end}",
     "{product}의 검사 기록을 제품별로 남기고 품질 기준을 통일{end}"],
    ["전문가 자문을 통해 {site}의 작업 절차를 재설계{end}",
     "외부 전문가와 함께 {site} 작업 절차를 다시 설계{end}",
     "{site}의 작업 순서는 전문가 검토를 거쳐 새로 정리{end}"],
    ["도입 후 3개월간 시범 운영하며 {metric2} 변화를 측정{end}",
     "3개월 시범 운영 기간 동안 {metric2}을 측정하여 효과를 확인{end}",
     "{metric2} 개선 여부는 3개월 시범 운영으로 검증{end}"],
    ["작업자 교육을 병행하여 현장 적용성을 높이고 운영 매뉴얼을 작성{end}",
     "운영 매뉴얼을 만들고 작업자 교육을 함께 실시{end}",
     "현장 정착을 위해 교육과 매뉴얼 작성을 병행{end}"],
    ["{customer} 요구 품질 수준에 맞춰 검사 기준을 개선{end}",
     "검사 기준은 {customer}의 품질 요구에 맞게 수정{end}",
     "{customer} 품질 요구사항을 반영해 검사 기준을 재정립{end}"],
]
CONTENT_UNITS = [
    ["{process} 설비 {n_equip}대에 {tech1} 센서를 부착하고 수집 서버를 구축{end}",
     "{n_equip}대의 {process} 설비에 {tech1} 센서와 수집 서버를 설치{end}",
     "수집 서버를 구축하고 {process} 설비 {n_equip}대마다 {tech1} 센서를 달아 데이터를 수집{end}"],
    ["{product} 생산 데이터를 실시간으로 보여주는 관리 화면을 개발{end}",
     "실시간 {product} 생산 현황을 확인하는 관리 화면을 새로 제작{end}",
     "관리자가 {product} 생산 데이터를 바로 볼 수 있는 화면을 구현{end}"],
    ["{tech2} 기반으로 {metric1} 예측 모델을 개발하고 현장에 적용{end}",
     "{metric1}을 미리 예측하는 {tech2} 모델을 만들어 현장에 적용{end}",
     "현장에 적용할 {metric1} 예측 모델을 {tech2}으로 개발{end}"],
    ["품질 이력 추적을 위해 로트 단위 관리 기능을 구현{end}",
     "로트별로 품질 이력을 추적하는 기능을 개발{end}",
     "품질 문제 발생 시 로트 단위로 이력을 추적하도록 기능을 구현{end}"],
    ["작업자용 모바일 알림 기능을 개발하여 이상 발생 시 대응 시간을 단축{end}",
     "이상 발생 대응 시간을 줄이기 위해 작업자 모바일 알림을 개발{end}",
     "모바일로 작업자에게 이상을 알려 신속한 대응을 지원{end}"],
    ["{customer} 납품 기준에 맞춘 출하 검사 체크리스트를 표준화{end}",
     "출하 검사 체크리스트를 {customer} 납품 기준에 맞게 정비{end}",
     "{customer} 기준을 반영한 출하 검사 항목을 표준으로 지정{end}"],
    ["운영 결과를 분석하여 {metric2} 개선 효과를 정량적으로 검증{end}",
     "{metric2} 개선 효과는 운영 결과 분석으로 수치화하여 검증{end}",
     "운영 데이터를 분석해 {metric2}이 얼마나 좋아졌는지 정량 평가{end}"],
    ["{tech1} 도입을 위한 네트워크와 서버 환경을 구축{end}",
     "{tech1} 운영에 필요한 네트워크와 서버를 구비{end}",
     "네트워크와 서버 환경을 먼저 구축하여 {tech1} 도입 기반을 마련{end}"],
    ["분석 결과에 따라 작업 조건을 최적화하고 표준 작업서를 개정{end}",
     "표준 작업서는 분석 결과를 반영해 개정하고 작업 조건을 최적화{end}",
     "최적 작업 조건을 분석 결과로 정하고 표준 작업서에 반영{end}"],
    ["{n_equip}개 작업장에 모니터링 단말을 설치하고 실시간 현황판을 구축{end}",
     "실시간 현황판과 함께 {n_equip}개 작업장에 모니터링 단말을 설치{end}",
     "작업장 {n_equip}곳에 단말을 두고 현황판으로 실시간 상황을 공유{end}"],
    ["시범 운영 결과를 바탕으로 {site} 전 공정으로 확산하는 계획을 수립{end}",
     "{site} 전체 공정 확산 계획은 시범 운영 결과에 따라 수립{end}",
     "시범 운영에서 얻은 결과로 {site} 모든 공정에 확대 적용할 계획을 마련{end}"],
    ["구축한 시스템의 유지보수 계획과 사용자 교육 자료를 작성{end}",
     "사용자 교육 자료와 시스템 유지보수 계획을 마련{end}",
     "시스템을 계속 운영할 수 있도록 유지보수 계획과 교육 자료를 준비{end}"],
]
ELEMENT_UNITS = {"goal": (GOAL_UNITS, 1, 3), "method": (METHOD_UNITS, 3, 6), "content": (CONTENT_UNITS, 4, 9)}
# (verb noun + ending) styles: the same word, inflected differently
ENDINGS = ["한다.", "함.", "하고자 한다.", "할 계획이다.", "하는 것을 목표로 한다."]
REINFLECT = [("을 통해", "을 활용하여"), ("를 통해", "를 활용하여"), ("하여 ", "해서 "), ("하고 ", "하며 "),
             ("기반으로", "기반하여"), ("에 맞춘", "에 부합하는"), ("에 맞춰", "에 맞추어"), ("위해", "위하여"),
             ("실시간으로", "실시간에"), ("하는 체계", "할 수 있는 체계"), ("을 개발", "을 새로 개발")]


@dataclass(frozen=True)
class Slots:
    """What makes a plan this plan: its specifics, kept by every rewrite of it."""

    industry: str
    product: str
    process: str
    tech1: str
    tech2: str
    metric1: str
    metric2: str
    target1: str
    target2: str
    site: str
    customer: str
    n_equip: int
    model: str

    def values(self) -> dict[str, str]:
        product = f"{self.product} {self.model}".strip()
        return {"product": product, "process": self.process, "tech1": self.tech1, "tech2": self.tech2,
                "metric1": self.metric1, "metric2": self.metric2, "target1": self.target1, "target2": self.target2,
                "dir1": "저감" if self.metric1 in DOWN_METRICS else "향상",
                "dir2": "저감" if self.metric2 in DOWN_METRICS else "향상",
                "site": self.site, "customer": self.customer, "n_equip": str(self.n_equip)}


def _final_consonant(word: str) -> int | None:
    """The final consonant index of the word's last syllable (0: none); None when it is not Hangul."""
    last = word.rstrip(")） ")[-1:]
    if "가" <= last <= "힣":
        return (ord(last) - 0xAC00) % 28
    return None


_LATIN_OR_DIGIT_CODA = {"0": 4, "1": 8, "3": 16, "6": 1, "7": 8, "8": 8, "l": 8, "m": 16, "n": 4, "r": 8}


def attach(word: str, particle: str) -> str:
    """Korean particle agreement: 을/를, 이/가, 은/는, 과/와, 으로/로 after the word as it is read aloud."""
    pairs = {"을": ("을", "를"), "를": ("을", "를"), "이": ("이", "가"), "가": ("이", "가"), "은": ("은", "는"),
             "는": ("은", "는"), "과": ("과", "와"), "와": ("과", "와"), "으로": ("으로", "로"), "로": ("으로", "로")}
    consonant = _final_consonant(word)
    if consonant is None:
        consonant = _LATIN_OR_DIGIT_CODA.get(word.rstrip(")） ")[-1:].lower(), 0)
    with_coda, without = pairs[particle]
    if particle in ("으로", "로"):
        return word + ("로" if consonant in (0, 8) else "으로")
    return word + (with_coda if consonant else without)


_PARTICLES = ("으로", "을", "를", "이", "가", "은", "는", "과", "와", "로")


def _fill(pattern: str, values: dict[str, str], ending: str) -> str:
    """Fill a pattern; a particle right after a slot agrees with the slot's value."""
    out, rest = [], pattern
    while "{" in rest:
        head, _, tail = rest.partition("{")
        name, _, rest = tail.partition("}")
        out.append(head)
        if name == "end":
            out.append(ending)
            continue
        value = values[name]
        particle = next((p for p in _PARTICLES if rest.startswith(p)
                         and not ("가" <= rest[len(p):len(p) + 1] <= "힣")), None)
        if particle:
            out.append(attach(value, particle))
            rest = rest[len(particle):]
        else:
            out.append(value)
    out.append(rest)
    return "".join(out)


@dataclass
class Plan:
    """What a plan says: per element, the (unit, wording) pairs in their order, and the ending style."""

    said: dict[str, list[tuple[int, int]]]
    style: int
    values: dict[str, str]

    def sentences(self, element: str) -> list[str]:
        units = ELEMENT_UNITS[element][0]
        return [_fill(units[u][w], self.values, ENDINGS[self.style]) for u, w in self.said[element]]

    def texts(self) -> dict[str, str]:
        return {e: " ".join(self.sentences(e)) for e in ELEMENT_UNITS}


def draw_slots(rng: random.Random) -> Slots:
    industry = rng.choice(list(INDUSTRIES))
    kit = INDUSTRIES[industry]
    tech1, tech2 = rng.sample(TECHNOLOGIES, 2)
    metric1, metric2 = rng.sample(METRICS, 2)
    model = (f"{rng.choice('ABCDEFGHKMPRSTXZ')}{rng.choice('ABCDEFGHKMPRSTXZ')}-{rng.randint(100, 9999)}"
             if rng.random() < 0.5 else "")
    return Slots(industry=industry, product=f"{rng.choice(kit['material'])} {rng.choice(kit['part'])}",
                 process=rng.choice(kit["process"]), tech1=tech1, tech2=tech2, metric1=metric1, metric2=metric2,
                 target1=f"{rng.randint(5, 60)}%", target2=f"{rng.randint(5, 40)}%", site=rng.choice(SITES),
                 customer=rng.choice(kit["customer"]), n_equip=rng.randint(2, 40), model=model)


def write_plan(slots: Slots, rng: random.Random) -> Plan:
    said = {}
    for element, (units, lo, hi) in ELEMENT_UNITS.items():
        chosen = rng.sample(range(len(units)), rng.randint(lo, min(hi, len(units))))
        said[element] = [(u, rng.randrange(len(units[u]))) for u in chosen]
    return Plan(said, rng.randrange(len(ENDINGS)), slots.values())


def _title(slots: Slots) -> str:
    return f"{slots.tech1} 기반 {slots.product} {slots.process} 공정 {slots.metric1} 개선"


# --- rewrites of a plan: the planted duplicates ------------------------------------------------------------------

def _substitute(sentence: str, rng: random.Random, share: float, protected: set[str]) -> str:
    """Replace generic words by synonyms (a share of them), never inside the plan's specifics; a particle after
    a replaced word agrees with the new word (체계를 → 솔루션을, 목표로 → 지향점으로)."""
    words = sorted(SYNONYMS, key=len, reverse=True)
    out, i = [], 0
    while i < len(sentence):
        word = next((w for w in words if sentence.startswith(w, i)), None)
        inside_specific = word and any(word in p and p in sentence[max(0, i - len(p)):i + len(p)] for p in protected)
        if word is None or inside_specific or rng.random() >= share:
            out.append(sentence[i] if word is None else word)
            i += 1 if word is None else len(word)
            continue
        replacement, i = rng.choice(SYNONYMS[word]), i + len(word)
        particle = next((p for p in _PARTICLES if sentence.startswith(p, i)
                         and not ("가" <= sentence[i + len(p):i + len(p) + 1] <= "힣")), None)
        if particle:
            out.append(attach(replacement, particle))
            i += len(particle)
        else:
            out.append(replacement)
    return "".join(out)


def _reinflect(sentence: str, rng: random.Random) -> str:
    for old, new in REINFLECT:
        if old in sentence and rng.random() < 0.8:
            sentence = sentence.replace(old, new)
    for ending in sorted(ENDINGS, key=len, reverse=True):
        if sentence.endswith(ending):
            return sentence[: -len(ending)] + rng.choice([e for e in ENDINGS if e != ending])
    return sentence


def rewrite(plan: Plan, slots: Slots, kind: str, rng: random.Random) -> dict[str, str]:
    """One planted duplicate of `plan` (see the module's doc for the kinds): its three elements as text."""
    protected = {v for v in slots.values().values() if len(v) > 1}
    parts = {e: plan.sentences(e) for e in ELEMENT_UNITS}
    if kind == "verbatim":
        pass
    elif kind == "reordered":
        for sentences in parts.values():
            rng.shuffle(sentences)
    elif kind == "reinflected":
        parts = {e: [_reinflect(s, rng) for s in p] for e, p in parts.items()}
    elif kind == "synonyms":
        parts = {e: [_substitute(s, rng, 0.8, protected) for s in p] for e, p in parts.items()}
    elif kind == "summarised":
        parts = {e: p[: max(1, len(p) // 2)] for e, p in parts.items()}
    elif kind == "paraphrased":
        # the same units, each in another wording, another ending, synonyms, another order
        units = {e: ELEMENT_UNITS[e][0] for e in ELEMENT_UNITS}
        reworded = Plan({e: [(u, rng.choice([x for x in range(len(units[e][u])) if x != w] or [w]))
                             for u, w in said] for e, said in plan.said.items()},
                        rng.choice([s for s in range(len(ENDINGS)) if s != plan.style]), plan.values)
        parts = {e: [_substitute(_reinflect(s, rng), rng, 0.9, protected) for s in reworded.sentences(e)]
                 for e in ELEMENT_UNITS}
        for sentences in parts.values():
            rng.shuffle(sentences)
    else:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    return {e: " ".join(p) for e, p in parts.items()}


# --- the corpus and the queries ----------------------------------------------------------------------------------

def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _brn(rng: random.Random) -> str:
    """A business registration number with a valid check digit (A1)."""
    digits = [rng.randint(0, 9) for _ in range(9)]
    weights = [1, 3, 7, 1, 3, 7, 1, 3, 5]
    total = sum(d * w for d, w in zip(digits, weights)) + (digits[8] * 5) // 10
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Company:
    brn: str
    ceo: str


def companies(rng: random.Random, count: int) -> list[Company]:
    out: list[Company] = []
    for _ in range(count):
        # about one CEO in twenty runs a second company: the same project may come back through it
        ceo = out[rng.randrange(len(out))].ceo if out and rng.random() < 0.05 else _person(rng)
        out.append(Company(_brn(rng), ceo))
    return out


def project_record(index: int, slots: Slots, plan: Plan, company: Company, rng: random.Random) -> dict:
    start = date(2019, 1, 1) + timedelta(days=rng.randrange(6 * 365))
    registry = REGISTRIES[index % len(REGISTRIES)]
    return {
        "id": f"{registry}-{start.year}-{index:07d}",
        "registry": registry,
        "title": _title(slots),
        "company_brn": company.brn,
        "ceo": company.ceo,
        "period": {
            "start": start.isoformat(),
            "end": (start + timedelta(days=rng.choice([180, 270, 365, 730]))).isoformat(),
        },
        "industry": slots.industry,
        **plan.texts(),
    }


def corpus(projects: int, *, seed: int = 7) -> Iterator[tuple[dict, Slots, Plan]]:
    """The corpus, one project at a time (a million fits in a stream, not in memory as text and slots)."""
    rng = random.Random(seed)
    firms = companies(rng, max(1, projects // 3))
    for i in range(projects):
        slots = draw_slots(rng)
        plan = write_plan(slots, rng)
        yield project_record(i, slots, plan, rng.choice(firms), rng), slots, plan


def planted_queries(sources: list[tuple[dict, Slots, Plan]], *, per_kind: int, seed: int,
                    fresh: int = 0) -> list[dict]:
    """Labelled queries: `per_kind` rewrites of random corpus projects for each kind, plus `fresh` new plans.
    A query carries the source's company half of the time (same company → X5), else another company's."""
    rng = random.Random(seed)
    queries = []
    for kind in KINDS:
        for n, (record, slots, plan) in enumerate(rng.sample(sources, per_kind)):
            query = rewrite(plan, slots, kind, rng)
            same = rng.random() < 0.5
            queries.append({"id": f"Q-{kind}-{n:05d}", "kind": kind, "expected": record["id"],
                            "company_brn": record["company_brn"] if same else _brn(rng),
                            "ceo": record["ceo"] if same else _person(rng), **query})
    for n in range(fresh):
        slots = draw_slots(rng)
        queries.append({"id": f"Q-fresh-{n:05d}", "kind": "fresh", "expected": None, "company_brn": _brn(rng),
                        "ceo": _person(rng), **write_plan(slots, rng).texts()})
    return queries


def write_corpus(path: Path, projects: int, *, seed: int = 7, keep_sources: int = 0) -> list[tuple[dict, Slots, Plan]]:
    """Write the JSONL export; returns `keep_sources` projects spread over the corpus to plant queries from."""
    step = max(1, projects // keep_sources) if keep_sources else 0
    kept: list[tuple[dict, Slots, Plan]] = []
    with path.open("w", encoding="utf-8") as out:
        for i, item in enumerate(corpus(projects, seed=seed)):
            out.write(json.dumps(item[0], ensure_ascii=False) + "\n")
            if step and i % step == 0 and len(kept) < keep_sources:
                kept.append(item)
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True, help="the corpus, JSONL")
    parser.add_argument("--queries", type=Path, help="labelled queries, JSONL")
    parser.add_argument("--per-kind", type=int, default=100)
    parser.add_argument("--fresh", type=int, default=100, help="queries that duplicate nothing")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--holdout", action="store_true", help="queries from another seed (report, never tune)")
    args = parser.parse_args()
    sources = write_corpus(args.out, args.projects, seed=args.seed, keep_sources=args.per_kind * 4)
    if args.queries:
        query_seed = args.seed + (1_000_003 if args.holdout else 1)
        with args.queries.open("w", encoding="utf-8") as out:
            for q in planted_queries(sources, per_kind=args.per_kind, seed=query_seed, fresh=args.fresh):
                out.write(json.dumps(q, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
