"""The in-memory stores the use-case tests run on (tests/fakes) keep to the real stores' shape by type, not by a
comparison of names: each fake is declared a subclass of its service's store class, and mypy (which runs over
tests/fakes in the test command, tests/unit/test_lint.py) holds every query it answers to the real signature. A
query the fake does not answer reaches `no_database()` and fails naming itself. Whether a fake answers as its SQL
does is tests/integration/test_fake_stores_agree.py's question."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.contracts import FakeContractsStore
from tests.fakes.evaluation import FakeEvaluationStore
from tests.fakes.intake import FakeIntakeStore
from tests.fakes.payments import FakePaymentsStore
from tests.fakes.portal import FakePortalStore
from tests.fakes.screening import FakeScreeningStore
from tests.fakes.unit import FakeUnit, run

ROOT = Path(__file__).resolve().parents[2]
FAKES = {"intake": FakeIntakeStore, "screening": FakeScreeningStore, "evaluation": FakeEvaluationStore,
         "contracts": FakeContractsStore, "payments": FakePaymentsStore, "portal": FakePortalStore}


@pytest.mark.parametrize("service", FAKES)
def test_each_fake_is_declared_its_services_store(service):
    real = getattr(importlib.import_module(f"{service}.store"), f"{service.capitalize()}Store")
    assert issubclass(FAKES[service], real)


def test_a_query_the_fake_does_not_answer_fails_naming_itself():
    uow = FakeUnit(FakeEvaluationStore())
    with pytest.raises(NotImplementedError, match="session.execute"):
        run(uow.store.counts_by_status())  # answered by SQL only (an operator's gauge)


def test_mypy_refuses_a_fake_whose_query_drifted(tmp_path):
    drifted = tmp_path / "drifted_fake.py"
    drifted.write_text(
        "from typing import Any\n\nfrom evaluation.store import EvaluationStore\n\n\n"
        "class DriftedFake(EvaluationStore):\n"
        "    async def candidate(self, application_id: str, *, locked: bool = False) -> Any:  # the store: `lock`\n"
        "        return None\n", "utf-8")
    result = subprocess.run([str(Path(sys.executable).parent / "mypy"), "--cache-dir=/dev/null", str(drifted)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert 'Signature of "candidate" incompatible with supertype "evaluation.store.EvaluationStore"' in result.stdout
