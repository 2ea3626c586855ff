"""P2, F4, G3, I1, L1, L2: what the program pays, from which budget, and when."""
from __future__ import annotations

from typing import Literal, Mapping, TypeVar

from pydantic import Field

from sme_schemas.base import Contract
from sme_schemas.values import Krw, ShortText


class SupportTerms(Contract):
    cap: Krw = Field(description="Most subsidy per company, VAT included (P2, F4)")
    ratio_percent: int = Field(ge=1, le=100, description="Share of the proven cost the program pays (P2)")
    vat_percent: int = Field(ge=0, le=100, description="VAT added to the planned cost; truncated to the won (F4)")
    daily_fee: Krw = Field(description="G3: what the program pays an expert per day; the planned subsidy is at "
                                       "most this times the planned sessions. 0: no per-day ceiling (a build "
                                       "paid by its quote)")
    company_share_percent_of_subsidy: int = Field(0, ge=0, le=1000, description="P2: the company pays at least "
                                                  "this share of the subsidy itself (기업부담금: 지원금의 20% 이상), "
                                                  "so the subsidy is at most cost x 100 / (100 + share)")
    minimum_sessions: int = Field(ge=0, description="On-site sessions at least (C3)")
    follow_up_sessions: int = Field(ge=0, description="Follow-up sessions at least (C3)")
    max_hours_per_day: int = Field(ge=1, le=24, description="C3")
    minimum_expert_grade: int = Field(ge=0, le=5, description="Worst acceptable expert grade; 0 = 특급 (G2)")
    expert_party: bool = Field(description="C1: the agreement's third party is an expert (SOS's consultant; "
                                                 "a build's supplier); False: a two-party agreement of the center "
                                                 "and the company, no expert graded (G1–G3) or signing")

    def planned_subsidy(self, cost_excluding_vat: int, sessions: int | None = None) -> int:
        """F4: min(cap, ratio x (planned cost + VAT)); VAT and the ratio are truncated to the won. G3: at most the
        daily fee for each planned session, when the program pays by the day and the sessions are known."""
        vat = cost_excluding_vat * self.vat_percent // 100
        subsidy = self.subsidy_of(cost_excluding_vat + vat)
        if self.daily_fee and sessions is not None:
            subsidy = min(subsidy, self.daily_fee * sessions)
        return subsidy

    def subsidy_of(self, cost_including_vat: int) -> int:
        """P2/F4 without the agreed amount: min(cap, ratio x cost, cost x 100 / (100 + company share))."""
        subsidy = min(self.cap, cost_including_vat * self.ratio_percent // 100)
        if self.company_share_percent_of_subsidy:
            subsidy = min(subsidy, cost_including_vat * 100 // (100 + self.company_share_percent_of_subsidy))
        return subsidy


FundingKind = Literal["national", "provincial", "city", "district", "other"]
K = TypeVar("K")


class FundingSource(Contract):
    """L1: one share of the budget by who pays it (국비, 도비, 시비, 구비, 기타)."""

    source: FundingKind = Field(description="national 국비, provincial 도비 (or a metropolitan city's 시비), city "
                                            "시비, district 구비, other 기타")
    title: ShortText = Field(description="As the budget names it, e.g. 도비 (경기도)")
    amount: Krw = Field(description="This source's share of the budget, KRW")


def split_by_weight(amount: int, weights: "Mapping[K, int]") -> dict[K, int]:
    """L2: `amount` in whole won over the keys in proportion to their weights (largest remainder; ties go to the
    earlier key), so the parts add up to the amount exactly and, when the amount is at most the weights' sum, no
    part exceeds its weight."""
    total = sum(weights.values())
    if amount < 0 or any(w < 0 for w in weights.values()):
        raise ValueError("amounts and weights are not negative")
    if amount and not total:
        raise ValueError(f"{amount:,} KRW cannot be split over nothing")
    if not amount:
        return {key: 0 for key in weights}
    parts = {key: amount * w // total for key, w in weights.items()}
    order = sorted(weights, key=lambda key: -(amount * weights[key] % total))
    for key in order[:amount - sum(parts.values())]:
        parts[key] += 1
    return parts


class PaymentSchedule(Contract):
    """I1: how the subsidy is paid — one payment after the accepted report (P1), or an advance (선금) on request
    after the agreement is signed and the balance (잔금) after the report."""

    advance_percent: int = Field(ge=0, le=90, description="Share of the agreed amount the company may request "
                                                             "as an advance once signed; 0: no advance")

    def advance(self, agreed_amount: int) -> int:
        return agreed_amount * self.advance_percent // 100
