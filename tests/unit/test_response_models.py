"""Every JSON route of the five services declares what it answers (a response model, sme_runtime.views): the
OpenAPI other municipal systems read names each field, and a route that sends a field its model lacks fails (the
models forbid extra fields). Only the Prometheus mount and /readyz, /health (a JSONResponse whose status code
carries the answer) are exempt."""
from __future__ import annotations

import importlib

import pytest

SERVICES = ("intake", "screening", "evaluation", "contracts", "payments")
EXEMPT = {"/readyz", "/health"}


def untyped(service: str) -> list[str]:
    app = importlib.import_module(f"{service}.app").create_app()
    missing = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if not code.startswith("2") or path in EXEMPT or schema is None:
                    continue
                target = schema.get("items", schema)
                if "$ref" not in target and "anyOf" not in target:
                    missing.append(f"{method.upper()} {path} → {code}: {schema}")
    return missing


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_answers_with_a_declared_model(service):
    assert untyped(service) == []


def test_a_view_refuses_a_field_it_does_not_declare():
    from pydantic import ValidationError

    from payments.views import AccountView
    with pytest.raises(ValidationError):
        AccountView(payment_id="PAY-1", bank="농협", holder="(주)김포정밀", number="301", pin="1234")
