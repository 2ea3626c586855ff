"""Screening as real processes — the service, four lookup workers, four local registry servers and intake — on the
real broker and databases: the sample call screened end to end, a registry killed mid-run, a lookup worker
SIGKILLed mid-batch, the E6 timer across a restart, operator rulings, X10 and the X11 re-check."""
from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import asyncpg
import httpx
import pytest

from deploy.local.procs import REGISTRIES, publish_event, registry_processes, screening_env, screening_processes
from deploy.sample.program_call import demo_program, sample_forms
from deploy.sample.screening_scenario import adjust_forms, expected, moved_in_after, registry_dataset
from sme_runtime.auth import Role, mint_token
from sme_runtime.settings import DEVELOPMENT_SECRET
from sme_schemas.contracts import ParticipationGivenUp
from sme_schemas.evaluation import RecheckRequested
from sme_schemas.examples import EXAMPLES
from sme_schemas.intake import ApplicationSubmitted
from sme_schemas.periods import WorkingCalendar, local_date
from sme_schemas.screening import (
    ApplicationRejected, ManualReviewRequested, RecheckCompleted, ScreeningPassed, ScreeningStarted,
    SupplementRequested,
)
from tests.support import (
    KAFKA, ROOT, TEST_ENV, ServiceProcess, db_url, end_offsets, read_topic, screening_groups,
    start_groups_at_end,
)

INTAKE = "http://127.0.0.1:18001"
SCREENING = "http://127.0.0.1:18002"
REGISTRY_PORTS = {r: 18101 + i for i, r in enumerate(REGISTRIES)}
WORKER_PORTS = {r: 18012 + i for i, r in enumerate(REGISTRIES)}
DECISIONS = (ScreeningPassed, ApplicationRejected, SupplementRequested, ManualReviewRequested)
LOGS = ROOT / ".local-test" / "logs"


def operator() -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject="operator:kim", role=Role.OPERATOR,
                                                    agencies=["gimpo"])}


def company(brn: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject=f"company:{brn}", role=Role.COMPANY,
                                                    brn=brn)}


class Stack:
    """The processes of one test, started and stopped by it."""

    def __init__(self, intake_env: dict, programs_dir, forms: list[dict], now: datetime, *, replicas: int = 1,
                 worker_replicas: int = 1, **screening_extra) -> None:
        self.forms, self.now = forms, now
        program = json.loads((programs_dir / "gimpo-sos-demo.json").read_text("utf-8"))
        self.data_file = ROOT / ".local-test" / "registry-data.json"
        self.data_file.write_text(json.dumps(registry_dataset(
            forms, datetime.fromisoformat(program["announcement_date"]).date(), now.date()), ensure_ascii=False))
        self.registries = registry_processes(self.data_file, REGISTRY_PORTS, LOGS)
        env = screening_env(kafka=KAFKA, pg_port=TEST_ENV["SME_PG_PORT"], http_port=18002,
                            programs_path=intake_env["INTAKE_PROGRAMS_PATH"], registry_ports=REGISTRY_PORTS)
        env.update({"SCREENING_ENVIRONMENT": "test",
                    "SCREENING_SWEEP_SECONDS": "0.5", "SCREENING_SUPPLEMENT_GRACE_SECONDS": "0",
                    "SCREENING_REGISTRY_TIMEOUT_SECONDS": "1", "SCREENING_REGISTRY_RESET_SECONDS": "2",
                    "SCREENING_REGISTRY_RETRY_BACKOFF_SECONDS": "0.1", **screening_extra})
        self.screening = screening_processes(env, worker_ports=WORKER_PORTS, log_dir=LOGS, replicas=replicas,
                                             worker_replicas=worker_replicas)
        self.intake = ServiceProcess("intake", "serve", intake_env, port=18001)

    @property
    def all(self) -> list:
        return [*self.registries.values(), self.intake, *self.screening]

    def worker(self, registry: str):
        return self.workers(registry)[0]

    def workers(self, registry: str) -> list:
        return [p for p in self.screening if p.args[-1:] == [registry]]

    def __enter__(self) -> "Stack":
        asyncio.run(start_groups_at_end(screening_groups()))
        self.starts = {e: asyncio.run(end_offsets(e.topic())) for e in (ScreeningStarted, *DECISIONS, RecheckCompleted)}
        for p in self.all:
            p.start(wait=False)
        for p in self.all:
            p.wait_healthy()
        return self

    def __exit__(self, *exc) -> None:
        for p in self.all:
            p.stop()

    def submit(self, forms: list[dict]) -> dict[str, str]:
        """Each company applies over HTTP; returns BRN -> application id."""
        ids = {}
        for form in forms:
            brn = form["company"]["business_registration_number"]
            response = httpx.post(f"{INTAKE}/applications", json=form, headers=company(brn), timeout=30)
            assert response.status_code == 201, response.text
            ids[brn] = response.json()["application_id"]
        return ids

    def state(self, app_id: str) -> dict:
        return httpx.get(f"{SCREENING}/applications/{app_id}", headers=operator(), timeout=10).json()

    def wait_for(self, app_ids, done=lambda s: s.get("status") not in (None, "screening"), timeout: float = 90) -> dict:
        deadline, states = time.monotonic() + timeout, {}
        while time.monotonic() < deadline:
            states = {a: self.state(a) for a in app_ids}
            if all(done(s) for s in states.values()):
                return states
            time.sleep(0.3)
        raise AssertionError(f"not settled: {Counter(s.get('status') for s in states.values())}")

    def events(self, event_cls, app_ids, *, count_at_least: int = 0) -> list:
        """The events of these applications on the topic; without a count, everything published so far."""
        ids = {a.encode() for a in app_ids}
        until = (lambda rs: sum(r.key in ids for r in rs) >= count_at_least) if count_at_least else None
        records = asyncio.run(read_topic(event_cls.topic(), self.starts.get(event_cls), timeout=30, until=until))
        return [r for r in records if r.key in ids]

    def decided(self, app_ids) -> list[str]:
        """Application ids of every decision event, read once screening's outbox has drained (a decision and
        its event commit together, so by then every decision taken is on the bus)."""
        deadline = time.monotonic() + 30
        while httpx.get(f"{SCREENING}/health").json()["outbox_pending"]:
            assert time.monotonic() < deadline, "screening's outbox did not drain"
            time.sleep(0.2)
        return [r.key.decode() for e in DECISIONS for r in self.events(e, app_ids)]


def settled_with_every_lookup_answered(state: dict) -> bool:
    """Decided, and no registry still owes an answer (an application asked for a supplement is decided before
    every registry has answered)."""
    return state.get("status") not in (None, "screening") and all(
        lk["answered_at"] or lk["superseded"] for lk in state.get("lookups", []))


def rules(state: dict) -> set[str]:
    decision = state.get("decision") or {}
    key = {"rejected": "findings", "manual-review": "questions", "supplement-requested": "documents"}.get(
        state["status"]
    )
    return {f["rule"] for f in decision.get(key, [])} if key else set()


@pytest.fixture
def call(programs_dir):
    now = datetime.now(timezone.utc)
    forms = adjust_forms(sample_forms(demo_program(now), now.date(), count=24, seed=int(now.timestamp())), now.date())
    return forms, now


def test_the_sample_call_is_screened_end_to_end_with_every_outcome(intake_env, programs_dir, call):
    forms, now = call
    with Stack(intake_env, programs_dir, forms, now) as stack:
        ids = stack.submit(forms)
        states = stack.wait_for(ids.values())
        want = expected(forms)
        for brn, app_id in ids.items():
            outcome, rule = want[brn]
            assert states[app_id]["status"] == outcome, (app_id, states[app_id]["decision"])
            assert not rule or rule in rules(states[app_id]), (rule, states[app_id]["decision"])
        outcomes = Counter(s["status"] for s in states.values())
        assert set(outcomes) == {"passed", "rejected", "supplement-requested", "manual-review"}

        # One ScreeningStarted and exactly one decision event per application, with the rules that decided.
        started = stack.events(ScreeningStarted, ids.values(), count_at_least=len(ids))
        assert Counter(r.key for r in started) == Counter(a.encode() for a in ids.values())
        assert sorted(stack.decided(ids.values())) == sorted(ids.values())
        rejected = {r.key.decode(): json.loads(r.value) for r in stack.events(ApplicationRejected, ids.values())}
        for app_id, event in rejected.items():
            assert {f["rule"] for f in event["findings"]} == rules(states[app_id])

        # An operator clears the borderline duplicate: recorded with who, when and why; the same event as the rules.
        d3 = next(a for a, s in states.items() if s["status"] == "manual-review" and "D3" in rules(s))
        queue = httpx.get(f"{SCREENING}/reviews", headers=operator()).json()
        assert d3 in {item["application_id"] for item in queue}
        refused = httpx.post(f"{SCREENING}/reviews/{d3}/rulings", headers=operator(),
                             json={"decision": "clear", "rules": ["X9"], "reason": "엉뚱한 규칙"})
        assert refused.status_code == 409 and refused.json()["errors"][0]["rule"] == "X9"
        ruled = httpx.post(f"{SCREENING}/reviews/{d3}/rulings", headers=operator(),
                           json={"decision": "clear", "reason": "목표와 대상 공정이 달라 중복 아님"})
        assert ruled.status_code == 200 and ruled.json()["status"] == "passed"
        audit = [a for a in ruled.json()["audit"] if a["action"] == "ruling"]
        assert audit[0]["actor"] == "operator:operator:kim" and "중복 아님" in audit[0]["detail"]["reason"]
        passed = stack.events(ScreeningPassed, [d3], count_at_least=1)
        assert any("operator" in f["detail"] for f in json.loads(passed[0].value)["checks"] if f["rule"] == "D3")

        # The company supplements its missing certificate through intake; screening passes the new revision.
        missing = next(a for a, s in states.items() if "E1" in rules(s))
        form = next(f for f in forms if ids[f["company"]["business_registration_number"]] == missing)
        brn = form["company"]["business_registration_number"]
        changed = {**form, "company": {**form["company"], "regular_employees": 999}}
        assert httpx.put(f"{INTAKE}/applications/{missing}", json=changed, headers=company(brn)).status_code in (
            409,
            422,
        )
        evidence = form["evidence"] + [{"document_type": "local-tax-payment-certificate",
                                        "issued_on": now.date().isoformat(), "file_reference": "docs://x/local.pdf"}]
        response = httpx.put(f"{INTAKE}/applications/{missing}", json={**form, "evidence": evidence},
                             headers=company(brn))
        assert response.status_code == 200, response.text
        after = stack.wait_for([missing], done=lambda s: s["revision"] == 2 and s["status"] == "passed")
        assert after[missing]["status"] == "passed"
        deadline = time.monotonic() + 30  # intake learns it from ScreeningPassed on the bus
        while httpx.get(f"{INTAKE}/applications/{missing}", headers=company(brn)).json()["status"] != "passed":
            assert time.monotonic() < deadline, "intake never learnt that screening passed the application"
            time.sleep(0.2)


def test_a_registry_killed_mid_run_makes_only_its_applications_wait(intake_env, programs_dir, call):
    forms, now = call
    first, second = forms[:8], forms[8:]
    with Stack(intake_env, programs_dir, forms, now) as stack:
        early = stack.submit(first)
        stack.wait_for(early.values())
        stack.registries["sanctions"].kill()
        late = stack.submit(second)

        def waits_on_sanctions_only(s):
            pending = {lk["registry"] for lk in s["lookups"] if lk["answered_at"] is None and not lk["superseded"]}
            return s["status"] != "screening" or pending == {"sanctions"}

        during = stack.wait_for(late.values(), done=waits_on_sanctions_only)
        waiting = [a for a, s in during.items() if s["status"] == "screening"]
        decided_anyway = [a for a, s in during.items() if s["status"] == "rejected"]
        assert waiting and decided_anyway  # local rules (G2, X7) and other registries' records still decide
        assert all(s["status"] not in ("passed",) for a, s in during.items() if a in waiting)
        # Those asked for a supplement wait on the registry too, in their own status.
        on_sanctions = [a for a, s in during.items()
                        if any(lk["answered_at"] is None and not lk["superseded"] for lk in s["lookups"])]
        board = httpx.get(f"{SCREENING}/lookups/waiting", headers=operator()).json()
        assert set(board["registries"]) == {"sanctions"}
        assert board["registries"]["sanctions"]["applications"] == len(on_sanctions) >= len(waiting)
        worker = f"http://127.0.0.1:{WORKER_PORTS['sanctions']}"
        deadline = time.monotonic() + 30
        while httpx.get(f"{worker}/health").json()["circuit"] == "closed":
            assert time.monotonic() < deadline, "the circuit never opened"
            time.sleep(0.2)
        assert 'sme_lookup_circuit_state{registry="sanctions"} 2.0' in httpx.get(f"{worker}/metrics/").text \
            or httpx.get(f"{worker}/health").json()["circuit"] == "half-open"
        other = f"http://127.0.0.1:{WORKER_PORTS['credit']}"
        assert httpx.get(f"{other}/health").json()["circuit"] == "closed"

        stack.registries["sanctions"].start()
        final = stack.wait_for([*early.values(), *late.values()])
        assert httpx.get(f"{worker}/health").json()["circuit"] == "closed"
        assert httpx.get(f"{worker}/health").json()["circuit_opened"] >= 1
        want = expected(forms)
        for brn, app_id in {**early, **late}.items():
            assert final[app_id]["status"] == want[brn][0], final[app_id]["decision"]
        # Decided exactly once: one decision event per application, none for the waiting ones while they waited.
        all_ids = [*early.values(), *late.values()]
        assert Counter(stack.decided(all_ids)) == Counter(all_ids)
        assert httpx.get(f"{SCREENING}/lookups/waiting", headers=operator()).json()["applications_waiting"] == 0


def test_a_lookup_worker_killed_mid_batch_loses_nothing_and_decides_nothing_twice(intake_env, programs_dir, call):
    forms, now = call
    with Stack(intake_env, programs_dir, forms, now) as stack:
        slow = stack.registries["duplicate-projects"]
        slow.stop()
        slow.args += ["--delay-seconds", "0.25"]  # slow enough that the kill lands mid-batch
        slow.start()
        ids = stack.submit(forms)
        worker = stack.worker("duplicate-projects")
        url = f"http://127.0.0.1:{WORKER_PORTS['duplicate-projects']}/health"
        deadline = time.monotonic() + 60
        while httpx.get(url).json()["answered"] < 3:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        worker.kill()
        time.sleep(1)
        worker.start()
        states = stack.wait_for(ids.values(), done=settled_with_every_lookup_answered)
        want = expected(forms)
        assert {a: s["status"] for a, s in states.items()} == {a: want[b][0] for b, a in ids.items()}
        assert Counter(stack.decided(ids.values())) == Counter(ids.values())
        answered = [lk for s in states.values() for lk in s["lookups"] if lk["registry"] == "duplicate-projects"]
        assert all(lk["answered_at"] for lk in answered if not lk["superseded"])


async def _expire_deadline(app_id: str) -> None:
    conn = await asyncpg.connect(db_url("screening").replace("+asyncpg", ""))
    try:  # a week passes: the stored deadline is now behind us
        await conn.execute("UPDATE screenings SET supplement_deadline = now() - interval '1 minute' "
                           "WHERE application_id = $1", app_id)
    finally:
        await conn.close()


def test_e6_deadline_is_kept_across_a_restart_and_rejects_as_incomplete(intake_env, programs_dir, call):
    forms, now = call
    with Stack(intake_env, programs_dir, forms, now) as stack:
        ids = stack.submit(forms[4:5])  # the company that forgot its local-tax certificate
        (app_id,) = ids.values()
        state = stack.wait_for([app_id])[app_id]
        assert state["status"] == "supplement-requested"
        deadline = datetime.fromisoformat(state["supplement_deadline"])
        # E6: 24:00 KST of the 7th day after the request, moved past a weekend or holiday (민법 제157·159·161조)
        assert deadline in {WorkingCalendar().deadline(at, days=7) for at in (now, now + timedelta(minutes=5))}
        service = stack.screening[0]
        service.stop()
        asyncio.run(_expire_deadline(app_id))
        service.start()
        final = stack.wait_for([app_id], done=lambda s: s["status"] == "rejected")[app_id]
        assert rules(final) == {"E6"}
        event = json.loads(stack.events(ApplicationRejected, [app_id], count_at_least=1)[0].value)
        assert [f["rule"] for f in event["findings"]] == ["E6"]
        brn = next(iter(ids))
        deadline = time.monotonic() + 30
        while httpx.get(f"{INTAKE}/applications/{app_id}", headers=company(brn)).json()["status"] != "rejected":
            assert time.monotonic() < deadline
            time.sleep(0.2)


def test_e6_a_stale_certificate_replaced_by_one_issued_three_days_later_passes(intake_env, programs_dir, call):
    """The supplement's normal case (issue 26): asked to supplement a stale tax certificate, the company gets a new
    one three days after it applied and files it; it is fresh — issued after the application, before it was filed
    — and the application passes. Intake and screening run their calendars three days on (the demo clock)."""
    forms, now = call
    with Stack(intake_env, programs_dir, forms, now) as stack:
        form = forms[17]  # its national tax certificate was issued the day before a calendar year back
        ids = stack.submit([form])
        (app_id,) = ids.values()
        asked = stack.wait_for([app_id])[app_id]
        assert asked["status"] == "supplement-requested"
        assert [(d["rule"], d["problem"]) for d in asked["decision"]["documents"]] == [("E6", "stale")]
        for service, prefix in ((stack.intake, "INTAKE"), (stack.screening[0], "SCREENING")):
            service.stop()
            service.env[f"{prefix}_CLOCK_OFFSET_DAYS"] = "3"
            service.start()
        three_days_later = local_date(now) + timedelta(days=3)
        evidence = [d if d["document_type"] != "national-tax-payment-certificate" else
                    {**d, "issued_on": three_days_later.isoformat(), "file_reference": "docs://x/tax-new.pdf"}
                    for d in form["evidence"]]
        brn = form["company"]["business_registration_number"]
        response = httpx.put(f"{INTAKE}/applications/{app_id}", json={**form, "evidence": evidence},
                             headers=company(brn))
        assert response.status_code == 200, response.text
        passed = stack.wait_for([app_id], done=lambda s: s["status"] != "supplement-requested")[app_id]
        assert passed["status"] == "passed", passed["decision"]
        e6 = next(f["detail"] for f in passed["decision"]["findings"] if f["rule"] == "E6")
        assert "1년 이내" in e6


def test_x1_a_company_that_moved_in_after_the_announcement_is_excluded_by_its_registration(intake_env,
                                                                                            programs_dir, call):
    """X1 공고일 현재 (issue 26): the form says the company has done business in the city for years; the
    business-places registry shows its HQ moved in from 인천 three days after the announcement. Screening asks the
    registry with the NTS calls and excludes it, naming the registration history."""
    forms, now = call
    form = forms[0]  # nothing planted
    brn = form["company"]["business_registration_number"]
    stack = Stack(intake_env, programs_dir, forms, now)
    announced = date.fromisoformat(json.loads((programs_dir / "gimpo-sos-demo.json").read_text("utf-8"))[
        "announcement_date"])
    data = json.loads(stack.data_file.read_text("utf-8"))
    data["business_places"][brn] = moved_in_after(form, announced)
    stack.data_file.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    with stack:
        (app_id,) = stack.submit([form]).values()
        state = stack.wait_for([app_id])[app_id]
        assert state["status"] == "rejected" and rules(state) == {"X1"}, state["decision"]
        detail = state["decision"]["findings"][0]["detail"]
        assert f"공고일({announced}) 현재" in detail and "인천광역시 서구" in detail


async def _publish(event, source: str) -> None:
    await publish_event(event, KAFKA, source=source)


def test_x10_a_give_up_restriction_excludes_and_x11_recheck_answers_evaluation(intake_env, programs_dir, call):
    forms, now = call
    clean = [f for i, f in enumerate(forms) if i in (0, 7, 11)]  # companies with nothing planted
    restricted, rechecked, caught = clean
    with Stack(intake_env, programs_dir, forms, now) as stack:
        brn = restricted["company"]["business_registration_number"]
        # The company's earlier application, which screening saw (a give-up of one it never saw is dead-lettered
        # under known-application), then its agreement given up a month ago (C6): X10 for what it files next.
        earlier = ApplicationSubmitted.model_validate({
            **EXAMPLES["ApplicationSubmitted"], "program_id": "gimpo-sos-demo",
            "application_id": "APP-01HTX5Q3Z8K2M4N6P8R0S2T4V6",
            "content": {**EXAMPLES["ApplicationSubmitted"]["content"],
                        "company": {**EXAMPLES["ApplicationSubmitted"]["content"]["company"],
                                    "business_registration_number": brn}}})
        asyncio.run(_publish(earlier, "/sme/intake"))
        stack.wait_for([earlier.application_id], done=lambda s: s.get("status") is not None)
        asyncio.run(
            _publish(
                ParticipationGivenUp(
                    program_id="gimpo-sos-demo",
                    occurred_at=now - timedelta(days=30),
                    application_id=earlier.application_id,
                    business_registration_number=brn,
                    approved_at=now - timedelta(days=30),
                    restricted_until=(now + timedelta(days=335)).date(),
                    freed_amount=5_000_000,
                ),
                "/sme/contracts",
            )
        )
        time.sleep(2)  # contracts' event is on its own topic; give screening a moment to take it in
        ids = stack.submit(clean)
        states = stack.wait_for(ids.values())
        assert rules(states[ids[brn]]) == {"X10"}
        ok, late = (
            ids[rechecked["company"]["business_registration_number"]],
            ids[caught["company"]["business_registration_number"]],
        )
        assert states[ok]["status"] == states[late]["status"] == "passed"

        # After selection a local-tax arrear is registered for one of them; evaluation asks again (X11).
        late_brn = caught["company"]["business_registration_number"]
        httpx.post(f"http://127.0.0.1:{REGISTRY_PORTS['sanctions']}/_local/records/{late_brn}", json={
            "record_id": "LOC-1", "category": "public-sanction", "agency": "김포시", "subject_role": "company",
            "imposed_on": now.date().isoformat(), "lifted_on": None, "detail": "보조금 환수 미이행"}).raise_for_status()
        for app_id, request_id in ((ok, "R-ok"), (late, "R-late")):
            asyncio.run(_publish(RecheckRequested(program_id="gimpo-sos-demo", occurred_at=now, application_id=app_id,
                                                  request_id=request_id, requested_at=datetime.now(timezone.utc)),
                                 "/sme/evaluation"))
        replies = {json.loads(r.value)["request_id"]: json.loads(r.value)
                   for r in stack.events(RecheckCompleted, [ok, late], count_at_least=2)}
        assert replies["R-ok"]["outcome"] == "clear"
        assert replies["R-late"]["outcome"] == "excluded"
        assert {f["rule"] for f in replies["R-late"]["findings"]} == {"X8"}
        rejected = [json.loads(r.value) for r in stack.events(ApplicationRejected, [late], count_at_least=1)]
        assert rejected[0]["stage"] == "selection-recheck"
        assert stack.state(late)["status"] == "rejected" and stack.state(ok)["status"] == "passed"


def _health(process) -> dict:
    return httpx.get(f"http://127.0.0.1:{process.port}/health", timeout=5).json()


def _consumed(process, topic: str) -> float:
    """Events of `topic` a screening replica applied, from its own /metrics."""
    text = httpx.get(f"http://127.0.0.1:{process.port}/metrics/", timeout=5).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("sme_events_consumed_total{") and f'topic="{topic}"' in line
               and 'outcome="processed"' in line)


def test_three_lookup_worker_replicas_one_killed_with_lookups_in_flight_lose_nothing(intake_env, programs_dir):
    """Three replicas of the sanctions worker share its topic; one is SIGKILLed while it has many lookups in
    flight. Its partitions move to the other two, which answer again what it never published: every application
    is decided exactly once, as it should be."""
    now = datetime.now(timezone.utc)
    forms = adjust_forms(sample_forms(demo_program(now), now.date(), count=60, seed=int(now.timestamp()) + 3),
                         now.date())
    with Stack(intake_env, programs_dir, forms, now, worker_replicas=3, SCREENING_WORKER_CONCURRENCY="32") as stack:
        slow = stack.registries["sanctions"]
        slow.stop()
        slow.args += ["--delay-seconds", "0.6"]  # under the 1 s timeout, slow enough that lookups pile up in flight
        slow.start()
        replicas = stack.workers("sanctions")
        with ThreadPoolExecutor(8) as pool:  # companies apply at once, as on a deadline day
            submitted = [pool.submit(stack.submit, forms[i::8]) for i in range(8)]
            deadline, victim = time.monotonic() + 90, None
            while victim is None:
                assert time.monotonic() < deadline, "no replica ever had several lookups in flight"
                victim = next((p for p in replicas if _health(p)["in_flight"] >= 3), None)
                time.sleep(0.05)
            victim.kill()
            ids = {brn: app for part in submitted for brn, app in part.result().items()}
        survivors = [p for p in replicas if p is not victim]
        states = stack.wait_for(ids.values(), done=settled_with_every_lookup_answered, timeout=120)
        want = expected(forms)
        assert {a: s["status"] for a, s in states.items()} == {a: want[b][0] for b, a in ids.items()}
        assert Counter(stack.decided(ids.values())) == Counter(ids.values())
        answered = [lk for s in states.values() for lk in s["lookups"] if lk["registry"] == "sanctions"]
        assert answered and all(lk["answered_at"] for lk in answered if not lk["superseded"])
        assert all(_health(p)["answered"] > 0 for p in survivors), "the load was not shared"


def test_two_screening_replicas_decide_each_application_once_and_in_order(intake_env, programs_dir, call):
    forms, now = call
    with Stack(intake_env, programs_dir, forms, now, replicas=2) as stack:
        ids = stack.submit(forms)
        states = stack.wait_for(ids.values())
        want = expected(forms)
        assert {a: s["status"] for a, s in states.items()} == {a: want[b][0] for b, a in ids.items()}
        assert Counter(stack.decided(ids.values())) == Counter(ids.values())
        first, second = stack.screening[0], stack.screening[1]
        topic = ApplicationSubmitted.topic()
        assert _consumed(first, topic) > 0 and _consumed(second, topic) > 0, "one replica did all the work"

        # A supplement: SupplementRequested, then the amendment, then ScreeningPassed — in that order on the bus.
        missing = next(a for a, s in states.items() if s["status"] == "supplement-requested")
        form = next(f for f in forms if ids[f["company"]["business_registration_number"]] == missing)
        brn = form["company"]["business_registration_number"]
        evidence = form["evidence"] + [{"document_type": "local-tax-payment-certificate",
                                        "issued_on": now.date().isoformat(), "file_reference": "docs://x/local.pdf"}]
        response = httpx.put(f"{INTAKE}/applications/{missing}", json={**form, "evidence": evidence},
                             headers=company(brn))
        assert response.status_code == 200, response.text
        stack.wait_for([missing], done=lambda s: s["status"] == "passed")

        def first_time(event_cls, app_ids, count) -> dict[str, int]:
            times: dict[str, int] = {}
            for r in stack.events(event_cls, app_ids, count_at_least=count):
                times.setdefault(r.key.decode(), r.timestamp)
            return times

        started = first_time(ScreeningStarted, ids.values(), len(ids))
        decided_at: dict[str, int] = {}
        for event_cls in DECISIONS:
            for app_id, at in first_time(event_cls, ids.values(), 0).items():
                decided_at[app_id] = min(at, decided_at.get(app_id, at))
        assert set(decided_at) == set(ids.values())
        assert all(started[a] <= decided_at[a] for a in ids.values())
        asked = first_time(SupplementRequested, [missing], 1)[missing]
        passed = first_time(ScreeningPassed, [missing], 1)[missing]
        assert asked <= passed


async def _publish_poison_lookup(topic: str, headers: int) -> None:
    """A lookup request no worker can read (not JSON), with as many headers as the broker takes, to one topic."""
    from aiokafka import AIOKafkaProducer

    from sme_runtime.kafka_access import kafka_access

    producer = AIOKafkaProducer(**kafka_access(KAFKA).client(), acks="all")
    await producer.start()
    try:
        for partition in await producer.partitions_for(topic):  # whichever partition the worker reads first
            await producer.send_and_wait(topic, b"{not json", key=b"APP-POISON", partition=partition, headers=[
                (f"x-padding-{n:05d}", b"p" * 100) for n in range(headers)])
    finally:
        await producer.stop()


def test_a_lookup_worker_dead_letters_a_request_too_large_to_copy_and_answers_the_rest(intake_env, programs_dir,
                                                                                        call):
    """Issue 31: a near-1 MiB request stalled a worker group, the worker having no dead-letter truncation. Every
    partition of the sanctions requests starts with one (7,400 headers: under the broker's limit, over the copy's
    own); the worker dead-letters each with a copy bounded as a whole and decides every application after it."""
    from sme_runtime.consumer import DLQ_COPY_MAX_BYTES, copy_bytes, dlq_topic

    forms, now = call
    topic = "screening.lookup-requested.sanctions.v1"
    with Stack(intake_env, programs_dir, forms[:4], now) as stack:
        dlq_start = asyncio.run(end_offsets(dlq_topic(topic)))
        asyncio.run(_publish_poison_lookup(topic, 7_400))
        ids = stack.submit(forms[:4])
        states = stack.wait_for(ids.values(), done=settled_with_every_lookup_answered, timeout=120)
        want = expected(forms[:4])
        assert {a: s["status"] for a, s in states.items()} == {a: want[b][0] for b, a in ids.items()}
        copies = asyncio.run(read_topic(dlq_topic(topic), dlq_start, timeout=30,
                                        until=lambda rs: len([r for r in rs if r.key == b"APP-POISON"]) >= 12))
    poison = [r for r in copies if r.key == b"APP-POISON"]
    assert len(poison) == 12
    for copy in poison:
        headers = {k: v.decode() for k, v in copy.headers}
        assert headers["dlq_consumer"] == "screening.lookup-worker.sanctions" and headers["dlq_truncated"] == "true"
        assert int(headers["dlq_headers_dropped"]) > 0 and copy_bytes(copy.value, headers) <= DLQ_COPY_MAX_BYTES
