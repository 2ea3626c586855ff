"""X1: who may apply — the SME size test by industry, company age, certifications, answers."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, model_validator

from sme_schemas.application import PreferenceCertification as Cert
from sme_schemas.base import Contract
from sme_schemas.values import Krw


KsicPrefix = Field(pattern=r"^[A-U]([0-9]{1,5})?$", description="A KSIC class or any prefix of it: a section "
                   "letter (C: manufacturing) or a section with its first digits (C29: other machinery)")


# KSIC sections by two-digit division (통계청 한국표준산업분류 10차): a code given without its section letter gets it
_SECTIONS = (("A", 1, 3), ("B", 5, 8), ("C", 10, 34), ("D", 35, 35), ("E", 36, 39), ("F", 41, 42), ("G", 45, 47),
             ("H", 49, 52), ("I", 55, 56), ("J", 58, 63), ("K", 64, 66), ("L", 68, 68), ("M", 70, 73),
             ("N", 74, 76), ("O", 84, 84), ("P", 85, 85), ("Q", 86, 87), ("R", 90, 91), ("S", 94, 96),
             ("T", 97, 98), ("U", 99, 99))


def full_years(since: date, as_of: date) -> int:
    """Whole years from `since` to `as_of`; the anniversary itself counts (a 29 February start turns on 1 March)."""
    if as_of < since:
        return 0
    return as_of.year - since.year - ((as_of.month, as_of.day) < (since.month, since.day))


def ksic_with_section(industry_code: str) -> str:
    """`29299` → `C29299`; a code that has its letter, or whose division is no section's, is returned as given."""
    if industry_code[:1].isalpha() or len(industry_code) < 2:
        return industry_code
    division = int(industry_code[:2])
    return next((letter + industry_code for letter, low, high in _SECTIONS if low <= division <= high),
                industry_code)


class RevenueCeiling(Contract):
    """One line of the SME size test (중소기업기본법 시행령 별표1): companies of these industries are SMEs up to
    this revenue."""

    industries: tuple[Annotated[str, KsicPrefix], ...] = Field(min_length=1)
    revenue_at_most: Krw


def _ceiling(revenue_100m_krw: int, *industries: str) -> RevenueCeiling:
    return RevenueCeiling(industries=industries, revenue_at_most=revenue_100m_krw * 100_000_000)


# 중소기업기본법 시행령 별표1 (average revenue by main industry), as KSIC divisions; the longest matching prefix
# applies, and an industry none of them names gets the lowest (400억).
SME_REVENUE_CEILINGS = (
    _ceiling(1_500, "C14", "C15", "C17", "C24", "C28", "C32"),
    _ceiling(1_000, "C10", "C12", "C13", "C16", "C19", "C20", "C22", "C25", "C26", "C29", "C30", "C31",
             "A", "B", "D", "E36", "F", "G"),
    _ceiling(800, "C11", "C18", "C21", "C23", "C27", "C33", "E", "H", "J"),
    _ceiling(600, "C34", "M", "N", "Q", "R", "S"),
    _ceiling(400, "I", "K", "L", "P"),
)


class Eligibility(Contract):
    """Who may apply, beyond the region (X1's city, `region_city`): the program's own criteria, judged on the
    application as of the announcement date. Every criterion left out is no criterion."""

    sme: bool = Field(description="X1: an SME by the size test (revenue_ceilings; last year's revenue stands for "
                                  "the three-year average the law uses)")
    revenue_ceilings: tuple[RevenueCeiling, ...] = Field(
        SME_REVENUE_CEILINGS, description="X1's SME size test; unless given, the law's own table (중소기업기본법 "
                                          "시행령 별표1), which is no program's choice")
    industries: tuple[Annotated[str, KsicPrefix], ...] = Field(
        (), description="KSIC prefixes the company's industry_code must start with (C: manufacturers only)")
    founded_years_at_least: int | None = Field(None, ge=0, le=200, description="Full years since founding, at least")
    founded_years_at_most: int | None = Field(None, ge=0, le=200, description="Full years since founding, at most "
                                                                              "(a start-up program)")
    certified_as: tuple[Cert, ...] = Field((), description="Any one of these proven (E5), e.g. social-enterprise for "
                                                           "a social-economy program")
    answered_yes: tuple[str, ...] = Field((), description="The program's yes-no questions (application_fields) the "
                                                          "company must answer yes, e.g. regulatory-exemption")

    @model_validator(mode="after")
    def _age_range(self) -> "Eligibility":
        low, high = self.founded_years_at_least, self.founded_years_at_most
        if low is not None and high is not None and low > high:
            raise ValueError(f"founded_years_at_least: {low} is more than founded_years_at_most {high}")
        return self

    def revenue_ceiling(self, industry_code: str) -> int:
        """The SME size line of this industry: the longest prefix any ceiling names, else the lowest ceiling."""
        code = ksic_with_section(industry_code)
        matches = [(len(prefix), c.revenue_at_most) for c in self.revenue_ceilings for prefix in c.industries
                   if code.startswith(prefix)]
        if matches:
            return max(matches)[1]
        return min(c.revenue_at_most for c in self.revenue_ceilings)
