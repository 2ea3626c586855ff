"""One error shape for every HTTP API: each problem names the field and the rule it breaks."""
from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

_RULE = re.compile(r"^[A-Z][0-9]{1,2}$")


@dataclass(frozen=True)
class Problem:
    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


class RuleViolation(Exception):
    """A request that breaks one or more rules; nothing was written."""

    def __init__(self, *problems: Problem, status_code: int = 422) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message} ({p.rule})" for p in problems))
        self.problems, self.status_code = problems, status_code


def problems_from_validation(exc: RequestValidationError, *, default_rule: str) -> list[Problem]:
    """Pydantic errors as Problems; validators raise PydanticCustomError with the rule id as its type."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if p not in ("body", "query", "path", "header")]
        rule = err["type"] if _RULE.match(err["type"]) else default_rule
        out.append(Problem(field=".".join(loc) or "(body)", rule=rule, message=err["msg"]))
    return out


def install_error_handlers(app: FastAPI, *, default_rule: str) -> None:
    """Register handlers so every 422/409 lists {field, rule, message}."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = problems_from_validation(exc, default_rule=default_rule)
        return JSONResponse({"errors": [p.as_dict() for p in problems]}, status_code=422)

    @app.exception_handler(RuleViolation)
    async def _violation(_: Request, exc: RuleViolation) -> JSONResponse:
        return JSONResponse({"errors": [p.as_dict() for p in exc.problems]}, status_code=exc.status_code)
