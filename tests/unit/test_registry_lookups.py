"""What each registry's answer means (X2, X3, X4, X5, X8, X9, D3), spoken over the registries' HTTP shapes, and
how a worker holds a lookup while its registry is away (timeout, retries with backoff, circuit breaker)."""
import asyncio
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest

from deploy.registry.__main__ import create_registry_app
from screening.lookup.adapters import (
    ADAPTERS, RegistryUnavailable, interpret_business_status, interpret_credit, interpret_places,
    interpret_sanctions, merged,
)
from screening.lookup.circuit import CircuitBreaker, CircuitState
from screening.lookup.messages import LookupRequested, LookupResult, LookupSubject, Registry, Verdict
from screening.lookup.worker import Resilience

ANNOUNCED, TODAY = date(2024, 3, 25), date(2024, 4, 10)
BRN = "1248100998"


def subject(**kw) -> LookupSubject:
    base = dict(business_registration_number=BRN, company_name="(주)김포정밀", ceo_name="김대표",
                project_manager_name="박과장", founded_on=date(2012, 3, 15), announcement_date=ANNOUNCED, as_of=TODAY,
                goal="불량률을 낮춘다", method="현장 진단과 공정 FMEA", content="가공 공정 개선",
                duplicate_threshold=0.75, borderline_threshold=0.45)
    return LookupSubject(**{**base, **kw})


def nts(code: str, **row) -> dict:
    return {"data": [{"b_no": BRN, "b_stt_cd": code, "b_stt": row.pop("b_stt", ""), "tax_type": "", **row}]}


@pytest.mark.parametrize("code, verdict, rule", [("01", Verdict.CLEAR, "X3"), ("02", Verdict.EXCLUDED, "X3"),
                                                 ("03", Verdict.EXCLUDED, "X3"), ("", Verdict.REFER, "X3")])
def test_x3_business_status_codes(code, verdict, rule):
    result = interpret_business_status(nts(code), {"data": [{"valid": "01"}]})
    assert result.verdict is verdict and [f.rule for f in result.findings] == [rule]


def test_x4_a_validation_mismatch_is_for_an_operator():
    result = interpret_business_status(nts("01", b_stt="계속사업자"), {"data": [{"valid": "02"}]})
    assert result.verdict is Verdict.REFER and [f.rule for f in result.findings] == ["X4"]


def place(address: str, registered: str, moved_out: str = "", kind: str = "hq") -> dict:
    return {"kind": kind, "address": address, "registered_on": registered, "moved_out_on": moved_out}


IN_CITY = "경기도 김포시 양촌읍 황금로 123"


@pytest.mark.parametrize("places, verdict, rule", [
    ([place(IN_CITY, "20140601")], Verdict.CLEAR, "X1"),  # since the day the form says
    ([place(IN_CITY, "20240325")], Verdict.REFER, "X4"),  # registered on the announcement day: in the city, but
    # later than the form's 2014 says (Q3's years)
    ([place(IN_CITY, "20240326")], Verdict.EXCLUDED, "X1"),  # the day after the announcement
    ([place("인천광역시 서구 가좌로 84", "20100101", "20240328"), place(IN_CITY, "20240328")], Verdict.EXCLUDED, "X1"),
    ([place(IN_CITY, "20100101", "20240324")], Verdict.EXCLUDED, "X1"),  # moved out the day before
    ([place(IN_CITY, "20100101", "20240325")], Verdict.CLEAR, "X1"),  # moved out on the day: still there then
    ([place("서울특별시 강서구 1", "20100101"), place(IN_CITY, "20120101", kind="factory")], Verdict.CLEAR, "X1"),
])
def test_x1_the_registered_places_as_of_the_announcement_day(places, verdict, rule):
    result = interpret_places(places, subject(region_city="김포시", declared_in_city_since=date(2014, 6, 1)))
    assert result is not None and result.verdict is verdict and [f.rule for f in result.findings] == [rule]


def test_x1_no_places_known_or_no_city_asked_leaves_the_application_s_word():
    assert interpret_places([], subject(region_city="김포시")) is None
    assert interpret_places([place(IN_CITY, "20150718")], subject()) is None


def test_one_registry_s_answers_merge_to_the_gravest_with_its_findings():
    clear_status = interpret_business_status(nts("01", b_stt="계속사업자"), {"data": [{"valid": "01"}]})
    moved_in_late = interpret_places([place(IN_CITY, "20240401")], subject(region_city="김포시"))
    both = merged(clear_status, moved_in_late)
    assert both.verdict is Verdict.EXCLUDED and [f.rule for f in both.findings] == ["X1"]
    fine = merged(clear_status, interpret_places([place(IN_CITY, "20100101")], subject(region_city="김포시")))
    assert fine.verdict is Verdict.CLEAR and [f.rule for f in fine.findings] == ["X3", "X1"]
    assert merged(clear_status, None) == clear_status


def credit(kind: str, registered: date, cleared: date | None, role: str = "ceo") -> dict:
    return {"results": [{"role": role, "name": "김대표", "records": [{
        "type": kind, "institution": "은행", "registered_on": registered.isoformat(),
        "cleared_on": cleared.isoformat() if cleared else None}]}]}


@pytest.mark.parametrize("kind, registered, cleared, verdict, rule", [
    ("credit-restriction", TODAY, None, Verdict.EXCLUDED, "X2"),            # registered today: in effect
    ("credit-restriction", TODAY + timedelta(days=1), None, Verdict.CLEAR, "X2"),  # not yet
    ("credit-restriction", date(2020, 1, 1), TODAY, Verdict.EXCLUDED, "X2"),       # cleared today: still today
    ("credit-restriction", date(2020, 1, 1), TODAY - timedelta(days=1), Verdict.CLEAR, "X2"),
    ("delinquency", date(2024, 1, 1), None, Verdict.EXCLUDED, "X8"),
])
def test_x2_x8_credit_records_in_effect(kind, registered, cleared, verdict, rule):
    result = interpret_credit(credit(kind, registered, cleared), TODAY)
    assert result.verdict is verdict and result.findings[0].rule == rule


def sanction(category: str, start: date, end: date | None, role: str = "company") -> dict:
    return {"records": [{"record_id": "R-1", "category": category, "agency": "김포시", "subject_role": role,
                         "imposed_on": start.isoformat(), "lifted_on": end.isoformat() if end else None}]}


@pytest.mark.parametrize("category, start, end, verdict, rule", [
    ("local-tax-arrears", ANNOUNCED, None, Verdict.EXCLUDED, "X9"),                       # from the announcement day
    ("illegal-building", date(2023, 1, 1), ANNOUNCED, Verdict.EXCLUDED, "X9"),            # lifted that very day
    ("illegal-building", date(2023, 1, 1), ANNOUNCED - timedelta(days=1), Verdict.CLEAR, "X9"),  # lifted the day before
    ("environmental-enforcement", ANNOUNCED + timedelta(days=1), None, Verdict.CLEAR, "X9"),    # after the announcement
    ("public-sanction", date(2023, 1, 1), TODAY, Verdict.EXCLUDED, "X8"),
    ("unfulfilled-obligation", date(2023, 1, 1), TODAY - timedelta(days=1), Verdict.CLEAR, "X9"),
])
def test_x8_x9_sanctions_as_of_their_dates(category, start, end, verdict, rule):
    result = interpret_sanctions(sanction(category, start, end), announcement_date=ANNOUNCED, as_of=TODAY)
    assert result.verdict is verdict and result.findings[0].rule == rule


DATASET = {
    "business_status": {
        BRN: {
            "b_stt": "계속사업자",
            "b_stt_cd": "01",
            "tax_type": "일반과세자",
            "tax_type_cd": "01",
            "end_dt": "",
            "start_dt": "20120315",
            "p_nm": "김대표",
        }
    },
    "credit": {
        BRN: [
            {
                "role": "project-manager",
                "name": "박과장",
                "records": [
                    {"type": "delinquency", "institution": "카드사", "registered_on": "2024-01-02", "cleared_on": None}
                ],
            }
        ]
    },
    "sanctions": {BRN: []},
    "projects": [
        {
            "registry": "NTIS",
            "project_id": "N-1",
            "title": "같은 과제",
            "company_brn": BRN,
            "agency": "과기부",
            "start": "2024-01-01",
            "end": "2024-12-31",
            "goal": "불량률을 낮춘다",
            "method": "현장 진단과 공정 FMEA",
            "content": "가공 공정 개선",
        },
        {
            "registry": "NTIS",
            "project_id": "N-2",
            "title": "끝난 과제",
            "company_brn": BRN,
            "agency": "과기부",
            "start": "2022-01-01",
            "end": "2023-12-31",
            "goal": "불량률을 낮춘다",
            "method": "현장 진단과 공정 FMEA",
            "content": "가공 공정 개선",
        },
    ],
}


async def ask(registry: Registry, about: LookupSubject) -> LookupResult:
    transport = httpx.ASGITransport(app=create_registry_app(registry.value, DATASET))
    adapter = ADAPTERS[registry]("http://registry.local", client=httpx.AsyncClient(transport=transport))
    try:
        return await adapter.look_up(about)
    finally:
        await adapter.aclose()


async def test_adapters_over_the_registries_http_shapes():
    assert (await ask(Registry.BUSINESS_STATUS, subject())).verdict is Verdict.CLEAR
    assert (await ask(Registry.BUSINESS_STATUS, subject(ceo_name="김철수"))).verdict is Verdict.REFER  # X4
    assert (
        await ask(Registry.BUSINESS_STATUS, subject(business_registration_number="2208162517"))
    ).verdict is Verdict.REFER
    pm = await ask(Registry.CREDIT, subject())
    assert pm.verdict is Verdict.EXCLUDED and pm.findings[0].rule == "X8" and "박과장" in pm.findings[0].detail
    assert (await ask(Registry.CREDIT, subject(project_manager_name="최대리"))).verdict is Verdict.CLEAR
    assert (await ask(Registry.SANCTIONS, subject())).verdict is Verdict.CLEAR
    duplicate = await ask(Registry.DUPLICATE_PROJECTS, subject())
    assert (
        duplicate.verdict is Verdict.EXCLUDED and "N-1" in duplicate.findings[0].detail
    )  # the ended N-2 is not "under way"
    later = await ask(Registry.DUPLICATE_PROJECTS, subject(as_of=date(2025, 1, 1)))
    assert later.verdict is Verdict.CLEAR


class FlakyRegistry:
    """Stands in for a remote registry: fails `failures` times, or hangs, then answers."""

    registry = Registry.SANCTIONS

    def __init__(self, failures: int, hang: bool = False) -> None:
        self.failures, self.hang, self.calls = failures, hang, 0

    async def look_up(self, about):
        self.calls += 1
        if self.calls <= self.failures:
            if self.hang:
                await asyncio.sleep(10)
            raise RegistryUnavailable("connection refused")
        return LookupResult.clear("X9", "none")

    async def aclose(self):
        pass


def request() -> LookupRequested:
    return LookupRequested(
        program_id="gimpo-sos-2024",
        occurred_at=datetime.now(timezone.utc),
        lookup_id="L-1",
        application_id="APP-01HTX5Q3Z8K2M4N6P8R0S2T4V6",
        registry=Registry.SANCTIONS,
        about=subject(),
    )


async def test_worker_retries_with_doubling_backoff_and_waits_out_an_open_circuit():
    slept, clock = [], [0.0]

    async def sleep(seconds):
        slept.append(round(seconds, 3))
        clock[0] += seconds

    breaker = CircuitBreaker(failure_threshold=3, reset_seconds=5, clock=lambda: clock[0])
    registry = FlakyRegistry(failures=4)
    resilience = Resilience(registry, breaker, timeout_seconds=1, backoff_seconds=0.2, sleep=sleep)
    result, attempts = await resilience.look_up(request())
    assert result.verdict is Verdict.CLEAR and attempts == 5 and registry.calls == 5
    # 0.2, 0.4 between retries; the third failure opens the circuit: wait out the rest of its 5 s, then a probe
    # fails and reopens it, and the next probe succeeds.
    assert slept[:2] == [0.2, 0.4] and breaker.state is CircuitState.CLOSED and breaker.opened_count == 2
    assert sum(slept) >= 10


async def test_worker_times_out_a_hanging_registry():
    breaker = CircuitBreaker(failure_threshold=5, reset_seconds=5)
    resilience = Resilience(FlakyRegistry(failures=1, hang=True), breaker, timeout_seconds=0.05,
                            backoff_seconds=0.01)
    result, attempts = await resilience.look_up(request())
    assert attempts == 2 and result.verdict is Verdict.CLEAR
