"""The main job's intake stage: the companies apply over HTTP (each one's own token), what a company sees when it
gets something wrong, an application forwarded by another municipal system as an event, and what reached the bus."""
from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import Counter
from datetime import datetime, timezone

from deploy.local import polite
from deploy.local.endpoints import BASE, KAFKA, token
from deploy.local.procs import end_offsets, headers_of, publish_event, read_topic
from deploy.local.show import clip, heading, pad
from deploy.local.waiting import SERVICE_WRITES, Stalled, wait_while_moving
from intake.form import ApplicationForm, to_content
from sme_runtime.auth import Role
from sme_schemas.intake import ApplicationFiledByMunicipalSystem, ApplicationFilingResult, ApplicationSubmitted


def idempotency_key(form: dict) -> str:
    """One per company and call: a re-run with the same --seed on used databases is a new call (its own demo
    program id), so its submissions are new requests, not replays of the last run's (issue 28)."""
    return f"main-job-{form['program_id']}-{form['company']['business_registration_number']}"


def submit_call(forms: list[dict]) -> tuple[list[str], list[float]]:
    """Every company submits its own application over HTTP; returns ids and latencies (ms)."""
    ids, latencies = [], []
    with polite.client(base_url=BASE, timeout=30) as client:
        for i, form in enumerate(forms):
            brn = form["company"]["business_registration_number"]
            started = time.perf_counter()
            response = client.post("/applications", json=form,
                                   headers={**token(Role.COMPANY, brn), "Idempotency-Key": idempotency_key(form)})
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            body = response.json()
            ids.append(body["application_id"])
            unmet = ", ".join(u["purpose"] for u in body["unmet_evidence"] if u["mandatory"])
            print(f"{i + 1:>3} {body['application_id']}  {pad(form['company']['name'], 20)} "
                  f"{body['disposition']:<9} {'evidence missing: ' + unmet if unmet else 'evidence complete'}")
    return ids, latencies


def show_refusals(forms: list[dict]) -> None:
    """What a company sees when it gets something wrong: every field, with its rule."""
    form = json.loads(json.dumps(forms[0]))
    brn = form["company"]["business_registration_number"]
    again = polite.post(f"{BASE}/applications", json=forms[0],
                       headers={**token(Role.COMPANY, brn), "Idempotency-Key": idempotency_key(form)})
    print(f"double click (same Idempotency-Key): HTTP {again.status_code}, same id {again.json()['application_id']}")
    form["company"]["business_registration_number"] = brn[:9] + str((int(brn[9]) + 1) % 10)
    form["declarations"]["consent_to_data_use"] = False
    form["consulting"]["cost_excluding_vat"] = -1
    bad = polite.post(f"{BASE}/applications", json=form, headers=token(Role.OPERATOR))
    print(f"a form with three mistakes: HTTP {bad.status_code}")
    for error in bad.json()["errors"]:
        print(f"    {error['rule']:<3} {error['field']}: {error['message']}")
    closed = dict(forms[1], program_id="gimpo-sos-2024")
    closed["consulting"] = dict(closed["consulting"], planned_completion_on="2024-10-31")
    late = polite.post(f"{BASE}/applications", json=closed, headers=token(Role.OPERATOR))
    print(f"applying to the closed 2024 call: HTTP {late.status_code} {late.json()['errors'][0]['rule']} "
          f"{clip(late.json()['errors'][0]['message'], 90)}")


async def forward_from_municipal_system(form: dict) -> tuple[str, dict[int, int]]:
    """Another municipal system (민원 창구) forwards a paper application as an event; returns the filing's ce_id and
    where its answer topic stood before it was sent."""
    now = datetime.now(timezone.utc)
    # The sender's own number for the filing, new for every filing: a reference already taken refers to that
    # filing's application (A2), so a re-run of the job must not reuse the last run's.
    reference = f"MW-{now:%Y%m%d-%H%M%S}-{form['company']['business_registration_number'][-4:]}"
    event = ApplicationFiledByMunicipalSystem(
        program_id=form["program_id"], occurred_at=now, source_system="gimpo-minwon", external_reference=reference,
        content=to_content(ApplicationForm.model_validate(form), consent_at=now))
    answers_before = await end_offsets(ApplicationFilingResult.topic(), KAFKA)
    ce_id = await publish_event(event, KAFKA, source="/gimpo/minwon")
    print(f"gimpo-minwon forwarded {form['company']['name']} as {event.topic()} ({reference})")
    return ce_id, answers_before


async def _answer_to(ce_id: str, start: dict[int, int]) -> ApplicationFilingResult | None:
    def answers(records) -> list[ApplicationFilingResult]:
        return [ApplicationFilingResult.model_validate_json(r.value) for r in records]

    records = await read_topic(ApplicationFilingResult.topic(), KAFKA, start, timeout=1,
                               until=lambda rs: any(a.filing_event_id == ce_id for a in answers(rs)))
    return next((a for a in answers(records) if a.filing_event_id == ce_id), None)


def wait_for_answer(form: dict, ce_id: str, start: dict[int, int]) -> ApplicationFilingResult:
    """What the sender does: read its answer, matched to the filing it sent (accepted with the application, or
    refused with every problem), while intake is still working on it."""
    try:
        answer = wait_while_moving(lambda: asyncio.run(_answer_to(ce_id, start)), lambda a: a is not None,
                                   signals=(SERVICE_WRITES,),
                                   what=f"the answer to {form['company']['name']}'s municipal filing")
    except Stalled as stalled:
        raise TimeoutError(str(stalled)) from None
    assert answer is not None
    print(f"gimpo-minwon's answer on {ApplicationFilingResult.topic()}: {answer.outcome}"
          + (f" as {answer.application_id} ({answer.disposition})" if answer.outcome == "accepted" else ""))
    if answer.outcome != "accepted":
        raise SystemExit("the municipal filing was refused: " + "; ".join(
            f"{p.field}: {p.message} ({p.rule})" for p in answer.problems))
    return answer


def bus_summary(start: dict[int, int], ids: set[str]) -> None:
    records = asyncio.run(read_topic(ApplicationSubmitted.topic(), KAFKA, start, timeout=60,
                                     until=lambda rs: {r.key.decode() for r in rs} >= ids))
    ours = [r for r in records if r.key.decode() in ids]
    ce_ids = {headers_of(r)["ce_id"] for r in ours}
    types = Counter(headers_of(r)["ce_type"] for r in ours)
    print(
        f"{ApplicationSubmitted.topic()}: {len(ours)} events for {len(ids)} applications, {len(ce_ids)} distinct ce_id"
    )
    for ce_type, n in types.items():
        print(f"    ce_type {ce_type}: {n}")
    missing = ids - {r.key.decode() for r in ours}
    if missing:
        raise SystemExit(f"MISSING on the bus: {sorted(missing)}")


def stage_table(apps: list[dict]) -> None:
    by_status = Counter(a["status"] for a in apps)
    by_channel = Counter(a["channel"] for a in apps)
    incomplete = sum(1 for a in apps if any(u["mandatory"] for u in a["unmet_evidence"]))
    print(f"{'stage':<12}{'result':<48}")
    print(f"{'intake':<12}{len(apps)} applications: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items()))
          + " | " + ", ".join(f"{k} {v}" for k, v in sorted(by_channel.items())))
    print(f"{'':<12}{incomplete} with required evidence missing at submission")


def run_intake(program: dict, web_forms: list[dict], paper_form: dict) -> tuple[list[dict], dict[str, str], float]:
    """The stage: returns the call's applications as intake holds them, their companies' names by application
    id, and when the first was sent (time.monotonic())."""
    start = asyncio.run(end_offsets(ApplicationSubmitted.topic(), KAFKA))
    heading(f"intake: {len(web_forms)} companies apply over HTTP")
    call_started = time.monotonic()
    ids, latencies = submit_call(web_forms)
    print(f"latency ms: p50 {statistics.median(latencies):.1f}, max {max(latencies):.1f}")
    heading("intake: what a company sees when something is wrong")
    show_refusals(web_forms)
    heading("intake: an application forwarded by another municipal system")
    ce_id, answers_before = asyncio.run(forward_from_municipal_system(paper_form))
    answer = wait_for_answer(paper_form, ce_id, answers_before)
    paper = polite.get(f"{BASE}/applications/{answer.application_id}", headers=token(Role.OPERATOR)).json()
    print(f"accepted as {paper['application_id']} (channel {paper['channel']})")
    heading("on the bus (CloudEvents, Kafka binary mode)")
    bus_summary(start, set(ids) | {paper["application_id"]})
    heading("program call, stage by stage")
    apps = [
        a
        for a in polite.get(
            f"{BASE}/applications?program_id={program['program_id']}&limit=1000", headers=token(Role.OPERATOR)
        ).json()
        if a["application_id"] in set(ids) | {paper["application_id"]}
    ]
    stage_table(apps)
    names = {a["application_id"]: a["content"]["company"]["name"] for a in apps}
    return apps, names, call_started
