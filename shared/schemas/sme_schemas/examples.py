"""Canonical example of every event: producers publish them and consumers consume them in contract tests."""
from __future__ import annotations

from typing import Any

_CONTENT: dict[str, Any] = {
    "company": {
        "name": "(주)김포정밀", "ceo_name": "김정호", "founded_on": "2012-03-15",
        "business_registration_number": "1248100998", "business_type": "제조업", "business_items": "자동차 부품",
        "industry_code": "C30399", "main_products": "브레이크 캘리퍼", "main_equipment": "CNC 선반 12대",
        "regular_employees": 23, "revenue_last_year": 2_450_000_000,
        "hq_address": "경기도 김포시 양촌읍 황금로 123", "factory_address": "경기도 김포시 대곶면 대명항로 45",
        "gimpo_business_since": "2014-06-01",
    },
    "project_manager": {"name": "박민수", "department": "생산관리팀", "title": "과장"},
    "consulting": {
        "consulting_field": "공정개선", "company_difficulties": "가공 불량률이 4%를 넘어 납기 지연이 잦습니다.",
        "consultant_field": "생산관리", "cost_excluding_vat": 5_000_000, "sessions": 10,
        "company_introduction": "2012년 설립된 자동차 제동부품 전문 제조기업입니다.",
        "project_overview": "CNC 가공 공정의 불량 원인을 진단하고 공정 표준을 재정립합니다.",
        "necessity_and_purpose": "불량률을 1% 미만으로 낮추어 주요 고객사 납기를 지키는 것이 목표입니다.",
        "expected_effects": "불량 비용 연 1억 원 절감, 신규 수주 확대",
        "consulting_content": "현장 진단, 공정 FMEA, 작업표준서 개정, 측정시스템 분석",
        "schedule": [{"month": "2024-05", "activity": "현장 진단"}, {"month": "2024-07", "activity": "공정 개선"}],
        "planned_completion_on": "2024-10-31",
    },
    "expert": {
        "name": "이성훈", "affiliation": "한국생산성컨설팅", "title": "수석컨설턴트",
        "qualification": {"highest_degree": "master", "consulting_years": 11, "licences": ["management-consultant"]},
    },
    "bonus": {"past_public_projects": 2, "research_staff": 1, "certifications": ["inno-biz", "venture"]},
    "declarations": {"plans_to_relocate_outside_gimpo": False, "consent_given_at": "2024-04-02T01:00:00Z"},
    "evidence": [
        {"document_type": "business-registration-certificate", "issued_on": "2024-03-28",
         "file_reference": "docs://intake/example/brc.pdf"},
        {"document_type": "national-tax-payment-certificate", "issued_on": "2024-03-28",
         "file_reference": "docs://intake/example/ntax.pdf"},
    ],
}
_APP = {"program_id": "gimpo-sos-2024", "application_id": "APP-01HTX5Q3Z8K2M4N6P8R0S2T4V6",
        "occurred_at": "2024-04-02T01:00:00Z"}
_REQ = [{"rule": "E1", "any_of": ["business-registration-certificate"], "mandatory": True, "purpose": "사업자 확인"}]
_FACTS = {
    "company_name": "(주)김포정밀", "business_registration_number": "1248100998", "ceo_name": "김정호",
    "expert_name": "이성훈", "expert_affiliation": "한국생산성컨설팅", "revenue_last_year": 2_450_000_000,
    "regular_employees": 23, "gimpo_business_since": "2014-06-01", "research_staff": 1, "research_institute": False,
    "certifications": ["inno-biz"], "consulting_cost_excluding_vat": 5_000_000, "consulting_field": "공정개선",
    "submitted_at": "2024-04-02T01:00:00Z",
}
_FINDING = {"rule": "X3", "detail": "국세청 사업자 상태: 계속사업자"}
_PAY = {"program_id": "gimpo-sos-2024", "occurred_at": "2024-12-02T00:00:00Z", "payment_id": "PAY-0001",
        "purpose": "subsidy", "application_id": _APP["application_id"]}

EXAMPLES: dict[str, dict[str, Any]] = {
    "ApplicationFiledByMunicipalSystem": {"program_id": "gimpo-sos-2024", "occurred_at": "2024-04-02T01:00:00Z",
                                          "source_system": "gimpo-minwon", "external_reference": "MW-2024-000123",
                                          "content": _CONTENT},
    "ApplicationSubmitted": {**_APP, "submitted_at": "2024-04-02T01:00:00Z", "revision": 1, "channel": "web",
                             "content": _CONTENT, "required_evidence": _REQ},
    "ApplicationAmended": {**_APP, "submitted_at": "2024-04-02T01:00:00Z", "amended_at": "2024-04-03T01:00:00Z",
                           "revision": 2, "content": _CONTENT, "required_evidence": _REQ},
    "ApplicationWithdrawn": {**_APP, "withdrawn_at": "2024-04-05T01:00:00Z", "reason": "자체 해결"},
    "ScreeningStarted": {**_APP, "started_at": "2024-04-10T00:00:00Z"},
    "ScreeningPassed": {**_APP, "passed_at": "2024-04-12T00:00:00Z", "revision": 1, "expert_grade": "2",
                        "facts": _FACTS, "checks": [_FINDING]},
    "ApplicationRejected": {**_APP, "rejected_at": "2024-04-12T00:00:00Z", "stage": "screening",
                            "findings": [{"rule": "X3", "detail": "국세청 사업자 상태: 폐업자 (2023-11-30)"}],
                            "decided_by": "rules"},
    "SupplementRequested": {**_APP, "requested_at": "2024-04-12T00:00:00Z", "deadline": "2024-04-19T09:00:00Z",
                            "documents": [{"rule": "E6", "any_of": ["local-tax-payment-certificate"],
                                           "problem": "stale"}]},
    "ManualReviewRequested": {**_APP, "requested_at": "2024-04-12T00:00:00Z",
                              "questions": [{"rule": "D3", "detail": "NTIS 과제와 목표 유사도 0.71 (경계 구간)"}]},
    "RecheckCompleted": {**_APP, "request_id": "RCK-0001", "completed_at": "2024-05-20T00:00:00Z",
                         "outcome": "clear", "findings": []},
    "ScoresFinalized": {"program_id": "gimpo-sos-2024", "occurred_at": "2024-05-20T00:00:00Z",
                        "round_id": "gimpo-sos-2024-r1", "closed_at": "2024-05-20T00:00:00Z",
                        "budget": 100_000_000, "ranking": [
                            {"rank": 1, "application_id": _APP["application_id"], "company_name": "(주)김포정밀",
                             "quantitative": "89.0000", "qualitative": "81.9048", "final": "84.0333",
                             "planned_subsidy": 5_000_000, "outcome": "selected"}]},
    "ApplicationSelected": {**_APP, "round_id": "gimpo-sos-2024-r1", "selected_at": "2024-05-21T00:00:00Z",
                            "rank": 1, "planned_subsidy": 5_000_000, "via": "round-close"},
    "RecheckRequested": {**_APP, "request_id": "RCK-0001", "requested_at": "2024-05-20T00:00:00Z"},
    "EvaluatorAllowanceDue": {"program_id": "gimpo-sos-2024", "occurred_at": "2024-05-20T00:00:00Z",
                              "round_id": "gimpo-sos-2024-r1", "evaluator_id": "EV-007", "evaluator_name": "최평가",
                              "applications_scored": 18, "amount": 300_000},
    "AgreementSigned": {**_APP, "agreement_id": "AGR-0001", "signed_at": "2024-06-03T00:00:00Z",
                        "term_start": "2024-06-03", "term_end": "2024-11-30", "agreed_amount": 5_000_000,
                        "minimum_sessions": 10, "follow_up_sessions": 3, "company_name": "(주)김포정밀",
                        "expert_name": "이성훈"},
    "AgreementTerminated": {**_APP, "agreement_id": "AGR-0001", "terminated_at": "2024-08-01T00:00:00Z",
                            "reason": "relocation", "clawback": False, "freed_amount": 5_000_000},
    "ParticipationGivenUp": {**_APP, "agreement_id": "AGR-0001", "business_registration_number": "1248100998",
                             "approved_at": "2024-07-01T00:00:00Z", "restricted_until": "2026-06-30",
                             "freed_amount": 5_000_000},
    "ReportAccepted": {**_APP, "agreement_id": "AGR-0001", "accepted_at": "2024-11-20T00:00:00Z",
                       "agreed_amount": 5_000_000, "sessions_held": 10, "follow_up_sessions_held": 3},
    "PaymentDue": {**_PAY, "amount": 5_000_000, "request_received_on": "2024-11-25", "due_on": "2024-12-25",
                   "breakdown": {"proven_cost_including_vat": 5_500_000, "cap": 5_000_000, "ratio_percent": 100,
                                 "agreed_amount": 5_000_000, "subsidy": 5_000_000, "company_share": 500_000}},
    "PaymentRecorded": {**_PAY, "amount": 5_000_000, "paid_on": "2024-12-10", "recorded_by": "operator:kim"},
    "PaymentOverdue": {**_PAY, "amount": 5_000_000, "due_on": "2024-12-25", "detected_at": "2024-12-26T00:00:00Z"},
    "SubsidyClawedBack": {**_PAY, "amount": 5_000_000, "reason": "허위 증빙 (C7)"},
}
