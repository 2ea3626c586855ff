"""The event contracts: described, frozen, no contact or account data, compatible with what is committed."""
import copy

import pytest
from pydantic import ValidationError

from sme_schemas import EVENTS
from sme_schemas.compat import incompatibilities
from sme_schemas.examples import EXAMPLES
from sme_schemas.export import check, event_schema
from sme_schemas.payments import PaymentDue

FORBIDDEN_ON_THE_BUS = ("phone", "contact", "email", "account", "bank")


def _fields(node, root, path, seen):
    if "$ref" in node:
        name = node["$ref"].split("/")[-1]
        if name in seen:
            return
        seen.add(name)
        node = root["$defs"][name]
    for key, prop in node.get("properties", {}).items():
        yield path + key, prop
        for sub in [prop, *prop.get("anyOf", []), prop.get("items") or {}]:
            if isinstance(sub, dict) and ("$ref" in sub or "properties" in sub):
                yield from _fields(sub, root, f"{path}{key}.", seen)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.__name__)
def test_every_field_is_described(event):
    schema = event_schema(event)
    undescribed = [
        p for p, prop in _fields(schema, schema, "", set()) if "description" not in prop and "$ref" not in prop
    ]
    assert undescribed == []


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.__name__)
def test_no_contact_or_bank_data_on_the_bus(event):
    schema = event_schema(event)
    names = [p for p, _ in _fields(schema, schema, "", set())]
    assert [n for n in names if any(word in n.split(".")[-1] for word in FORBIDDEN_ON_THE_BUS)] == []


def test_events_are_frozen():
    event = PaymentDue.model_validate(EXAMPLES["PaymentDue"])
    with pytest.raises(ValidationError):
        event.amount = 1


def test_money_is_integer_krw():
    data = dict(EXAMPLES["PaymentDue"], amount=5_000_000.5)
    with pytest.raises(ValidationError):
        PaymentDue.model_validate(data)


def test_instants_are_normalised_to_utc():
    data = dict(EXAMPLES["PaymentDue"], occurred_at="2024-12-02T09:00:00+09:00")
    assert PaymentDue.model_validate(data).occurred_at.utcoffset().total_seconds() == 0


def test_committed_schemas_and_asyncapi_are_current_and_compatible():
    assert check() == []


BASE = {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}


@pytest.mark.parametrize("change, expected", [
    (lambda s: s["properties"].pop("b"), "b: field removed"),
    (lambda s: s["properties"].__setitem__("a", {"type": "string"}), "a.: type changed"),
    (lambda s: s["required"].append("b"), "b: new required field"),
    (lambda s: (s["properties"].__setitem__("c", {"type": "string"}), s["required"].append("c")), "c: new required"),
])
def test_incompatible_changes_are_caught(change, expected):
    new = copy.deepcopy(BASE)
    change(new)
    assert any(expected in p for p in incompatibilities(BASE, new))


def test_adding_an_optional_field_is_compatible():
    new = copy.deepcopy(BASE)
    new["properties"]["c"] = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    assert incompatibilities(BASE, new) == []


def test_widening_a_type_to_nullable_is_compatible():
    new = copy.deepcopy(BASE)
    new["properties"]["b"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert incompatibilities(BASE, new) == []
