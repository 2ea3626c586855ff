"""The main job: the whole system on this machine, a sample program call flowing through it, stage by stage.

Run through deploy/local/main-job.sh, which installs and starts what is needed first."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer

from deploy.local.procs import ROOT, ServiceProcess, end_offsets, headers_of, intake_env, read_topic
from deploy.sample.program_call import demo_program, sample_forms
from intake.form import ApplicationForm, to_content
from sme_runtime.auth import Role, mint_token
from sme_runtime.settings import DEVELOPMENT_SECRET
from sme_schemas import wrap
from sme_schemas.intake import ApplicationFiledByMunicipalSystem, ApplicationSubmitted

LOCAL_DIR = Path(os.environ.get("SME_LOCAL_DIR", ROOT / ".local"))
KAFKA = f"127.0.0.1:{os.environ.get('SME_KAFKA_PORT', '9092')}"
PG_PORT = os.environ.get("SME_PG_PORT", "5432")
INTAKE_PORT = int(os.environ.get("SME_INTAKE_PORT", "8001"))
BASE = f"http://127.0.0.1:{INTAKE_PORT}"


def token(role: Role, brn: str | None = None) -> dict[str, str]:
    subject = f"company:{brn}" if brn else "operator:center-staff"
    return {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject=subject, role=role, brn=brn)}


def heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 74 - len(text)))


def start_services(program_dir: Path) -> list[ServiceProcess]:
    env = intake_env(kafka=KAFKA, pg_port=PG_PORT, http_port=INTAKE_PORT,
                     programs_path=f"{ROOT / 'deploy/programs'}:{program_dir}")
    intake = ServiceProcess("intake", "serve", env, port=INTAKE_PORT, log=LOCAL_DIR / "intake.log")
    intake.start()
    print(f"intake    http://127.0.0.1:{INTAKE_PORT}/docs   metrics /metrics/   log {intake.log}")
    return [intake]


def submit_call(forms: list[dict]) -> tuple[list[str], list[float]]:
    """Every company submits its own application over HTTP; returns ids and latencies (ms)."""
    ids, latencies = [], []
    with httpx.Client(base_url=BASE, timeout=30) as client:
        for i, form in enumerate(forms):
            brn = form["company"]["business_registration_number"]
            started = time.perf_counter()
            response = client.post("/applications", json=form,
                                   headers={**token(Role.COMPANY, brn), "Idempotency-Key": f"main-job-{brn}"})
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            body = response.json()
            ids.append(body["application_id"])
            unmet = ", ".join(u["purpose"] for u in body["unmet_evidence"] if u["mandatory"])
            print(f"{i + 1:>3} {body['application_id']}  {form['company']['name']:<16} "
                  f"{body['disposition']:<9} {'evidence missing: ' + unmet if unmet else 'evidence complete'}")
    return ids, latencies


def show_refusals(forms: list[dict]) -> None:
    """What a company sees when it gets something wrong: every field, with its rule."""
    form = json.loads(json.dumps(forms[0]))
    brn = form["company"]["business_registration_number"]
    again = httpx.post(f"{BASE}/applications", json=forms[0],
                       headers={**token(Role.COMPANY, brn), "Idempotency-Key": f"main-job-{brn}"})
    print(f"double click (same Idempotency-Key): HTTP {again.status_code}, same id {again.json()['application_id']}")
    form["company"]["business_registration_number"] = brn[:9] + str((int(brn[9]) + 1) % 10)
    form["declarations"]["consent_to_data_use"] = False
    form["consulting"]["cost_excluding_vat"] = -1
    bad = httpx.post(f"{BASE}/applications", json=form, headers=token(Role.OPERATOR))
    print(f"a form with three mistakes: HTTP {bad.status_code}")
    for error in bad.json()["errors"]:
        print(f"    {error['rule']:<3} {error['field']}: {error['message']}")
    closed = dict(forms[1], program_id="gimpo-sos-2024")
    closed["consulting"] = dict(closed["consulting"], planned_completion_on="2024-10-31")
    late = httpx.post(f"{BASE}/applications", json=closed, headers=token(Role.OPERATOR))
    print(f"applying to the closed 2024 call: HTTP {late.status_code} {late.json()['errors'][0]['rule']} "
          f"{late.json()['errors'][0]['message'][:90]}…")


async def forward_from_municipal_system(form: dict) -> None:
    """Another municipal system (민원 창구) forwards a paper application as an event."""
    now = datetime.now(timezone.utc)
    event = ApplicationFiledByMunicipalSystem(
        program_id=form["program_id"], occurred_at=now, source_system="gimpo-minwon",
        external_reference=f"MW-{now:%Y%m%d}-{form['company']['business_registration_number'][-4:]}",
        content=to_content(ApplicationForm.model_validate(form), consent_at=now))
    envelope = wrap(event, source="/gimpo/minwon")
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(event.topic(), envelope.body, key=envelope.key,
                                     headers=[(k, v.encode()) for k, v in envelope.headers().items()])
    finally:
        await producer.stop()
    print(f"gimpo-minwon forwarded {form['company']['name']} as {event.topic()}")


def wait_for_application(form: dict, timeout: float = 30) -> dict:
    # Matched on the business registration number: company names repeat from one run of the job to the next.
    brn = form["company"]["business_registration_number"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for app in httpx.get(f"{BASE}/applications?program_id={form['program_id']}&limit=1000",
                             headers=token(Role.OPERATOR)).json():
            if app["content"]["company"]["business_registration_number"] == brn and app["status"] == "submitted":
                return app
        time.sleep(0.3)
    raise TimeoutError(f"{form['company']['name']} did not arrive through the municipal channel")


def bus_summary(start: dict[int, int], ids: set[str]) -> None:
    records = asyncio.run(read_topic(ApplicationSubmitted.topic(), KAFKA, start, timeout=60,
                                     until=lambda rs: {r.key.decode() for r in rs} >= ids))
    ours = [r for r in records if r.key.decode() in ids]
    ce_ids = {headers_of(r)["ce_id"] for r in ours}
    types = Counter(headers_of(r)["ce_type"] for r in ours)
    print(f"{ApplicationSubmitted.topic()}: {len(ours)} events for {len(ids)} applications, {len(ce_ids)} distinct ce_id")
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
    print(f"{'':<12}{incomplete} with required evidence missing (screening will request a supplement, E6)")
    for stage in ("screening", "evaluation", "contracts", "payments"):
        print(f"{stage:<12}not built yet: the applications wait on the bus for this service")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--companies", type=int, default=30)
    parser.add_argument("--keep-running", action="store_true", help="leave the services up afterwards")
    args = parser.parse_args()
    now = datetime.now(timezone.utc)
    program = demo_program(now)
    program_dir = LOCAL_DIR / "programs"
    program_dir.mkdir(parents=True, exist_ok=True)
    (program_dir / f"{program['program_id']}.json").write_text(json.dumps(program, ensure_ascii=False, indent=2))
    forms = sample_forms(program, now.date(), count=args.companies + 1, seed=int(now.timestamp()))
    web_forms, paper_form = forms[:-1], forms[-1]

    heading(f"program call {program['program_id']}: {program['name']}")
    print(f"window {program['window']['opens_at']} – {program['window']['closes_at']}, budget "
          f"{program['budget']:,} KRW, cap {program['support']['cap']:,} KRW per company")
    heading("starting services")
    services = start_services(program_dir)
    try:
        start = asyncio.run(end_offsets(ApplicationSubmitted.topic(), KAFKA))
        heading(f"intake: {len(web_forms)} companies apply over HTTP")
        ids, latencies = submit_call(web_forms)
        print(f"latency ms: p50 {statistics.median(latencies):.1f}, max {max(latencies):.1f}")
        heading("intake: what a company sees when something is wrong")
        show_refusals(web_forms)
        heading("intake: an application forwarded by another municipal system")
        asyncio.run(forward_from_municipal_system(paper_form))
        paper = wait_for_application(paper_form)
        print(f"accepted as {paper['application_id']} (channel {paper['channel']})")
        heading("on the bus (CloudEvents, Kafka binary mode)")
        bus_summary(start, set(ids) | {paper["application_id"]})
        heading("program call, stage by stage")
        apps = [a for a in httpx.get(f"{BASE}/applications?program_id={program['program_id']}&limit=1000",
                                     headers=token(Role.OPERATOR)).json() if a["application_id"] in set(ids) | {paper["application_id"]}]
        stage_table(apps)
        print(f"\nmain job done: {len(apps)} applications accepted and published")
    finally:
        if not args.keep_running:
            for service in services:
                service.stop()


if __name__ == "__main__":
    main()
