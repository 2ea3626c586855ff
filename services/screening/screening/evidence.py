"""Evidence completeness and freshness (E1–E6): what to ask the company to supplement, and which bonus claims
stand unproven (E5: they score 0; they never reject)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sme_schemas.application import EvidenceDocument, EvidenceRequirement
from sme_schemas.periods import WorkingCalendar
from sme_schemas.screening import DocumentProblem, RequestedDocument


@dataclass(frozen=True)
class Freshness:
    """E6, read for supplements too ('신청일 기준 1년이내 발급서류'): a document is fresh when it was issued on or
    after `earliest` — the evidence age before the application date, by the calendar (민법 제160조: a year before
    2024-04-02 is 2023-04-02) — and no later than `filed_by`, the Korean day it is read. A replacement issued after
    the application, which is what a company asked to supplement a stale certificate brings, is fresh: the
    guideline bounds how old evidence may be, and a newer certificate proves the same facts more recently. A date
    after the day it is read is no issue date at all."""

    earliest: date
    filed_by: date

    def admits(self, issued_on: date) -> bool:
        return self.earliest <= issued_on <= self.filed_by


@dataclass(frozen=True)
class EvidenceReview:
    supplement: tuple[RequestedDocument, ...]  # mandatory lines missing or only stale: a supplement request
    unproven: tuple[EvidenceRequirement, ...]  # E5 lines with no fresh proof: the claim scores 0

    @property
    def complete(self) -> bool:
        return not self.supplement


def review_evidence(required: tuple[EvidenceRequirement, ...], evidence: tuple[EvidenceDocument, ...],
                    fresh: Freshness) -> EvidenceReview:
    supplement, unproven = [], []
    for line in required:
        offered = [d for d in evidence if d.document_type in line.any_of]
        if any(fresh.admits(d.issued_on) for d in offered):
            continue
        if not line.mandatory:
            unproven.append(line)
            continue
        problem = DocumentProblem.STALE if offered else DocumentProblem.MISSING
        supplement.append(RequestedDocument(rule="E6" if offered else line.rule, any_of=line.any_of, problem=problem))
    return EvidenceReview(tuple(supplement), tuple(unproven))


def supplement_deadline(requested_at: datetime, days: int, calendar: WorkingCalendar) -> datetime:
    """E6: the company has the program's supplement period, counted as the law counts it: from the day after the
    request to 24:00 KST of the last day, and past it to the next working day when that day is a weekend or a
    holiday (민법 제157조, 제159조, 제161조). No supplement by then rejects the application as incomplete."""
    return calendar.deadline(requested_at, days=days)
