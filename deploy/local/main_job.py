"""The main job: the whole system on this machine, a sample program call flowing through it, stage by stage.

Run through deploy/local/main-job.sh, which installs and starts what is needed first. Each stage is a module beside
this one: intake_stage, screening_stage, evaluation_stage, execution_stage (agreements to payments and the program
report), portal_stage; endpoints says where the services listen."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path

from deploy.local.endpoints import (
    BASE, CONTRACTS, EVALUATION, EVALUATION_PORT, EXECUTION_PORTS, INTAKE_PORT, KAFKA, LOCAL_DIR, PAYMENTS, PG_PORT,
    PORTAL_PORT, PROMETHEUS_PORT, REGISTRY_PORTS, SCREENING, SCREENING_PORT, SMTP_PORT, WORKER_PORTS,
)
from deploy.local.evaluation_stage import evaluate
from deploy.local.execution_stage import ExecutionServices, execute
from deploy.local.intake_stage import run_intake
from deploy.local.portal_stage import PortalStage, show_portal, use_keys
from deploy.local.procs import (
    ROOT, ServiceProcess, bus_administrator, end_offsets, evaluation_env, intake_env, registry_processes,
    retire_refused_demo_calls, screening_env, screening_processes,
)
from deploy.local import console
from deploy.local.prometheus import RULES, LocalPrometheus
from deploy.local.screening_stage import national_index, run_screening
from deploy.local.show import heading, instant
from deploy.local.walls_stage import run_walls
from deploy.sample.program_call import SOS_2024, demo_program, demo_program_id, sample_forms
from deploy.sample.screening_scenario import adjust_forms, national_corpus, registry_dataset
from sme_schemas.catalog import produced_by


def start_services(program_dir: Path, registry_data: Path, execution: ExecutionServices,
                   similarity_index: Path, started: list[ServiceProcess]) -> None:
    """Every service, each put on `started` before it starts (the caller stops them all, whatever fails)."""
    programs = execution.programs
    registries = list(registry_processes(registry_data, REGISTRY_PORTS, LOCAL_DIR / "logs").values())
    intake = ServiceProcess("intake", "serve", intake_env(kafka=KAFKA, pg_port=PG_PORT, http_port=INTAKE_PORT,
                                                          programs_path=programs), port=INTAKE_PORT,
                            log=LOCAL_DIR / "logs" / "intake.log")
    screening = screening_processes(
        screening_env(kafka=KAFKA, pg_port=PG_PORT, http_port=SCREENING_PORT, programs_path=programs,
                      registry_ports=REGISTRY_PORTS), worker_ports=WORKER_PORTS, log_dir=LOCAL_DIR / "logs",
        extra_env={"SCREENING_SIMILARITY_INDEX": str(similarity_index)})
    evaluation = ServiceProcess("evaluation", "serve", evaluation_env(
        kafka=KAFKA, pg_port=PG_PORT, http_port=EVALUATION_PORT, programs_path=programs), port=EVALUATION_PORT,
        log=LOCAL_DIR / "logs" / "evaluation.log")
    services = [*registries, intake, *screening, evaluation]
    started += services
    for service in services:
        service.start(wait=False)
    for service in services:
        service.wait_healthy()
    execution.start()
    for r, port in REGISTRY_PORTS.items():
        print(f"registry  {r:<19} http://127.0.0.1:{port}  (local stand-in; data {registry_data.name})")
    print(f"intake    http://127.0.0.1:{INTAKE_PORT}/docs")
    print(f"screening http://127.0.0.1:{SCREENING_PORT}/docs   lookup workers on ports "
          + ", ".join(str(p) for p in WORKER_PORTS.values()) + f"   logs {LOCAL_DIR / 'logs'}")
    print(f"evaluation http://127.0.0.1:{EVALUATION_PORT}/docs")
    print(f"contracts {CONTRACTS}/docs   payments {PAYMENTS}/docs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--companies", type=int, default=30)
    parser.add_argument("--program", type=Path, default=SOS_2024, help="the program definition whose terms the "
                        "sample call runs under (default: SOS 2024), e.g. "
                        "deploy/programs/gimpo-smart-factory-2026.json")
    parser.add_argument("--keep-running", action="store_true", help="leave the services up afterwards")
    parser.add_argument("--seed", type=int, default=None, help="draw the sample companies from this seed (default: "
                        "the clock, a new call each run); the same seed on fresh databases prints the same report "
                        "(on databases a run used, its give-up's participation restriction, X10, excludes that "
                        "company the second time)")
    args = parser.parse_args()
    # A `kill` or a timeout's SIGTERM ends the job through its `finally` as an error does: what it started stops
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    # Every process appends its spans here (sme_runtime.telemetry); with OTEL_EXPORTER_OTLP_ENDPOINT set they go
    # to that collector as well.
    os.environ.setdefault("SME_TRACE_FILE", str(LOCAL_DIR / "logs" / "spans.jsonl"))
    # Every process it starts is noted here, so deploy/local/down.sh stops them all (deploy/local/started.py)
    os.environ.setdefault("SME_PID_DIR", str(LOCAL_DIR / "run"))
    # On an authenticated local bus (SME_KAFKA_SECURITY=sasl_ssl) the job's own clients are its administrator;
    # the services each connect as their own principal (procs.service_env)
    os.environ.update(bus_administrator())
    # Every event's ce_dataschema is then a schema a reader can fetch: intake serves them (GET /schemas/…)
    os.environ.setdefault("SME_SCHEMA_BASE_URL", f"http://127.0.0.1:{INTAKE_PORT}/schemas")
    now = datetime.now(timezone.utc)
    # Each run is a call of its own, so a second run on the same databases starts with the whole budget.
    program = demo_program(now, program_id=demo_program_id(args.program, now), source=args.program)
    program_dir = LOCAL_DIR / "programs"
    program_dir.mkdir(parents=True, exist_ok=True)
    retire_refused_demo_calls(program_dir)
    (program_dir / f"{program['program_id']}.json").write_text(json.dumps(program, ensure_ascii=False, indent=2))
    seed = args.seed if args.seed is not None else int(now.timestamp())
    forms = adjust_forms(sample_forms(program, now.date(), count=args.companies + 1, seed=seed), now.date())
    web_forms, paper_form = forms[:-1], forms[-1]
    export = LOCAL_DIR / "national-projects.jsonl"
    national_corpus(forms, export)
    registry_data = LOCAL_DIR / "registry-data.json"
    registry_data.write_text(json.dumps(registry_dataset(
        forms, datetime.fromisoformat(program["announcement_date"]).date(), now.date()), ensure_ascii=False))

    heading(f"program call {program['program_id']}: {program['name']}")
    print(f"sample companies drawn with --seed {seed} (the same seed draws the same companies)")
    print(f"window {instant(program['window']['opens_at'])} – {instant(program['window']['closes_at'])}, budget "
          f"{program['budget']:,} KRW, cap {program['support']['cap']:,} KRW per company")
    support = program["support"]
    print(f"terms of {args.program.name}: {support['ratio_percent']}% of the cost"
          + (f", the company paying at least {support['company_share_percent_of_subsidy']}% of the subsidy"
             if support.get("company_share_percent_of_subsidy") else "")
          + (f", at least {support['minimum_sessions']} sessions" if support.get("minimum_sessions") else "")
          + f", region {program['region_city']}"
          + (f", industries {', '.join(program['eligibility']['industries'])}"
             if program.get("eligibility", {}).get("industries") else "")
          + (f", advance {program['payment_schedule']['advance_percent']}%"
             if program.get("payment_schedule", {}).get("advance_percent") else ", one payment after the report"))
    print("funding: " + ", ".join(f"{f['title']} {f['amount']:,}" for f in program.get("funding") or [
        {"title": "시비", "amount": program["budget"]}]))
    heading("starting services")
    # The services verify tokens with the portal's public key (JWKS); no service holds anything that could mint one
    use_keys(LOCAL_DIR / "keys")
    execution = ExecutionServices(kafka=KAFKA, pg_port=PG_PORT, programs=f"{ROOT / 'deploy/programs'}:{program_dir}",
                                  ports=EXECUTION_PORTS, log_dir=LOCAL_DIR / "logs")
    starts = {cls: asyncio.run(end_offsets(cls.topic(), KAFKA)) for cls in (*produced_by("contracts"),
                                                                             *produced_by("payments"))}
    prometheus = LocalPrometheus({"intake": INTAKE_PORT, "screening": SCREENING_PORT, "evaluation": EVALUATION_PORT,
                                  **EXECUTION_PORTS, **{f"screening-worker-{r}": p for r, p in WORKER_PORTS.items()},
                                  "portal": PORTAL_PORT},
                                 LOCAL_DIR / "prometheus", PROMETHEUS_PORT)
    portal = PortalStage(kafka=KAFKA, pg_port=PG_PORT, port=PORTAL_PORT, smtp_port=SMTP_PORT, local_dir=LOCAL_DIR,
                         urls={"intake": BASE, "screening": SCREENING, "evaluation": EVALUATION,
                               "contracts": CONTRACTS, "payments": PAYMENTS})
    services: list[ServiceProcess] = []
    finished, failure = False, None
    try:  # issue 28: whatever fails, from the first start on, everything started is stopped
        start_services(program_dir, registry_data, execution, national_index(export), services)
        prometheus.start()
        print(f"prometheus {prometheus.url} (Debian's package) scraping every service, rules {RULES.name}")
        portal.start(services)
        print(f"portal    {portal.url}   (web pages for companies, experts, evaluators and staff; its notices by "
              f"e-mail to a local mail server on :{SMTP_PORT}, kept in {LOCAL_DIR / 'mail'}; tokens signed with "
              f"{LOCAL_DIR / 'keys' / 'signing-key.pem'}, verified by every service with its JWKS)")
        apps, names, call_started = run_intake(program, web_forms, paper_form)
        final = run_screening(program, forms, names, call_started)
        budget = evaluate(program, forms, final, names)
        done = execute(program, forms, final, names, budget, execution, starts)
        up, targets, rules = prometheus.report()
        print(f"prometheus {prometheus.url}: {up} of {targets} targets up, {rules} alert rules loaded")
        drawn, with_data = prometheus.dashboard()
        print(f"dashboard {prometheus.dashboard_url}: the Grafana dashboard's {drawn} panels drawn by Prometheus, "
              f"{with_data} with data now")
        show_portal(portal, program["program_id"], expert_party=program["support"].get("expert_party", True))
        run_walls(program)
        print(f"\nmain job done: {len(apps)} applications accepted, published and screened; {budget['evaluated']} "
              f"evaluated; {done['agreed']} agreed; {done['reported']} carried out and reported; {done['paid']} paid")
        finished = True
    except (Exception, KeyboardInterrupt, SystemExit) as error:
        # The error first, then what became of the processes: a reader sees why before what was cleaned up
        failure = error
        if not isinstance(error, SystemExit):
            traceback.print_exc()
    finally:
        keep = args.keep_running and finished
        if not keep:
            for service in services:
                service.stop()
            execution.stop()
            prometheus.stop()
        print(ending(finished=finished, keep=keep, failure=failure, prometheus=prometheus.url))
    if failure is not None:
        sys.exit(failure.code if isinstance(failure, SystemExit) else 1)


def ending(*, finished: bool, keep: bool, failure: BaseException | None, prometheus: str) -> str:
    """The job's last line: what became of the processes it started, after the error when there was one."""
    if failure is not None:
        why = "stopped by a signal" if isinstance(failure, SystemExit) else f"failed: {type(failure).__name__}"
        return f"main job {why} (see above); every process it started is stopped"
    if keep:
        return (f"still running (--keep-running): the portal http://127.0.0.1:{PORTAL_PORT}, the services' /docs and "
                f"Prometheus {prometheus} with the dashboard at {prometheus}{console.PATH}; "
                "`bash deploy/local/status.sh` lists them, `bash deploy/local/down.sh` "
                "stops all of them with the broker and the database")
    return ("the services, the portal, the mail server and Prometheus are stopped now (Kafka and PostgreSQL stay up "
            "until `bash deploy/local/down.sh`): the addresses above answer again with "
            "`bash deploy/local/main-job.sh --keep-running`")


if __name__ == "__main__":
    main()
