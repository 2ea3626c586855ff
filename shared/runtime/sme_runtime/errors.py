"""One error shape for every HTTP API: each problem names the field and the rule it breaks."""
from __future__ import annotations

import re
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from sme_runtime.db import is_transient
from sme_runtime.problems import Problem, RuleViolation

_RULE = re.compile(r"^[A-Z][0-9]{1,2}$")
__all__ = ["Problem", "RuleViolation", "install_error_handlers", "problems_from_validation"]


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

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        """The database was away (a restart, a dropped pooled connection): the caller may send the request again.
        Anything else is a bug and stays a 500, in the same error shape."""
        if not is_transient(exc):
            problem = Problem("(service)", "internal", "an unexpected error; it is logged for the operators")
            return JSONResponse({"errors": [problem.as_dict()]}, status_code=500)
        problem = Problem("(service)", "availability", "a dependency of the service (its database) was briefly "
                          "unavailable; send the same request again (with an Idempotency-Key where the route takes one)")
        return JSONResponse({"errors": [problem.as_dict()]}, status_code=503, headers={"Retry-After": "1"})
