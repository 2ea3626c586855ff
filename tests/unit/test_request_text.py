"""Issue 31: NUL and lone surrogates are refused in every JSON body a route takes, 422 naming the field, before
anything reaches PostgreSQL (a NUL in a committee's evaluator_id, an evaluator's fields or name, a ruling's
purpose were 500s). Every route's body is a `Form` (or an event contract, whose text types refuse them), and every
string field of every Form refuses both, however deep."""
from __future__ import annotations

import importlib
import typing

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from sme_runtime.views import Form
from sme_schemas.base import Contract

SERVICES = ("intake", "screening", "evaluation", "contracts", "payments")
BAD = {"NUL": "a\x00b", "lone surrogate": "a\ud800b"}


def _apps() -> list:
    return [importlib.import_module(f"{service}.app").create_app() for service in SERVICES]


def _forms() -> list[type[Form]]:
    _apps()  # the routes' modules are imported
    found, todo = [], list(Form.__subclasses__())
    while todo:
        form = todo.pop()
        found.append(form)
        todo.extend(form.__subclasses__())
    return sorted(found, key=lambda f: f"{f.__module__}.{f.__name__}")


def _body_models(route: APIRoute) -> list[type]:
    body = route.body_field
    if body is None:
        return []
    annotation = body.field_info.annotation
    return [a for a in (typing.get_args(annotation) or (annotation,)) if isinstance(a, type)]


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_takes_its_body_as_a_form_or_an_event_contract(service):
    app = importlib.import_module(f"{service}.app").create_app()
    loose = [f"{sorted(r.methods)} {r.path}: {m.__name__}" for r in app.routes if isinstance(r, APIRoute)
             for m in _body_models(r) if issubclass(m, BaseModel) and not issubclass(m, (Form, Contract))]
    assert loose == []


def _text_values(annotation: object, text: str) -> list[object]:
    """Values of a field's type that carry `text` in a string: the string itself, in a list, as a map's key."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if annotation is str:
        return [text]
    if origin in (list, tuple, set, frozenset) and args and args[0] is str:
        return [[text]]
    if origin is dict:
        return [{text: "x"}]
    return [v for a in args for v in _text_values(a, text)]


@pytest.mark.parametrize("kind", BAD)
def test_every_text_field_of_every_form_refuses_nul_and_lone_surrogates(kind):
    checked = 0
    for form in _forms():
        for name, field in form.model_fields.items():
            for value in _text_values(field.annotation, BAD[kind]):
                with pytest.raises(ValidationError) as refused:
                    form.model_validate({name: value})
                mine = [e for e in refused.value.errors() if e["loc"][:1] == (name,)]
                assert mine and mine[0]["type"] == "text", (form.__name__, name, mine)
                checked += 1
    assert checked > 40  # the forms of five services have that many text fields, at least


@pytest.mark.parametrize("service", SERVICES)
def test_a_method_a_path_does_not_take_is_answered_405_with_every_method_it_does(service):
    """The Allow header of a 405 names every method of the path, from all its routes (issue 31: it named the
    methods of one route only)."""
    from fastapi.testclient import TestClient

    app = importlib.import_module(f"{service}.app").create_app()
    client = TestClient(app)
    checked = 0
    for path, operations in app.openapi()["paths"].items():
        taken = {m.upper() for m in operations}
        refused = next((m for m in ("PATCH", "DELETE", "PUT", "POST") if m not in taken), None)
        if refused is None or "{" in path and path.endswith("}") and path.count("{") > 2:
            continue
        concrete = path.replace("{", "x").replace("}", "")
        answer = client.request(refused, concrete)
        assert answer.status_code == 405, (refused, concrete, answer.status_code)
        assert set(answer.headers["allow"].split(", ")) == taken, (path, answer.headers["allow"])
        assert answer.json()["errors"][0]["rule"] == "method"
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("body, where", [
    ({"name": "  ", "affiliation": "김포대학교"}, ("name",)),
    ({"name": "최평가", "affiliation": "김포대학교", "fields": ["공정개선", " "]}, ("fields", 1)),
    ({"name": "최평가", "affiliation": "김포대학교", "employers": [
        {"brn": "1248100998", "name": "(주)김포정밀", "since": "2020-03-01", "until": "2019-02-28"}]},
     ("employers", 0)),
])
def test_an_evaluators_record_of_blank_words_or_backwards_employment_is_refused(body, where):
    """`PUT /evaluators/{id}` took blank names and fields and an employment ending before it began (issue 31):
    records no one could search, and conflict periods (F6) that cover nothing."""
    from evaluation.api import EvaluatorForm

    with pytest.raises(ValidationError) as refused:
        EvaluatorForm.model_validate(body)
    assert [e["loc"] for e in refused.value.errors()] == [where]
