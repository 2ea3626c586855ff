"""Admission control (issue 28): beyond the work a service answers promptly, a request is refused at once with
503 busy and Retry-After, before any of it is done; the probes never are. The decision is pure (Admission); the
middleware is driven here over ASGI with requests held in flight."""
from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from hypothesis import given, strategies as st

from sme_runtime.admission import Admission, AdmissionControl, lag_sheds_from


@given(in_flight=st.integers(0, 100), limit=st.integers(1, 100), lag_ms=st.floats(0, 5000),
       max_lag_ms=st.floats(1, 5000))
def test_a_request_is_admitted_exactly_while_in_flight_is_below_the_limit_and_the_loop_is_on_time(
        in_flight, limit, lag_ms, max_lag_ms):
    admission = Admission(max_in_flight=limit, max_loop_lag_ms=max_lag_ms)
    admission.in_flight, admission.loop_lag = in_flight, lag_ms / 1000
    busy_of_its_own = in_flight >= max(1, -(-limit // 8))
    expected = "in-flight" if in_flight >= limit else "loop-lag" if lag_ms > max_lag_ms and busy_of_its_own else None
    assert admission.refusal() == expected


@pytest.mark.parametrize("limit, floor", [(1, 1), (8, 1), (9, 2), (12, 2), (64, 8), (256, 32)])
def test_a_late_loop_refuses_only_from_an_eighth_of_the_limit_in_flight(limit, floor):
    assert lag_sheds_from(limit) == floor
    admission = Admission(max_in_flight=limit, max_loop_lag_ms=100)
    admission.loop_lag = 5.0
    admission.in_flight = floor - 1
    assert admission.refusal() is None  # the host is loaded, not this service: refusing frees nothing
    admission.in_flight = floor
    assert admission.refusal() == ("in-flight" if floor >= limit else "loop-lag")


@given(st.lists(st.floats(0, 120), min_size=1, max_size=50), st.floats(0, 10))
def test_retry_after_is_at_least_a_second_and_follows_the_recent_time_to_answer(answers, lag):
    admission = Admission(max_in_flight=1, max_loop_lag_ms=100)
    for seconds in answers:
        admission.answered(seconds)
    admission.loop_lag = lag
    assert admission.retry_after() >= max(1, min(answers) + lag - 1e-9)
    assert admission.retry_after() <= max(1, max(answers) + lag + 1)


def held_app(release: asyncio.Event, entered: list):
    async def app(scope, receive, send):
        entered.append(scope["path"])
        if scope["path"] == "/slow":
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"done"})
    return app


async def test_beyond_the_limit_a_request_is_refused_busy_at_once_and_the_probes_still_answer():
    release, entered = asyncio.Event(), []
    app = AdmissionControl(held_app(release, entered), service="test", max_in_flight=2, max_loop_lag_ms=10_000)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        held = [asyncio.create_task(client.get("/slow")) for _ in range(2)]
        while len(entered) < 2:
            await asyncio.sleep(0.01)
        refused = await client.post("/applications", json={"a": 1})
        assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["errors"][0]["rule"] == "busy" and "/applications" not in entered  # nothing done
        for probe in ("/livez", "/readyz", "/health", "/metrics"):
            assert (await client.get(probe)).status_code == 200
        release.set()
        assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]
        assert (await client.get("/after")).status_code == 200  # room again once they were answered


async def test_a_late_event_loop_refuses_new_work_and_a_browser_is_told_in_korean():
    release, entered = asyncio.Event(), []
    app = AdmissionControl(held_app(release, entered), service="test", max_in_flight=16, max_loop_lag_ms=20,
                           for_browsers=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/first")).status_code == 200  # starts the loop watcher
        held = asyncio.create_task(client.get("/slow"))  # one page of its own in flight; the floor for 16 is 2
        while "/slow" not in entered:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.01)
        time.sleep(0.3)  # the loop is blocked: the watcher's timer fires a quarter of a second late
        await asyncio.sleep(0.002)  # the watcher wakes, late, and says so
        lone = await client.get("/lone")
        assert lone.status_code == 200  # one in flight, below an eighth of 16: the host is late, not the service
        second = asyncio.create_task(client.get("/slow"))
        while entered.count("/slow") < 2:
            await asyncio.sleep(0.01)
        time.sleep(0.3)
        await asyncio.sleep(0.002)
        refused = await client.get("/page")
        assert refused.status_code == 503 and "다시 시도해 주세요" in refused.text
        assert refused.headers["content-type"].startswith("text/html") and "/page" not in entered
        release.set()
        await asyncio.gather(held, second)
        await asyncio.sleep(0.7)  # on time again for longer than the watcher remembers
        assert (await client.get("/page")).status_code == 200


@pytest.mark.parametrize("body", [b"", b"{"])
async def test_a_refusal_happens_before_the_body_is_read(body):
    release, entered = asyncio.Event(), []
    app = AdmissionControl(held_app(release, entered), service="test", max_in_flight=1, max_loop_lag_ms=10_000)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        held = asyncio.create_task(client.get("/slow"))
        while not entered:
            await asyncio.sleep(0.01)
        refused = await client.post("/x", content=body)
        assert refused.status_code == 503 and json.loads(refused.text)["errors"][0]["field"] == "(service)"
        release.set()
        await held
