"""The in-memory stores the use-case tests run on (tests/fakes) keep to the real stores' shape: every query a
fake answers is a function of the service's store module with the same parameters (the session aside), and every
query a service's use cases make through their unit of work (`uow.store.<query>`) has its fake. A query renamed
or given a new parameter in one place only fails here, not as a use-case test that passes on a wrong fake."""
from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from tests.fakes.contracts import FakeContractsStore
from tests.fakes.evaluation import FakeEvaluationStore
from tests.fakes.intake import FakeIntakeStore
from tests.fakes.payments import FakePaymentsStore
from tests.fakes.portal import FakePortalStore
from tests.fakes.screening import FakeScreeningStore

ROOT = Path(__file__).resolve().parents[2]
FAKES = {"intake": FakeIntakeStore, "screening": FakeScreeningStore, "evaluation": FakeEvaluationStore,
         "contracts": FakeContractsStore, "payments": FakePaymentsStore, "portal": FakePortalStore}
USE_CASES = {service: "handlers.py" for service in FAKES} | {"portal": "notifier.py"}  # the portal's consumer


def queries(fake: type) -> dict[str, object]:
    return {name: f for name, f in vars(fake).items() if inspect.iscoroutinefunction(f) and not name.startswith("_")}


def parameters(function, *, skip: int) -> list[tuple[str, object, object]]:
    params = list(inspect.signature(function).parameters.values())[skip:]
    return [(p.name, p.kind, p.default) for p in params]


@pytest.mark.parametrize("service", FAKES)
def test_each_fake_query_is_the_stores_with_the_same_parameters(service):
    store = importlib.import_module(f"{service}.store")
    for name, fake in queries(FAKES[service]).items():
        real = getattr(store, name, None)
        assert inspect.iscoroutinefunction(real), f"{service}.store has no query {name} (the fake has)"
        assert parameters(fake, skip=1) == parameters(real, skip=1), f"{service}.store.{name}: parameters differ"


@pytest.mark.parametrize("service", FAKES)
def test_every_query_the_use_cases_make_has_its_fake(service):
    source = (ROOT / "services" / service / service / USE_CASES[service]).read_text("utf-8")
    used = set(re.findall(r"\buow\.store\.(\w+)\(", source))
    assert used, f"{service}'s use cases make no query through their unit of work"
    assert used <= set(queries(FAKES[service])), f"not faked: {sorted(used - set(queries(FAKES[service])))}"


def test_a_changed_parameter_is_noticed():
    class Drifted(FakeEvaluationStore):
        async def candidate(self, application_id: str, *, locked: bool = False):  # the store says `lock`
            return None

    store = importlib.import_module("evaluation.store")
    assert parameters(Drifted.candidate, skip=1) != parameters(store.candidate, skip=1)
