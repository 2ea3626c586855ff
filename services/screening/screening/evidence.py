"""Evidence completeness and freshness (E1–E6): what to ask the company to supplement, and which bonus claims
stand unproven (E5: they score 0; they never reject)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sme_schemas.application import EvidenceDocument, EvidenceRequirement
from sme_schemas.screening import DocumentProblem, RequestedDocument


def is_fresh(issued_on: date, application_date: date, max_age_days: int) -> bool:
    """E6: issued within max_age_days before the application date (exactly 365 days before still counts)."""
    return 0 <= (application_date - issued_on).days <= max_age_days


@dataclass(frozen=True)
class EvidenceReview:
    supplement: tuple[RequestedDocument, ...]  # mandatory lines missing or only stale: a supplement request
    unproven: tuple[EvidenceRequirement, ...]  # E5 lines with no fresh proof: the claim scores 0

    @property
    def complete(self) -> bool:
        return not self.supplement


def review_evidence(required: tuple[EvidenceRequirement, ...], evidence: tuple[EvidenceDocument, ...],
                    application_date: date, max_age_days: int) -> EvidenceReview:
    supplement, unproven = [], []
    for line in required:
        offered = [d for d in evidence if d.document_type in line.any_of]
        if any(is_fresh(d.issued_on, application_date, max_age_days) for d in offered):
            continue
        if not line.mandatory:
            unproven.append(line)
            continue
        problem = DocumentProblem.STALE if offered else DocumentProblem.MISSING
        supplement.append(RequestedDocument(rule="E6" if offered else line.rule, any_of=line.any_of, problem=problem))
    return EvidenceReview(tuple(supplement), tuple(unproven))


def supplement_deadline(requested_at: datetime, days: int) -> datetime:
    """E6: the company has the program's supplement period; no supplement by then rejects as incomplete."""
    return requested_at + timedelta(days=days)
