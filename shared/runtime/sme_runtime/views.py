"""The base of every route's response model: what a service answers is declared (OpenAPI shows each field to the
municipal systems that read it) and checked on the way out: a field the route sends but the model does not name is
a 500 in the tests, not a field silently dropped or silently undocumented."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


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
