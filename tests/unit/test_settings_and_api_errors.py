"""Settings refuse unsafe production values; the API answers bad requests with field and rule before any I/O."""
import json
import re

import httpx
import pytest
from pydantic import ValidationError

from intake.app import create_app
from intake.config import IntakeSettings
from sme_runtime.auth import Role, mint_token
from sme_runtime.db import make_engine, session_factory
from sme_runtime.settings import DEVELOPMENT_SECRET

NOWHERE = "postgresql+asyncpg://nobody@127.0.0.1:1/none"


def test_production_refuses_the_development_secret():
    with pytest.raises(ValidationError, match="jwt_secret"):
        IntakeSettings(environment="production")
    assert IntakeSettings(environment="production", jwt_secret="s" * 40).environment == "production"


@pytest.fixture
def client():
    # No lifespan: these requests are refused before the handler touches the database or the broker. The routes'
    # sessions are made (sme_runtime.routes) over a database nobody listens for: a request that reached it would be
    # answered 503, not with the field and the rule.
    app = create_app(IntakeSettings(database_url=NOWHERE))
    app.state.sessions = session_factory(make_engine(NOWHERE))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake")


def operator():
    return {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject="op", role=Role.OPERATOR,
                                                    agencies=["gimpo"])}


async def test_every_route_needs_a_token(client):
    for method, path in [("GET", "/applications"), ("GET", "/applications/APP-X"), ("POST", "/applications"),
                         ("PUT", "/applications/APP-X"), ("POST", "/applications/APP-X/withdrawal"),
                         ("GET", "/programs")]:
        response = await client.request(method, path, json={})
        assert response.status_code == 401, (method, path)


async def test_evaluators_may_not_submit(client):
    headers = {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject="ev", role=Role.EVALUATOR,
                                                       agencies=["gimpo"])}
    assert (await client.post("/applications", json={}, headers=headers)).status_code == 403


async def test_company_token_without_brn_is_refused(client):
    token = mint_token(DEVELOPMENT_SECRET, subject="c", role=Role.COMPANY)
    response = await client.get("/applications", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == {"errors": [{"field": "Authorization", "rule": "authentication",
                                           "message": "company token without a 'brn' claim"}]}


async def test_auth_and_unknown_route_errors_have_the_one_error_shape(client):
    missing = await client.get("/applications")
    assert missing.status_code == 401 and missing.json()["errors"][0]["rule"] == "authentication"
    assert missing.headers["www-authenticate"] == "Bearer"
    headers = {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject="ev", role=Role.EVALUATOR,
                                                       agencies=["gimpo"])}
    forbidden = await client.post("/applications", json={}, headers=headers)
    assert forbidden.json()["errors"][0]["rule"] == "permission"
    nowhere = await client.get("/no-such-route", headers=operator())
    assert nowhere.status_code == 404 and nowhere.json()["errors"][0]["rule"] == "not-found"


@pytest.mark.parametrize("url, field", [
    ("/applications?program_id=%00", "program_id"),
    ("/applications?status=pass%00ed", "status"),
    ("/applications?program_id=%ff%fe", "(query)"),
    ("/applications/APP-%00", "(path)"),
])
async def test_text_postgresql_refuses_is_a_422_naming_the_parameter_before_any_query(client, url, field):
    response = await client.get(url, headers=operator())  # the database of this app does not exist: no 500
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": field, "rule": "text", "message": response.json()["errors"][0]
                                          ["message"]}] and "text" in response.json()["errors"][0]["message"]


async def test_missing_and_malformed_fields_are_each_named(client):
    response = await client.post("/applications", json={"program_id": "gimpo-sos-demo", "company": {
        "business_registration_number": "123"}}, headers=operator())
    assert response.status_code == 422
    errors = response.json()["errors"]
    fields = {e["field"] for e in errors}
    assert {"company.business_registration_number", "company.name", "consulting", "declarations"} <= fields
    assert all(e["rule"] == "A1" and e["message"] for e in errors)


def _app_failing_with(exc: Exception):
    from fastapi import FastAPI

    from sme_runtime.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app, default_rule="A1")

    @app.get("/boom")
    async def boom() -> None:
        raise exc

    return app


def test_a_database_that_was_away_answers_503_with_retry_after_in_the_error_shape():
    import asyncpg
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import InterfaceError

    dropped = InterfaceError("SELECT 1", {}, asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"))
    response = TestClient(_app_failing_with(dropped), raise_server_exceptions=False).get("/boom")
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json()["errors"][0]["rule"] == "availability"


def test_a_bug_stays_a_500_in_the_error_shape():
    from fastapi.testclient import TestClient

    response = TestClient(_app_failing_with(KeyError("x")), raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.json() == {"errors": [{"field": "(service)", "rule": "internal",
                                           "message": "an unexpected error; it is logged for the operators"}]}


async def test_the_api_documentation_works_without_a_cdn(client):
    """A municipal intranet has no route to a public CDN: /docs and /redoc load their assets from the service."""
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
        assert assets and all(a.startswith("/") for a in assets), assets
        for asset in assets:
            response = await client.get(asset)
            assert response.status_code == 200 and len(response.content) > 10_000, asset
    described = (await client.get("/openapi.json")).json()
    assert described["paths"]["/applications"]["post"]["responses"]["422"]["content"]["application/json"][
        "schema"] == {"$ref": "#/components/schemas/Errors"}


async def test_liveness_and_readiness_are_separate_probes(client):
    """No database and no broker behind this app: alive (a restart would not help), not ready (no traffic)."""
    assert (await client.get("/livez")).status_code == 200
    ready = await client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["database"] is False and ready.json()["kafka"] is False


async def test_dead_letters_are_for_operators_only(client):
    assert (await client.get("/dead-letters")).status_code == 401
    company = {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject="c", role=Role.COMPANY,
                                                        brn="1248100998")}
    assert (await client.get("/dead-letters", headers=company)).status_code == 403
    refused = await client.post("/dead-letters/replay", json={"ids": [], "reason": ""}, headers=operator())
    assert refused.status_code == 422 and {e["field"] for e in refused.json()["errors"]} == {"ids", "reason"}


async def test_an_offset_beyond_what_postgresql_takes_is_a_422_not_a_500(client):
    response = await client.get("/applications?offset=9223372036854775808", headers=operator())
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "offset"


def test_a_blank_withdrawal_reason_is_no_reason():
    from intake.api import Withdrawal

    assert Withdrawal(reason="").reason is None and Withdrawal(reason="  ").reason is None
    assert Withdrawal(reason="자체 해결").reason == "자체 해결"


def test_a_broker_that_is_away_answers_503_and_a_record_of_an_undeployed_program_409():
    from aiokafka.errors import KafkaConnectionError
    from fastapi.testclient import TestClient

    from sme_runtime.consumer import EventRefused

    away = TestClient(_app_failing_with(KafkaConnectionError("Unable to bootstrap")), raise_server_exceptions=False)
    response = away.get("/boom")
    assert response.status_code == 503 and response.json()["errors"][0]["rule"] == "availability"
    undeployed = EventRefused("no program definition 'gimpo-sos-2019' here", field="program_id", rule="A3")
    response = TestClient(_app_failing_with(undeployed), raise_server_exceptions=False).get("/boom")
    assert response.status_code == 409
    assert response.json()["errors"] == [{"field": "program_id", "rule": "A3",
                                          "message": "no program definition 'gimpo-sos-2019' here"}]


async def test_an_events_dataschema_is_a_url_the_services_serve(client, monkeypatch):
    """Issue 27: `ce_dataschema` could not be fetched (urn:). With the deployment's schema base URL set, it is the
    address of the body's JSON Schema, which every service answers; the schema validates the event's body."""
    from sme_schemas import wrap
    from sme_schemas.examples import EXAMPLES
    from sme_schemas.intake import ApplicationWithdrawn

    monkeypatch.setenv("SME_SCHEMA_BASE_URL", "http://intake/schemas/")
    event = ApplicationWithdrawn.model_validate(EXAMPLES["ApplicationWithdrawn"])
    url = wrap(event, source="/sme/intake").headers()["ce_dataschema"]
    assert url == f"http://intake/schemas/{ApplicationWithdrawn.ce_type()}.json"
    response = await client.get(url.removeprefix("http://intake"))
    schema = response.json()
    assert response.status_code == 200 and schema["$id"] == url and schema["x-topic"] == ApplicationWithdrawn.topic()
    assert set(schema["required"]) <= set(json.loads(event.model_dump_json()))
    unknown = await client.get("/schemas/kr.gimpo.sme.nothing.v1.json")
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "ce_type"
    document = (await client.get("/asyncapi.json")).json()
    assert document["asyncapi"] == "3.0.0" and "intake.application-submitted.v1" in document["channels"]
