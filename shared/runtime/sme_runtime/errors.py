"""One error shape for every HTTP API: each problem names the field and the rule it breaks."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from sme_runtime.consumer import EventRefused
from sme_runtime.db import is_transient
from sme_runtime.problems import Problem, RuleViolation

_RULE = re.compile(r"^[A-Z][0-9]{1,2}$")
__all__ = ["Problem", "RuleViolation", "document_errors", "install_error_handlers", "problems_from_validation"]


def problems_from_validation(exc: RequestValidationError, *, default_rule: str) -> list[Problem]:
    """Pydantic errors as Problems; validators raise PydanticCustomError with the rule id as its type."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if p not in ("body", "query", "path", "header")]
        rule = err["type"] if _RULE.match(err["type"]) else default_rule
        out.append(Problem(field=".".join(loc) or "(body)", rule=rule, message=err["msg"]))
    return out


# The rule an HTTP error names when the route raised no RuleViolation: authentication (401), permission (403),
# an unknown route (404), a method the route does not take (405) …
_HTTP_RULES = {
    400: ("(body)", "malformed"),
    401: ("Authorization", "authentication"),
    403: ("Authorization", "permission"),
    404: ("(path)", "not-found"),
    405: ("(method)", "method"),
    406: ("Accept", "media-type"),
    413: ("(body)", "size"),
    415: ("Content-Type", "media-type"),
}


def problems_of_http_error(exc: StarletteHTTPException) -> list[Problem]:
    field, rule = _HTTP_RULES.get(exc.status_code, ("(request)", "http"))
    return [Problem(field=field, rule=rule, message=str(exc.detail))]


def refused_text(raw_path: bytes, query: bytes) -> Problem | None:
    """A query parameter or path segment PostgreSQL could not store or compare (NUL), or that is not UTF-8."""
    try:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return Problem(field="(query)", rule="text", message="the query string is not UTF-8 text")
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            return Problem(field=name.replace("\x00", "") or "(query)", rule="text",
                           message="NUL characters are not text")
    path = unquote_to_bytes(raw_path)
    if b"\x00" in path:
        return Problem(field="(path)", rule="text", message="NUL characters are not text")
    try:
        path.decode("utf-8")
    except UnicodeDecodeError:
        return Problem(field="(path)", rule="text", message="the path is not UTF-8 text")
    return None


class RefuseUnstorableText:
    """422 naming the parameter for text PostgreSQL refuses, before any route reads it (a NUL in a filter was a
    500: `GET /applications?program_id=%00`). Plain ASGI: nothing added to a request that passes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = refused_text(scope.get("raw_path") or scope["path"].encode(), scope.get("query_string", b""))
            if problem is not None:
                await JSONResponse({"errors": [problem.as_dict()]}, status_code=422)(scope, receive, send)
                return
        await self.app(scope, receive, send)


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route of the path takes. Starlette's 405 names the methods of the first route whose path
    matched, though a path is often served by several (GET and PUT /evaluators/{id}: issue 31)."""
    return [method for method in HTTP_METHODS
            if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in app.router.routes)]


def install_error_handlers(app: FastAPI, *, default_rule: str) -> None:
    """Register handlers so every 4xx and 5xx lists {field, rule, message}."""
    app.add_middleware(RefuseUnstorableText)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(app, request.scope))
        return JSONResponse({"errors": [p.as_dict() for p in problems_of_http_error(exc)]},
                            status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = problems_from_validation(exc, default_rule=default_rule)
        return JSONResponse({"errors": [p.as_dict() for p in problems]}, status_code=422)

    @app.exception_handler(EventRefused)
    async def _refused(_: Request, exc: EventRefused) -> JSONResponse:
        """A rule the record itself breaks now (its program's definition is no longer deployed, A3): the
        request cannot be carried out until an operator fixes that."""
        problem = Problem(exc.field or "(record)", exc.rule or "conflict", str(exc))
        return JSONResponse({"errors": [problem.as_dict()]}, status_code=409)

    @app.exception_handler(RuleViolation)
    async def _violation(_: Request, exc: RuleViolation) -> JSONResponse:
        return JSONResponse({"errors": [p.as_dict() for p in exc.problems]}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        """The database was away (a restart, a dropped pooled connection): the caller may send the request again.
        Anything else is a bug and stays a 500, in the same error shape."""
        if not (is_transient(exc) or isinstance(exc, (KafkaConnectionError, KafkaTimeoutError))):
            problem = Problem("(service)", "internal", "an unexpected error; it is logged for the operators")
            return JSONResponse({"errors": [problem.as_dict()]}, status_code=500)
        problem = Problem("(service)", "availability", "a dependency of the service (its database or the broker) "
                          "was briefly unavailable; send the same request again (with an Idempotency-Key where the "
                          "route takes one)")
        return JSONResponse({"errors": [problem.as_dict()]}, status_code=503, headers={"Retry-After": "1"})


ERRORS_SCHEMA = {
    "title": "Errors", "type": "object", "required": ["errors"],
    "description": "Every 4xx and 5xx answer: each problem names the field and the rule it breaks (DOMAIN.md rule ids "
                   "such as A1 or E6, or: text, authentication, permission, not-found, method, conflict, "
                   "availability, internal)",
    "properties": {"errors": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["field", "rule", "message"],
        "properties": {"field": {"type": "string", "examples": ["company.business_registration_number"]},
                       "rule": {"type": "string", "examples": ["A1"]},
                       "message": {"type": "string"}}}}},
}
_DOCUMENTED = {
    "400": "The body is not JSON text (rule: malformed)",
    "404": "No such record visible to the caller (the field names which)",
    "409": "The request conflicts with the record's current state (the rule says which)",
    "401": "No bearer token, or one that is invalid or expired (rule: authentication)",
    "403": "The token's role may not do this (rule: permission)",
    "422": "The request breaks a rule: every problem named with its field and rule",
    "500": "An unexpected error, logged for the operators (rule: internal)",
    "503": "A dependency (database or broker) is briefly away: send the same request again after Retry-After "
           "(rule: availability)",
}
_OPEN = {"/health", "/livez", "/readyz"}


def document_errors(app: FastAPI) -> None:
    """Declare the one error shape in every operation's OpenAPI `responses` (FastAPI would show its own
    `{"detail": …}` for 422 and nothing for the rest)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["Errors"] = ERRORS_SCHEMA
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for code in _codes(path, method, operation):
                    responses[code] = {"description": _DOCUMENTED[code], **ref}
                for code, response in responses.items():
                    if code.startswith(("4", "5")) and code not in _DOCUMENTED:
                        response.update(ref)  # a route's own 404, 409 … keep their descriptions
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _codes(path: str, method: str, operation: dict[str, Any]) -> tuple[str, ...]:
    """The error answers an operation can give (schemathesis holds each route to its list)."""
    if path in _OPEN:
        return "500", "503"
    codes = ["401", "403", "422", "500", "503"]
    codes += ["404"] if "{" in path or method in ("post", "put", "patch", "delete") else []
    codes += ["400"] if "requestBody" in operation else []
    # 409 also when the record's program is no longer deployed (A3), whatever the method
    codes += ["409"] if "{" in path or method in ("post", "put", "patch", "delete") else []
    return tuple(codes)
