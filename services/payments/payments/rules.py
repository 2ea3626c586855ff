"""The subsidy's amount (P2), its due date and when it is overdue (P3), adjustments and clawback (P4). Pure.
Money is integer KRW throughout: a ratio is applied by integer division, truncated to the won."""
from __future__ import annotations

from datetime import date

from sme_schemas.contracts import CLAWBACK_REASONS, TerminationReason
from sme_schemas.payments import SubsidyBreakdown
from sme_schemas.periods import WorkingCalendar
from sme_programs import SupportTerms


def subsidy(proven_cost_including_vat: int, terms: SupportTerms, agreed_amount: int,
            advance: int = 0) -> SubsidyBreakdown:
    """P2: min(cap, ratio x proven cost incl. VAT, cost x 100 / (100 + company share), agreed amount); the company
    pays the rest of what it proved. I2: an advance already owed is deducted from the balance (`advance_deducted`
    is at most the subsidy; what the advance exceeds it by is recovered, `excess_advance`)."""
    if proven_cost_including_vat < 0 or agreed_amount < 0 or advance < 0:
        raise ValueError("amounts are not negative")
    amount = min(terms.subsidy_of(proven_cost_including_vat), agreed_amount)
    return SubsidyBreakdown(proven_cost_including_vat=proven_cost_including_vat, cap=terms.cap,
                            ratio_percent=terms.ratio_percent, agreed_amount=agreed_amount, subsidy=amount,
                            company_share=proven_cost_including_vat - amount,
                            company_share_percent_of_subsidy=terms.company_share_percent_of_subsidy,
                            advance_deducted=min(advance, amount))


def balance(breakdown: SubsidyBreakdown) -> int:
    """I2: what is still to pay after the advance."""
    return breakdown.subsidy - breakdown.advance_deducted


def excess_advance(breakdown: SubsidyBreakdown, advance: int) -> int:
    """I2: an advance larger than the subsidy the proven cost gives is recovered by that much."""
    return max(advance - breakdown.subsidy, 0)


def due_on(received_on: date, payment_due_days: int, calendar: WorkingCalendar) -> date:
    """P3: paid within N days of the request's receipt, counted as the law counts it: the receipt's own day is not
    counted, the Nth day after it is the last (민법 제157조), moved to the next working day when it is a weekend, a
    public holiday or a closure of the program (제161조): 30 days from 2024-11-25 end on 2024-12-26, not on
    Christmas."""
    return calendar.due_date(received_on, days=payment_due_days)


def is_overdue(due: date, today: date) -> bool:
    """P3: overdue from the day after the due date (a payment on the due date itself is on time)."""
    return today > due


def clawback(reason: TerminationReason, paid_amount: int) -> int:
    """C7/P4: fraud or false evidence after payment recovers the whole subsidy paid; other reasons nothing."""
    return paid_amount if reason in CLAWBACK_REASONS and paid_amount > 0 else 0
