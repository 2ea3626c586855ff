"""Value types shared by every event: money, instants, identifiers."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

BRN_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


def brn_check_digit(first_nine: str) -> int:
    """Check digit of a business registration number (A1)."""
    digits = [int(c) for c in first_nine]
    total = sum(d * w for d, w in zip(digits, BRN_WEIGHTS)) + (digits[8] * 5) // 10
    return (10 - total % 10) % 10


def _valid_brn(value: str) -> str:
    # A1: a number with a wrong check digit is a typo or an invented number; refuse it at the edge.
    if len(value) != 10 or not value.isdigit():
        raise PydanticCustomError(
            "A1", "business registration number must be 10 digits, got {value!r}", {"value": value}
        )
    if brn_check_digit(value[:9]) != int(value[9]):
        raise PydanticCustomError(
            "A1", "business registration number {value} has a wrong check digit (expected {expected})",
            {"value": value, "expected": brn_check_digit(value[:9])},
        )
    return value


def normalise_brn(value: object) -> object:
    # People write 123-45-67890; the canonical form has no hyphens.
    return value.replace("-", "").strip() if isinstance(value, str) else value


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is past the last instant a datetime holds, once in UTC
        raise PydanticCustomError("instant", "{value} is outside the years 1-9999 once in UTC",
                                  {"value": value.isoformat()}) from None


BusinessRegistrationNumber = Annotated[
    str,
    BeforeValidator(normalise_brn),
    AfterValidator(_valid_brn),
    Field(description="사업자등록번호: 10 digits, check digit verified (rule A1)", examples=["1248100998"]),
]
# The largest integer every JSON reader holds exactly (2^53 - 1, JavaScript's too): an amount or a count above it
# would be rounded by some municipal system, and PostgreSQL's bigint refuses 2^63 (issue 31: accepted by 16 groups).
JSON_SAFE_INTEGER = 2**53 - 1
# Counts of things a program call has (sessions, revisions, ranks, applications): far below any real call's size
MAX_COUNT = 1_000_000
Krw = Annotated[
    int, Field(ge=0, le=JSON_SAFE_INTEGER, description="Amount in Korean won (integer KRW, never fractional)",
               examples=[5_000_000])
]
UtcInstant = Annotated[AwareDatetime, AfterValidator(_utc), Field(description="Instant in UTC (ISO 8601 with offset)")]
ApplicationId = Annotated[
    str, StringConstraints(pattern=r"^APP-[0-9A-Z]{26}$"),
    Field(description="Application id, assigned by intake; the Kafka key of every event of the application",
          examples=["APP-01JD8Z6V5K3Q9W7X2Y4T6R8P0M"]),
]
ProgramId = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,62}$"),
    Field(description="Program call id from the program definition", examples=["gimpo-sos-2024"]),
]
AgencyId = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,39}$"),
    Field(description="The agency (전담기관) that runs a program: its operators, evaluators and experts act on its "
                      "programs only (T1)", examples=["gimpo", "seoul-sba"]),
]
RuleId = Annotated[
    str, StringConstraints(pattern=r"^[A-Z][0-9]{1,2}$"),
    Field(description="Rule id from DOMAIN.md (A2, X5, E6 …)", examples=["E6"]),
]


def storable_text(value: str) -> str:
    """Text PostgreSQL can store: no NUL characters, no lone surrogates (a JSON "\\ud800" decodes to one)."""
    if "\x00" in value:
        raise PydanticCustomError("text", "NUL characters are not text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("text", "not valid Unicode text (a lone surrogate)") from None
    return value


ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                      AfterValidator(storable_text)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000),
                     AfterValidator(storable_text)]

__all__ = [
    "AgencyId", "ApplicationId", "BusinessRegistrationNumber", "Krw", "LongText", "ProgramId", "RuleId", "ShortText",
    "UtcInstant", "brn_check_digit", "normalise_brn", "storable_text",
]
