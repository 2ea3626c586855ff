"""Intake as a real process on the real broker and database."""
from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event

from deploy.local import polite
from deploy.local.procs import publish_event
from deploy.sample.program_call import demo_program, sample_forms
from sme_runtime.auth import Role, mint_token
from sme_runtime.settings import DEVELOPMENT_SECRET
from sme_schemas.intake import ApplicationFiledByMunicipalSystem, ApplicationFilingResult, ApplicationSubmitted
from sme_schemas.screening import ScreeningStarted
from tests.support import KAFKA, ServiceProcess, end_offsets, headers_of, read_topic, running, wait_for
from sme_runtime.kafka_access import kafka_access

SUBMITTED = ApplicationSubmitted.topic()
BASE = "http://127.0.0.1:18001"


def operator() -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject="operator:test", role=Role.OPERATOR,
                                                    agencies=["gimpo"])}


def company(brn: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject=f"company:{brn}",
                                                    role=Role.COMPANY, brn=brn)}


@pytest.fixture
def forms():
    now = datetime.now(timezone.utc)
    return sample_forms(demo_program(now), now.date(), count=6, seed=int(now.timestamp()))


@pytest.fixture
def intake(intake_env):
    with running(ServiceProcess("intake", "serve", intake_env, port=18001)) as (service,):
        yield service


def _events_for(records, application_id: str):
    return [r for r in records if r.key == application_id.encode()]


def test_submitted_application_arrives_with_cloudevents_headers(intake, forms):
    start = asyncio.run(end_offsets(SUBMITTED))
    form = forms[0]
    brn = form["company"]["business_registration_number"]
    response = httpx.post(f"{BASE}/applications", json=form, headers=company(brn))
    assert response.status_code == 201, response.text
    app_id = response.json()["application_id"]

    records = asyncio.run(read_topic(SUBMITTED, start, until=lambda rs: _events_for(rs, app_id)))
    (record,) = _events_for(records, app_id)
    headers = headers_of(record)
    assert headers["ce_specversion"] == "1.0" and headers["ce_source"] == "/sme/intake"
    assert headers["ce_type"] == "kr.gimpo.sme.intake.application-submitted.v1"
    assert headers["ce_subject"] == app_id and headers["content-type"] == "application/json"
    uuid.UUID(headers["ce_id"])
    datetime.fromisoformat(headers["ce_time"].replace("Z", "+00:00"))
    body = json.loads(record.value)
    assert body["content"]["company"]["name"] == form["company"]["name"]  # Korean text intact
    assert "phone" not in record.value.decode() and form["project_manager"]["email"] not in record.value.decode()
    # the official SDK reads it off the wire too
    ce = from_binary_event(KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value))
    assert ce.get_id() == headers["ce_id"] and ce.get_data()["application_id"] == app_id


def test_double_submission_creates_one_application_and_one_event(intake, forms):
    start = asyncio.run(end_offsets(SUBMITTED))
    form = forms[1]
    headers = {**company(form["company"]["business_registration_number"]), "Idempotency-Key": str(uuid.uuid4())}
    with ThreadPoolExecutor(4) as pool:  # an impatient double click, four times, at once
        responses = list(pool.map(lambda _: httpx.post(f"{BASE}/applications", json=form, headers=headers), range(4)))
    assert {r.status_code for r in responses} == {201}
    ids = {r.json()["application_id"] for r in responses}
    assert len(ids) == 1
    # the same form again without the key: an unchanged amendment (A2), no event
    again = httpx.post(
        f"{BASE}/applications", json=form, headers=company(form["company"]["business_registration_number"])
    )
    assert again.status_code == 200 and again.json()["disposition"] == "unchanged"
    records = asyncio.run(read_topic(SUBMITTED, start, timeout=3, until=lambda rs: False))
    assert len(_events_for(records, ids.pop())) == 1


def test_reused_idempotency_key_with_another_form_is_refused(intake, forms):
    headers = {**operator(), "Idempotency-Key": "same-key"}
    assert httpx.post(f"{BASE}/applications", json=forms[2], headers=headers).status_code == 201
    response = httpx.post(f"{BASE}/applications", json=forms[3], headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_bad_input_names_each_field_and_rule_and_writes_nothing(intake, forms):
    form = json.loads(json.dumps(forms[0]))
    form["company"]["business_registration_number"] = "1248100999"
    form["company"]["founded_on"] = (datetime.now(timezone.utc).date() + timedelta(days=3)).isoformat()
    form["declarations"]["consent_to_data_use"] = False
    response = httpx.post(f"{BASE}/applications", json=form, headers=operator())
    assert response.status_code == 422
    problems = {(e["field"], e["rule"]) for e in response.json()["errors"]}
    assert ("company.business_registration_number", "A1") in problems
    assert ("declarations.consent_to_data_use", "A1") in problems
    # cross-field rule, reported when the form itself is well-formed
    form["company"]["business_registration_number"] = forms[0]["company"]["business_registration_number"]
    form["declarations"]["consent_to_data_use"] = True
    response = httpx.post(f"{BASE}/applications", json=form, headers=operator())
    assert ("company.founded_on", "A1") in {(e["field"], e["rule"]) for e in response.json()["errors"]}
    assert httpx.get(f"{BASE}/applications", headers=operator()).json() == []


def test_outside_the_window_is_refused_with_a3(intake, forms):
    form = dict(forms[0], program_id="gimpo-sos-2024")  # the real 2024 call closed long ago
    form["consulting"] = dict(form["consulting"], planned_completion_on="2024-10-31")
    response = httpx.post(f"{BASE}/applications", json=form, headers=operator())
    assert response.status_code == 422
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [("submitted_at", "A3")]


def test_every_signed_in_role_reads_the_program_calls(intake):
    """An expert's or an evaluator's portal page failed with 403 whenever the portal's 30-second copy of the programs
    ran out on their request: the announcements are for everyone signed in, never for no one."""
    tokens = [operator(), company("1234567891")] + [
        {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject=subject, role=role, brn=brn,
                                                 agencies=["gimpo"])}
        for subject, role, brn in (("EV-01", Role.EVALUATOR, None), ("expert:x", Role.EXPERT, "1234567891"))]
    answers = [httpx.get(f"{BASE}/programs", headers=headers) for headers in tokens]
    assert [a.status_code for a in answers] == [200] * 4
    assert len({tuple(sorted(p["program_id"] for p in a.json())) for a in answers}) == 1
    assert httpx.get(f"{BASE}/programs").status_code == 401


def test_a_company_sees_only_its_own_applications(intake, forms):
    mine, theirs = forms[0], forms[1]
    my_brn = mine["company"]["business_registration_number"]
    their_brn = theirs["company"]["business_registration_number"]
    assert httpx.post(f"{BASE}/applications", json=theirs, headers=company(my_brn)).status_code == 403
    my_id = httpx.post(f"{BASE}/applications", json=mine, headers=company(my_brn)).json()["application_id"]
    their_id = httpx.post(f"{BASE}/applications", json=theirs, headers=company(their_brn)).json()["application_id"]
    assert httpx.get(f"{BASE}/applications/{their_id}", headers=company(my_brn)).status_code == 404
    assert [a["application_id"] for a in httpx.get(f"{BASE}/applications", headers=company(my_brn)).json()] == [my_id]
    assert len(httpx.get(f"{BASE}/applications", headers=operator()).json()) == 2
    assert httpx.get(f"{BASE}/applications").status_code == 401
    bad_token = {"Authorization": "Bearer " + mint_token("another-secret-of-enough-length-0000", subject="x",
                                                          role=Role.OPERATOR, agencies=["gimpo"])}
    assert httpx.get(f"{BASE}/applications", headers=bad_token).status_code == 401


async def _publish(event, *, ce_id: str | None = None, raw: tuple[bytes, list] | None = None) -> str:
    if raw is None:
        return await publish_event(event, KAFKA, source="/gimpo/minwon", event_id=ce_id)
    producer = AIOKafkaProducer(**kafka_access(KAFKA).client(), enable_idempotence=True, acks="all")
    await producer.start()
    try:  # a malformed message: bytes and headers as given, no envelope
        body, headers = raw
        await producer.send_and_wait(ApplicationFiledByMunicipalSystem.topic(), body, key=b"x", headers=headers)
        return ""
    finally:
        await producer.stop()


def _filing(form: dict, reference: str) -> ApplicationFiledByMunicipalSystem:
    from intake.form import ApplicationForm, to_content

    now = datetime.now(timezone.utc)
    content = to_content(ApplicationForm.model_validate(form), consent_at=now)
    return ApplicationFiledByMunicipalSystem(program_id=form["program_id"], occurred_at=now,
                                             source_system="gimpo-minwon", external_reference=reference,
                                             content=content)


def test_municipal_filing_duplicate_delivery_and_poison(intake, forms):
    dlq = ApplicationFiledByMunicipalSystem.topic() + ".dlq"
    dlq_start = asyncio.run(end_offsets(dlq))
    answers_start = asyncio.run(end_offsets(ApplicationFilingResult.topic()))
    first = _filing(forms[0], "MW-1")
    ce_id = asyncio.run(_publish(first))
    asyncio.run(_publish(first, ce_id=ce_id))  # the same event delivered twice
    asyncio.run(_publish(None, raw=(b"{\"not\": \"an application\"}", [("ce_specversion", b"1.0")])))  # poison
    invalid = _filing(forms[1], "MW-2").model_copy(update={"program_id": "gimpo-sos-2024"})  # window closed: A3
    invalid_id = asyncio.run(_publish(invalid))
    asyncio.run(_publish(_filing(forms[2], "MW-3")))  # a good one after the poison

    listed = wait_for(lambda: (lambda apps: apps if len(apps) >= 2 else None)(
        httpx.get(f"{BASE}/applications", headers=operator()).json()))
    # the first company again under another reference (keyed apart, so sent once the first is in): another
    # application of a company that has one live, refused A2 rather than merged into it
    asyncio.run(_publish(_filing(forms[0], "MW-4")))
    assert sorted(a["content"]["company"]["name"] for a in listed) == sorted(
        [forms[0]["company"]["name"], forms[2]["company"]["name"]])
    assert all(a["channel"] == "municipal-system" for a in listed)
    by_reference = {a["external_reference"]: a for a in listed}
    assert set(by_reference) == {"MW-1", "MW-3"} and by_reference["MW-1"]["source_system"] == "gimpo-minwon"

    dead = asyncio.run(read_topic(dlq, dlq_start, until=lambda rs: len(rs) >= 3))
    assert len(httpx.get(f"{BASE}/applications", headers=operator()).json()) == 2
    reasons = {headers_of(r).get("dlq_rule", ""): headers_of(r) for r in dead}
    assert "A3" in reasons and reasons["A3"]["dlq_field"] == "occurred_at"
    assert "A2" in reasons and reasons["A2"]["dlq_field"] == "external_reference"
    assert reasons["envelope"]["dlq_field"] == "ce_id" and "missing CloudEvents headers" in reasons["envelope"][
        "dlq_error"]
    assert all(h["dlq_original_topic"] == ApplicationFiledByMunicipalSystem.topic() for h in reasons.values())

    # the sender's answers, keyed by its own reference: two accepted, two refused, none for the poison (no reference)
    records = asyncio.run(read_topic(ApplicationFilingResult.topic(), answers_start, until=lambda rs: len(rs) >= 4))
    answers = {}
    for r in records:
        answer = ApplicationFilingResult.model_validate_json(r.value)
        assert r.key.decode() == answer.subject() == f"gimpo-minwon:{answer.external_reference}"
        answers.setdefault(answer.external_reference, []).append(answer)
    assert set(answers) == {"MW-1", "MW-2", "MW-3", "MW-4"}
    assert [(a.outcome, a.application_id, a.disposition) for a in answers["MW-1"]] == [
        ("accepted", by_reference["MW-1"]["application_id"], "created")], "one answer for a twice-delivered event"
    assert (answers["MW-3"][0].outcome, answers["MW-3"][0].application_id) == (
        "accepted", by_reference["MW-3"]["application_id"])
    [refused] = answers["MW-2"]
    assert (refused.outcome, refused.filing_event_id, [(p.field, p.rule) for p in refused.problems][0]) == (
        "refused", invalid_id, ("occurred_at", "A3"))
    [other] = answers["MW-4"]
    assert other.outcome == "refused" and (other.problems[0].field, other.problems[0].rule) == (
        "external_reference", "A2")
    assert by_reference["MW-1"]["application_id"] in other.problems[0].message


def test_amendment_is_refused_once_screening_has_started(intake, forms):
    form = forms[4]
    brn = form["company"]["business_registration_number"]
    created = httpx.post(f"{BASE}/applications", json=form, headers=company(brn)).json()
    app_id = created["application_id"]
    changed = json.loads(json.dumps(form))
    changed["consulting"]["sessions"] = 12
    amended = httpx.put(f"{BASE}/applications/{app_id}", json=changed, headers=company(brn))
    assert amended.status_code == 200 and amended.json()["revision"] == 2

    started = ScreeningStarted(program_id=form["program_id"], application_id=app_id,
                               occurred_at=datetime.now(timezone.utc), started_at=datetime.now(timezone.utc))
    asyncio.run(_publish(started))
    wait_for(lambda: httpx.get(f"{BASE}/applications/{app_id}", headers=company(brn)).json()["status"] == "screening")
    changed["consulting"]["sessions"] = 14
    refused = httpx.put(f"{BASE}/applications/{app_id}", json=changed, headers=company(brn))
    assert refused.status_code == 409 and refused.json()["errors"][0]["rule"] == "A2"
    resubmitted = httpx.post(f"{BASE}/applications", json=changed, headers=company(brn))
    assert resubmitted.status_code == 409 and resubmitted.json()["errors"][0]["rule"] == "A2"
    withdrawn = httpx.post(f"{BASE}/applications/{app_id}/withdrawal", json={"reason": "자체 해결"},
                           headers=company(brn))
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    # no longer live: the company may apply again (A2)
    assert httpx.post(f"{BASE}/applications", json=changed, headers=company(brn)).status_code == 201


def _metric_total(text: str, name: str, program: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{") and f'program="{program}"' in line)


def test_several_http_workers_accept_each_form_once_and_metrics_count_every_worker(intake_env):
    """INTAKE_HTTP_WORKERS=2 (deadline day): forms sent concurrently are spread over two processes, each with
    its relay; every form is one application and one event, and /metrics (whichever worker answers it) counts
    the submissions of both workers."""
    now = datetime.now(timezone.utc)
    program = demo_program(now)
    batch = sample_forms(program, now.date(), count=40, seed=int(now.timestamp()) + 23)
    start = asyncio.run(end_offsets(SUBMITTED))
    with running(ServiceProcess("intake", "serve", {**intake_env, "INTAKE_HTTP_WORKERS": "2"}, port=18001)):
        with ThreadPoolExecutor(8) as pool:  # a new connection per form: the kernel hands them to either worker
            answers = list(pool.map(lambda f: httpx.post(f"{BASE}/applications", json=f, headers=operator(),
                                                         timeout=30), batch))
        assert [a.status_code for a in answers] == [201] * len(batch), [a.text for a in answers if a.is_error]
        ids = {a.json()["application_id"] for a in answers}
        records = asyncio.run(read_topic(SUBMITTED, start, until=lambda rs: {r.key.decode() for r in rs} >= ids))
        scraped = [httpx.get(f"{BASE}/metrics/").text for _ in range(4)]
    mine = [r for r in records if r.key.decode() in ids]
    assert len(ids) == len(batch) and len(mine) == len(ids)  # one event each, none twice
    assert {_metric_total(s, "intake_applications_total", program["program_id"]) for s in scraped} == {len(batch)}


def test_beyond_its_bound_intake_sheds_busy_with_retry_after_and_a_polite_resend_loses_nothing(intake_env):
    """Admission control (issue 28) on the real process: 2 submissions in flight at most, 24 sent at once. Each
    refused one was refused whole (503 busy, Retry-After, nothing filed) and is taken when sent again after its
    Retry-After; in the end every company has exactly one application."""
    now = datetime.now(timezone.utc)
    forms = sample_forms(demo_program(now), now.date(), count=24, seed=int(now.timestamp()) + 1)
    env = {**intake_env, "INTAKE_MAX_IN_FLIGHT": "2"}
    with running(ServiceProcess("intake", "serve", env, port=18001)):
        def submit(form: dict) -> httpx.Response:
            brn = form["company"]["business_registration_number"]
            return httpx.post(f"{BASE}/applications", json=form, timeout=60,
                              headers={**company(brn), "Idempotency-Key": f"shed-{brn}"})

        with ThreadPoolExecutor(24) as pool:
            first = list(pool.map(submit, forms))
        shed = [(f, r) for f, r in zip(forms, first) if r.status_code == 503]
        assert shed and {r.status_code for r in first} == {201, 503}, [r.status_code for r in first]
        for _, refused in shed:
            assert int(refused.headers["retry-after"]) >= 1 and refused.json()["errors"][0]["rule"] == "busy"
        accepted_first = {r.json()["application_id"] for r in first if r.status_code == 201}
        with polite.client(timeout=60) as resend:
            again = [resend.post(f"{BASE}/applications", json=f, headers={
                **company(f["company"]["business_registration_number"]),
                "Idempotency-Key": f"shed-{f['company']['business_registration_number']}"}) for f, _ in shed]
        assert all(r.status_code == 201 for r in again), [r.text[:200] for r in again if r.status_code != 201]
        listed = httpx.get(f"{BASE}/applications", params={"program_id": forms[0]["program_id"], "limit": 1000},
                           headers=operator()).json()
        ours = [a for a in listed if a["content"]["company"]["business_registration_number"]
                in {f["company"]["business_registration_number"] for f in forms}]
        assert len(ours) == 24 and len({a["application_id"] for a in ours}) == 24
        assert accepted_first | {r.json()["application_id"] for r in again} == {a["application_id"] for a in ours}
