"""A lookup worker under a surge: many lookups in flight but never more than its bound, registries that take
batches get batches (the NTS API: 100 business numbers a call), a half-open circuit lets ONE probe out, and the
answers come back in the order asked (X3/X4 through the business-status registry)."""
import asyncio
from datetime import date, datetime, timezone

import httpx
import pytest

from deploy.registry.__main__ import create_registry_app, parse_latency
from screening.lookup.adapters import (
    ADAPTERS, NTS_BATCH_LIMIT, RegistryRefused, RegistryTimedOut, RegistryUnavailable,
)
from screening.lookup.circuit import CircuitBreaker, CircuitState
from screening.lookup.worker import Resilience
from sme_schemas.values import brn_check_digit
from screening.lookup.messages import LookupRequested, LookupResult, LookupSubject, Registry, Verdict

BRNS = [f"{n}{brn_check_digit(n)}" for n in (f"{100000000 + i * 7:09d}" for i in range(250))]


def subject(brn: str, ceo: str = "김대표") -> LookupSubject:
    return LookupSubject(
        business_registration_number=brn,
        company_name="(주)김포",
        ceo_name=ceo,
        project_manager_name="박과장",
        founded_on=date(2015, 5, 1),
        announcement_date=date(2024, 3, 25),
        as_of=date(2024, 4, 10),
    )


def request(i: int, registry: Registry = Registry.SANCTIONS, **kw) -> LookupRequested:
    return LookupRequested(program_id="gimpo-sos-2024", occurred_at=datetime.now(timezone.utc), lookup_id=f"L-{i}",
                           application_id=f"APP-01HTX5Q3Z8K2M4N6P8R0S{i:05d}", registry=registry,
                           about=subject(BRNS[i], **kw))


class SlowRegistry:
    """Answers every lookup after a pause, counting how many calls are under way at once."""

    registry = Registry.SANCTIONS

    def __init__(self, pause: float = 0.02, breaker: CircuitBreaker | None = None) -> None:
        self.pause, self.in_flight, self.most, self.calls, self.breaker = pause, 0, 0, 0, breaker
        self.down = False
        self.probes_not_alone = 0

    async def look_up(self, about: LookupSubject) -> LookupResult:
        self.calls += 1
        self.in_flight += 1
        if self.breaker is not None and self.breaker.state is CircuitState.HALF_OPEN and self.in_flight > 1:
            self.probes_not_alone += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(self.pause)
            if self.down:
                raise RegistryUnavailable("connection refused")
            return LookupResult.clear("X9", about.business_registration_number)
        finally:
            self.in_flight -= 1


async def test_many_lookups_in_flight_but_never_more_than_the_bound_and_answers_in_order():
    registry = SlowRegistry()
    resilience = Resilience(registry, CircuitBreaker(failure_threshold=3, reset_seconds=1), timeout_seconds=1,
                            backoff_seconds=0.01, concurrency=16)
    answers = await resilience.look_up_all([request(i) for i in range(120)])
    assert [result.findings[0].detail for result, _ in answers] == BRNS[:120]
    assert registry.most == 16 and registry.calls == 120 and resilience.answered == 120
    assert resilience.holding is None and not resilience.held


async def test_one_at_a_time_when_the_bound_is_one():
    registry = SlowRegistry(pause=0.001)
    resilience = Resilience(registry, CircuitBreaker(failure_threshold=3, reset_seconds=1), timeout_seconds=1,
                            backoff_seconds=0.01, concurrency=1)
    await resilience.look_up_all([request(i) for i in range(10)])
    assert registry.most == 1


async def test_a_half_open_circuit_lets_one_probe_out_and_the_rest_follow_its_outcome():
    breaker = CircuitBreaker(failure_threshold=3, reset_seconds=0.2)
    registry = SlowRegistry(pause=0.01, breaker=breaker)
    registry.down = True
    resilience = Resilience(registry, breaker, timeout_seconds=1, backoff_seconds=0.01, concurrency=12)
    task = asyncio.create_task(resilience.look_up_all([request(i) for i in range(40)]))
    while breaker.opened_count == 0:
        await asyncio.sleep(0.01)
    assert len(resilience.held) > 0 and resilience.holding is not None  # held, visible on /health
    await asyncio.sleep(0.5)  # at least one probe fails and reopens the circuit
    registry.down = False
    answers = await asyncio.wait_for(task, 10)
    assert len(answers) == 40 and all(r.verdict is Verdict.CLEAR for r, _ in answers)
    assert registry.probes_not_alone == 0, "a half-open circuit let more than one call out"
    assert breaker.state is CircuitState.CLOSED and breaker.opened_count >= 2 and not resilience.held


class BatchingRegistry:
    registry = Registry.BUSINESS_STATUS
    batch_limit = 100

    def __init__(self) -> None:
        self.chunks: list[int] = []

    async def look_up_many(self, subjects):
        self.chunks.append(len(subjects))
        await asyncio.sleep(0.01)
        return [LookupResult.clear("X3", s.business_registration_number) for s in subjects]

    async def look_up(self, about):
        return (await self.look_up_many([about]))[0]


async def test_a_registry_that_takes_batches_gets_batches_of_at_most_its_limit():
    registry = BatchingRegistry()
    resilience = Resilience(registry, CircuitBreaker(failure_threshold=3, reset_seconds=1), timeout_seconds=1,
                            backoff_seconds=0.01, concurrency=4)
    answers = await resilience.look_up_all([request(i, Registry.BUSINESS_STATUS) for i in range(250)])
    assert sorted(registry.chunks) == [50, 100, 100]
    assert [r.findings[0].detail for r, _ in answers] == BRNS[:250]


def nts_dataset(closed: set[str], other_ceo: set[str]) -> dict:
    return {"business_status": {brn: {"b_stt": "폐업자" if brn in closed else "계속사업자",
                                      "b_stt_cd": "03" if brn in closed else "01", "tax_type": "일반과세자",
                                      "tax_type_cd": "01", "end_dt": "20240101" if brn in closed else "",
                                      "start_dt": "20150501", "p_nm": "이대표" if brn in other_ceo else "김대표"}
                                for brn in BRNS[:200]}}


def nts_adapter(data: dict):
    app = create_registry_app("business-status", data)
    adapter = ADAPTERS[Registry.BUSINESS_STATUS]("http://nts.local",
                                                 client=httpx.AsyncClient(transport=httpx.ASGITransport(app=app)))
    return app, adapter


async def test_business_status_in_batches_of_100_answers_each_company_as_one_by_one_would():
    closed, other_ceo = set(BRNS[3:200:17]), set(BRNS[5:200:23])
    app, adapter = nts_adapter(nts_dataset(closed, other_ceo))
    resilience = Resilience(adapter, CircuitBreaker(failure_threshold=3, reset_seconds=1), timeout_seconds=5,
                            backoff_seconds=0.01, concurrency=4)
    try:
        # 210 lookups: 200 known companies and 10 numbers the NTS does not know.
        batched = await resilience.look_up_all([request(i, Registry.BUSINESS_STATUS) for i in range(210)])
        assert app.state.calls == 3 * 2  # status + validation for each of 100, 100, 10
        assert resilience.batch_limit == NTS_BATCH_LIMIT == 100
        one_by_one = [await adapter.look_up(subject(BRNS[i])) for i in range(210)]
    finally:
        await adapter.aclose()
    assert [r for r, _ in batched] == one_by_one
    verdicts = {BRNS[i]: r.verdict for i, (r, _) in enumerate(batched)}
    rules = {BRNS[i]: r.findings[0].rule for i, (r, _) in enumerate(batched)}
    assert all(verdicts[b] is Verdict.EXCLUDED and rules[b] == "X3" for b in closed)
    assert all(verdicts[b] is Verdict.REFER and rules[b] == "X4" for b in other_ceo - closed)
    assert all(verdicts[b] is Verdict.REFER and rules[b] == "X3" for b in BRNS[200:210])  # unknown number
    assert all(verdicts[b] is Verdict.CLEAR for b in set(BRNS[:200]) - closed - other_ceo)


async def test_the_stand_in_refuses_more_than_100_numbers_as_the_nts_api_does():
    app, adapter = nts_adapter(nts_dataset(set(), set()))
    try:
        response = await adapter.client.post("http://nts.local/api/nts-businessman/v1/status",
                                             json={"b_no": BRNS[:101]})
        assert response.status_code == 413 and response.json()["status_code"] == "TOO_LARGE_REQUEST"
        with pytest.raises(RegistryRefused):
            await adapter._call("POST", "/api/nts-businessman/v1/validate",
                                json={"businesses": [{"b_no": b} for b in BRNS[:101]]})
        with pytest.raises(ValueError, match="1 to 100"):
            await adapter.look_up_many([subject(b) for b in BRNS[:101]])
    finally:
        await adapter.aclose()


@pytest.mark.parametrize("text, bounds", [("50-150", (50.0, 150.0)), ("0", (0.0, 0.0)), ("20", (20.0, 20.0))])
def test_stand_in_latency_ranges(text, bounds):
    assert parse_latency(text) == bounds


@pytest.mark.parametrize("text", ["150-50", "-5"])
def test_stand_in_latency_ranges_that_make_no_sense_are_refused(text):
    import argparse

    with pytest.raises((argparse.ArgumentTypeError, ValueError)):
        parse_latency(text)


async def test_a_poll_held_past_the_limit_is_handed_back_unanswered_and_nothing_stays_held():
    """The worker keeps polling (and stays in its consumer group) while a registry is away: after
    `hold_seconds` the unanswered requests come back as None, for the broker to deliver again."""
    registry = SlowRegistry(pause=0.001)
    registry.down = True
    breaker = CircuitBreaker(failure_threshold=2, reset_seconds=5)
    resilience = Resilience(registry, breaker, timeout_seconds=1, backoff_seconds=0.01, concurrency=4)
    answers = await resilience.look_up_all([request(i) for i in range(6)], hold_seconds=0.3)
    assert answers == [None] * 6 and breaker.state is CircuitState.OPEN
    assert not resilience.held and resilience.in_flight == 0
    registry.down = False
    breaker.record_success()  # the registry is back (a probe succeeded)
    again = await resilience.look_up_all([request(i) for i in range(6)], hold_seconds=0.3)
    assert all(a is not None and a[0].verdict is Verdict.CLEAR for a in again)


def projects_adapter(latency_ms: str = "0"):
    app = create_registry_app("duplicate-projects", {"projects": []}, latency_ms=parse_latency(latency_ms))
    return ADAPTERS[Registry.DUPLICATE_PROJECTS](
        "http://rnd.local", client=httpx.AsyncClient(transport=httpx.ASGITransport(app=app)), timeout_seconds=0.2)


async def test_a_slow_analysis_on_a_loaded_host_is_not_a_failing_registry(monkeypatch):
    """Issue 28: the similarity analysis queued behind a surge's others, on starved cores, took longer than the
    registry timeout; it was counted as the registry failing, the circuit opened and the slowest analyses were
    never answered. The timeout bounds the registry's call, not the worker's own work on the answer."""
    import time

    from screening.lookup import adapters

    analyse = adapters.interpret_prior_projects

    def slow_analysis(*args):
        time.sleep(0.3)  # longer than the registry timeout of 0.2 s
        return analyse(*args)

    monkeypatch.setattr(adapters, "interpret_prior_projects", slow_analysis)
    adapter = projects_adapter()
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=60)
    resilience = Resilience(adapter, breaker, timeout_seconds=0.2, backoff_seconds=0.01, concurrency=4)
    try:
        answers = await resilience.look_up_all([request(i, Registry.DUPLICATE_PROJECTS) for i in range(3)],
                                               hold_seconds=5)
    finally:
        await adapter.aclose()
    assert [(r.verdict, attempts) for r, attempts in answers] == [(Verdict.CLEAR, 1)] * 3
    assert breaker.state is CircuitState.CLOSED


async def test_a_registry_slower_than_the_timeout_still_fails_the_call():
    """The in-process transport enforces none of httpx's phase timeouts: the adapter's backstop (four timeouts and
    a second) still ends the call (a real socket's read timeout: tests/integration/test_registry_pool_recovery)."""
    adapter = projects_adapter("2500-2500")
    try:
        with pytest.raises(RegistryTimedOut):
            await adapter.look_up(subject(BRNS[0]))
    finally:
        await adapter.aclose()


def records_dataset() -> dict:
    """Credit records of some companies' CEOs or project managers, sanctions of others (X2, X8, X9)."""
    credit = {brn: [{"role": "ceo" if i % 2 else "project-manager", "name": "김대표" if i % 2 else "박과장",
                     "records": [{"type": "delinquency", "institution": "카드사", "registered_on": "2024-01-02",
                                  "cleared_on": None}]}] for i, brn in enumerate(BRNS[:120:7])}
    sanctions = {brn: [{"category": "local-tax-arrears", "subject_role": "company", "agency": "김포시",
                        "record_id": f"T-{i}", "imposed_on": "2024-01-01", "lifted_on": None}]
                 for i, brn in enumerate(BRNS[3:120:11])}
    return {"credit": credit, "sanctions": sanctions}


@pytest.mark.parametrize("registry, calls", [(Registry.CREDIT, 4), (Registry.SANCTIONS, 2)])
async def test_credit_and_sanctions_in_batches_answer_each_company_as_one_by_one_would(registry, calls):
    """Issue 30: one call per 33 applications (credit: three subjects each) or per 100 (sanctions), not one call
    each; the same company twice in a batch is asked once and answered for both."""
    app = create_registry_app(registry.value, records_dataset())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    adapter = ADAPTERS[registry]("http://registry.local", client=client)
    resilience = Resilience(adapter, CircuitBreaker(failure_threshold=3, reset_seconds=1), timeout_seconds=5,
                            backoff_seconds=0.01, concurrency=4)
    asked = [request(i, registry) for i in range(120)] + [request(14, registry)]  # the 15th company twice
    try:
        batched = await resilience.look_up_all(asked)
        assert app.state.calls == calls
        one_by_one = [await adapter.look_up(r.about) for r in asked]
    finally:
        await adapter.aclose()
    assert [r for r, _ in batched] == one_by_one
    excluded = {BRNS[i] for i, (r, _) in enumerate(batched[:120]) if r.verdict is Verdict.EXCLUDED}
    assert excluded == set(records_dataset()[registry.value.replace("-", "_")])
    assert batched[-1][0] == batched[14][0] and batched[14][0].verdict is Verdict.EXCLUDED


async def test_prior_projects_in_batches_answer_each_plan_as_one_by_one_would():
    """Issue 30: one R&D project search per 100 businesses; each plan is still compared with its own company's
    ongoing projects only (D1–D3)."""
    plan = {"goal": "불량률을 낮춘다", "method": "현장 진단과 공정 FMEA", "content": "가공 공정 개선"}
    doing_the_same = set(BRNS[:120:9])
    projects = [{"registry": "NTIS", "project_id": f"N-{i}", "title": "같은 과제", "company_brn": brn,
                 "agency": "과기부", "start": "2024-01-01", "end": "2024-12-31", **plan}
                for i, brn in enumerate(sorted(doing_the_same))]
    app = create_registry_app("duplicate-projects", {"projects": projects})
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    adapter = ADAPTERS[Registry.DUPLICATE_PROJECTS]("http://rnd.local", client=client)
    asked = [LookupRequested(program_id="gimpo-sos-2024", occurred_at=datetime.now(timezone.utc), lookup_id=f"L-{i}",
                             application_id=f"APP-01HTX5Q3Z8K2M4N6P8R0S{i:05d}", registry=Registry.DUPLICATE_PROJECTS,
                             about=subject(BRNS[i]).model_copy(update=plan)) for i in range(120)]
    resilience = Resilience(adapter, CircuitBreaker(failure_threshold=3, reset_seconds=1), timeout_seconds=5,
                            backoff_seconds=0.01, concurrency=4)
    try:
        batched = await resilience.look_up_all(asked)
        assert app.state.calls == 2
        one_by_one = [await adapter.look_up(r.about) for r in asked]
    finally:
        await adapter.aclose()
    assert [r for r, _ in batched] == one_by_one
    assert {BRNS[i] for i, (r, _) in enumerate(batched) if r.verdict is Verdict.EXCLUDED} == doing_the_same
