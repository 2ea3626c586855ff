"""How the portal says things in Korean: amounts in won, instants in KST, statuses, and each rule id in plain words
(the services name the rule; a company should not need DOMAIN.md to read why)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Mapping

from sme_schemas.periods import korean_day, korean_time

RULES: dict[str, str] = {
    "A1": "신청서 필수 항목",
    "A2": "사업별 기업당 1건만 신청",
    "A3": "접수 기간",
    "E1": "필수 증빙(사업자등록증, 국세·지방세 완납증명서)",
    "E2": "공장등록증",
    "E3": "고용 증빙(4대보험)",
    "E4": "전문가 재직증명서 또는 경력서",
    "E5": "가점 증빙",
    "E6": "증빙 서류는 신청일 전 1년 이내 발급분",
    "X1": "사업 지역 소재 중소기업",  # the program's region_city: 김포시, 서울특별시 …
    "X2": "금융기관 신용제한 대상 제외",
    "X3": "휴업·폐업 기업 제외",
    "X4": "허위 기재 제외",
    "X5": "타 기관 동일·유사 과제 수행 중 제외",
    "X6": "지원 분야 외 과제 제외",
    "X7": "사업기간 중 타 시 이전 계획 제외",
    "X8": "공공기관 제재·의무 불이행·체납 제외",
    "X9": "행정처분 기업 제외",
    "X10": "포기에 따른 참여 제한",
    "X11": "선정 시점 재확인",
    "D1": "중복과제 비교(목표·방법·내용)",
    "D2": "중복과제 조회(NTIS·SMTECH·GSTEP)",
    "D3": "중복과제 판정",
    "G1": "전문가 자격(학사 이상, 경력)",
    "G2": "전문가 등급",
    "G3": "등급별 일일 자문료 기준",
    "S1": "평가 항목별 5단계",
    "S2": "정성평가 환산",
    "S3": "평가위원 평균",
    "F1": "최종점수(서류 30%, 발표 70%)",
    "F2": "선정 최저점수 50점",
    "F3": "순위",
    "F4": "예산 내 선정",
    "F5": "예비 순번 승계",
    "F6": "평가위원 이해충돌",
    "F7": "평가 수당",
    "C1": "3자 협약",
    "C2": "협약 내용",
    "C3": "컨설팅 횟수와 일지",
    "C4": "자문료 선지급과 증빙",
    "C5": "협약 변경",
    "C6": "사업 포기",
    "C7": "협약 해지",
    "C8": "결과보고",
    "C9": "정보 열람 범위",
    "P1": "보조금 청구(서식4)",
    "P2": "보조금 산정",
    "P3": "청구 후 30일 이내 지급",
    "P4": "지급 조정",
    "P5": "평가위원 수당 지급",
    "M1": "사후관리 응답",
    "M2": "사후관리 알림",
    "M3": "사후관리 문항",
    "V1": "사업 공고 버전",
    "K1": "공고 차수",
    "K2": "수시 접수 회차",
    "I1": "선금",
    "I2": "선금 정산",
    "I3": "포기 시 선금 반환",
    "L1": "재원 구성",
    "L2": "재원별 배분",
    "L3": "재원별 약정·집행",
    "L4": "재원별 정산",
    "Q1": "매출액 점수",
    "Q2": "상시종업원 점수",
    "Q3": "지역 내 사업 기간 점수",
    "Q4": "연구인력 점수",
    "Q5": "기업부설연구소 점수",
    "Q6": "가점 항목",
    "Q7": "정량평가 배점",
    "T1": "기관별 정보 분리",
}

INTAKE_STATUS = {"submitted": "접수", "screening": "검토 중", "supplement": "보완 요청", "passed": "서류 통과",
                 "rejected": "탈락", "withdrawn": "취소"}
SCREENING_STATUS = {"passed": "통과", "rejected": "탈락", "supplement-requested": "보완 요청",
                    "manual-review": "담당자 검토", "waiting": "외부 조회 대기", "screening": "검토 중",
                    "withdrawn": "취소"}
AGREEMENT_STATUS = {"drafted": "서명 대기", "in-force": "협약 체결", "completed": "완료", "given-up": "포기",
                    "terminated": "해지"}
PAYMENT_STATUS = {"due": "지급 예정", "returned": "청구 반려(보완 후 재청구)",
                  "overdue": "지급 기한 경과", "paid": "지급 완료", "cancelled": "취소",
                  "released": "집행 취소", "clawed-back": "환수"}
EVALUATION_STATUS = {"awaiting-round": "심사 회차 대기", "in-round": "평가 중", "selected": "선정",
                     "waitlisted": "예비", "rechecking": "선정 전 재확인", "below-pass-mark": "최저점 미달",
                     "excluded": "선정 전 재확인에서 제외", "released": "포기·해지로 반납"}
ROLE = {"company": "기업", "expert": "전문가", "evaluator": "평가위원", "operator": "센터 담당자"}
OUTCOME = {"selected": "선정", "waitlisted": "예비", "below-pass-mark": "최저점(50점) 미달"}


PARTY = {"center": "센터", "company": "기업", "expert": "전문가"}
TERMINATION = {"disaster-bankruptcy-closure": "천재지변·부도·폐업", "relocation": "관외 이전",  # C7
               "fraud": "부정한 방법의 지원", "false-evidence": "허위 증빙", "refused-correction": "시정 요구 불응",
               "give-up": "사업 포기", "breach-of-law": "법령·지침 위반"}
AMENDABLE = {"term_end": "협약 종료일", "agreed_amount": "협약금액", "minimum_sessions": "최소 현장 횟수",  # C5
             "follow_up_sessions": "최소 사후 횟수", "expert_name": "전문가", "expert_affiliation": "전문가 소속"}
CONFLICT = {"employer": "신청 기업에 재직 중", "former-employer": "신청 기업에 최근 재직",  # F6
            "expert": "신청 기업의 전문가", "competitor": "경쟁 관계", "declared": "본인 신고"}


def ended_reason(ended: Mapping[str, Any]) -> str:
    """Why an agreement ended, from contracts' view of it: a termination's reason (C7) in words and the center's
    note; a give-up's own words (C6)."""
    reason, note = ended.get("termination_reason"), ended.get("note") or ended.get("reason")
    if reason:
        words = TERMINATION.get(reason, "협약 해지")
        return f"{words} — {note}" if note else words
    return note or "—"


def round_label(round_id: str, program_id: str) -> str:
    """'1회차 심사': evaluation numbers a program's rounds <program>-r<n>."""
    number = round_id.removeprefix(f"{program_id}-r")
    return f"{number}회차 심사" if number.isdigit() else "심사 회차"


def round_name(round_id: str, program_id: str, program_names: Mapping[str, str]) -> str:
    """A round as people call it: '2024년 김포시 중소기업 SOS 컨설팅 지원사업 1회차 심사'."""
    return f"{program_names.get(program_id, '다른 기관 사업')} {round_label(round_id, program_id)}"


def payment_kind(payment: dict) -> str:
    """What a payment is, in words: an evaluator's allowance is never a 보조금."""
    if payment.get("purpose") == "evaluator-allowance":
        return "평가위원 수당"
    return {"advance": "보조금 선금", "balance": "보조금 잔금"}.get(payment.get("instalment") or "", "보조금")


def parties(names: list[str]) -> str:
    return ", ".join(PARTY.get(n, n) for n in names)


def follow_up(kind: str) -> str:
    """M1: survey → 만족도 조사, outcome-6m → 6개월 성과 보고."""
    if kind == "survey":
        return "만족도 조사"
    months = kind.removeprefix("outcome-").removesuffix("m")
    return f"{months}개월 성과 보고" if months.isdigit() else "성과 보고"


def won(amount: int | None) -> str:
    return "—" if amount is None else f"{amount:,}원"


def kst(value: datetime | str | None) -> str:
    """An instant as people here read it: 2026-11-30(월) 14:05 KST; a deadline at the end of a Korean day as
    '2024-04-09(화) 24:00 KST' (민법 제159조), never as 23:59."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return korean_time(value)


def day(value: date | str | None) -> str:
    """A date with its weekday, so a company sees at once that a due date is a working day: 2024-12-26(목)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return korean_day(value)


def rule(rule_id: str) -> str:
    """'E6 (증빙 서류는 신청일 전 1년 이내 발급분)' — the id stays, so staff and the services' logs agree."""
    plain = RULES.get(rule_id)
    return f"{rule_id} ({plain})" if plain else rule_id


def cited(message: str, rule_id: str | None) -> str:
    """A refusal with the rule it applies: '입력해 주세요 — A1 (신청서 필수 항목)'. The services' own checks that are
    no rule of the program (`text`, `contract`, `not-found` …) are not cited: their message says it in Korean."""
    return f"{message} — {rule(rule_id)}" if rule_id in RULES else message


def status(kind: dict[str, str], value: str | None) -> str:
    return kind.get(value or "", value or "—")


DOCUMENT: dict[str, str] = {
    "business-registration-certificate": "사업자등록증명",
    "national-tax-payment-certificate": "국세 납세증명서",
    "local-tax-payment-certificate": "지방세 납세증명서",
    "financial-statements": "최근 1개년 재무제표",
    "vat-tax-base-certificate": "부가가치세과세표준증명원",
    "factory-registration-certificate": "공장등록증명",
    "health-insurance-qualification-record": "건강보험자격득실확인서",
    "health-insurance-workplace-charge-record": "사업장가입자별부과내역",
    "monthly-withholding-tax-return": "월별원천징수이행상황신고서",
    "individual-health-insurance-statement": "개인별건강보험고지산출내역",
    "employment-insurance-charge-record": "월별보험료부과내역",
    "expert-employment-certificate": "전문가 재직증명서",
    "expert-cv": "전문가 이력서",
    "past-project-record": "과제 수행실적 증빙",
    "research-staff-employment-certificate": "연구인력 재직증명서",
    "research-staff-degree-certificate": "연구인력 학위증명서",
    "research-institute-registration": "기업부설연구소 인정서",
    "preference-certificate": "우대기업 인증서",
}
CERTIFICATION: dict[str, str] = {
    "gyeonggi-promising-sme": "경기도 유망중소기업",
    "family-friendly": "가족친화경영기업",
    "good-jobs": "일자리우수기업",
    "inno-biz": "INNO-BIZ기업",
    "main-biz": "MAIN-BIZ기업",
    "green-technology": "녹색기술인증기업",
    "net": "NET 인증기업",
    "nep": "NEP 인증기업",
    "social-enterprise": "사회적기업",
    "venture": "벤처기업",
    "women-owned": "여성기업",
    "disabled-owned": "장애인기업",
    "gimpo-youth-enterprise": "김포시 청년기업",
    "gimpo-sme-award": "김포시 우수 중소기업",
    "research-institute": "기업부설연구소",
}
LICENCE: dict[str, str] = {
    "professional-engineer": "기술사",
    "management-consultant": "경영지도사",
    "technical-consultant": "기술지도사",
    "attorney": "변호사",
    "patent-attorney": "변리사",
    "cpa": "공인회계사",
    "tax-accountant": "세무사",
    "labour-attorney": "공인노무사",
}
DEGREE = {"none": "학사 미만", "bachelor": "학사", "master": "석사", "doctorate": "박사"}
