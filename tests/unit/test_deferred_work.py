"""Work deferred to the end of an event's (or a batch's) transaction runs once per key, with everything the
batch brought known: four registry answers about one application reconsider it once."""
from types import SimpleNamespace

from sme_runtime.consumer import _run_deferred, defer_until_applied


async def test_work_deferred_under_one_key_runs_once_after_all_events():
    session = SimpleNamespace(info={})
    answers, runs = [], []
    for registry in ("business-status", "credit", "sanctions", "duplicate-projects"):
        answers.append(registry)  # the answer is recorded at once ...
        defer_until_applied(session, "screening:APP-1", lambda: _record(runs, list(answers)))  # ... decided later
    defer_until_applied(session, "screening:APP-2", lambda: _record(runs, ["other"]))
    assert runs == []
    await _run_deferred(session)
    assert runs == [["business-status", "credit", "sanctions", "duplicate-projects"], ["other"]]
    assert session.info == {}


async def test_work_that_defers_more_work_sees_it_run_too():
    session = SimpleNamespace(info={})
    runs = []

    async def first():
        runs.append("first")
        defer_until_applied(session, "second", lambda: _record(runs, "second"))

    defer_until_applied(session, "first", first)
    await _run_deferred(session)
    assert runs == ["first", "second"]


async def _record(runs: list, value) -> None:
    runs.append(value)
