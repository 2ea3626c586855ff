"""The base of every route's response model: what a service answers is declared (OpenAPI shows each field to the
municipal systems that read it) and checked on the way out: a field the route sends but the model does not name is
a 500 in the tests, not a field silently dropped or silently undocumented."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from sme_schemas.values import storable_text


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        storable_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key)
            _storable(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _storable(item)
    return value


class Form(BaseModel):
    """The base of every request body a route takes: each string in it, however deep (lists, maps, their keys),
    is text PostgreSQL can store, or the request is a 422 naming the field. A NUL in `evaluator_id`, an evaluator's
    `fields` or a ruling's `purpose` reached the database as a 500 (issue 31)."""

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return _storable(value)


class ProblemView(View):
    """One broken rule: the field, the rule id (DOMAIN.md) and what is wrong."""

    field: str
    rule: str
    message: str


class AuditEntry(View):
    """One line of an audit trail (sme_runtime.audit): when, who, what, and its detail."""

    at: datetime
    actor: str
    action: str
    detail: dict[str, Any] | None
