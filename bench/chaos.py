"""The deadline-day surge under faults (`python -m bench.pipeline --chaos`): companies apply over intake's HTTP
API while processes are SIGKILLed at random — screening replicas, lookup-worker replicas, intake and its relay —
and the broker and PostgreSQL each crash once and come back. Then it checks, and prints, what users rely on:
every accepted application decided exactly once, none lost, no effect twice, outboxes empty, lag 0, and the same
decisions as a fault-free run of the same forms.

Companies behave as they would: a request that fails (connection refused while intake is down, a 5xx while the
database restarts) is sent again with the same Idempotency-Key until it is answered; an application counts as
accepted when intake answered 201 (or 200, the same application, to a retry).
"""
from __future__ import annotations

import asyncio
import json
import random
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
import httpx

from deploy.local.groups import consumer_groups, lag, screening_groups
from deploy.local.procs import ROOT, ServiceProcess, end_offsets, intake_env, read_topic
from sme_runtime.auth import Role, mint_token
from sme_runtime.settings import DEVELOPMENT_SECRET
from sme_schemas.screening import ApplicationRejected, ManualReviewRequested, ScreeningPassed, SupplementRequested

DECISIONS = (ScreeningPassed, ApplicationRejected, SupplementRequested, ManualReviewRequested)
INTAKE_PORT = 28001


@dataclass
class Chaos:
    """Kills a random victim every few seconds until stopped; the broker and the database once each."""

    victims: list[ServiceProcess]
    env: dict[str, str]
    seed: int = 11
    kills: Counter = field(default_factory=Counter)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.rng = random.Random(self.seed)

    def start(self) -> "Chaos":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        rounds = 0
        while not self._stop.wait(self.rng.uniform(2.0, 5.0)):
            rounds += 1
            if rounds == 3:
                self._crash("kafka.sh", "broker")
            elif rounds == 6:
                self._crash("postgres.sh", "postgres")
            else:
                victim = self.rng.choice(self.victims)
                victim.kill()
                self.kills[_name(victim)] += 1
                self.log.append(f"SIGKILL {_name(victim)}")
                time.sleep(self.rng.uniform(0.5, 2.0))
                victim.start(wait=False)

    def _crash(self, script: str, name: str) -> None:
        self.log.append(f"crash {name}")
        self.kills[name] += 1
        subprocess.run(["bash", str(ROOT / "deploy/local" / script), "kill"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)
        subprocess.run(["bash", str(ROOT / "deploy/local" / script), "start"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.log.append(f"{name} back")


def _name(process: ServiceProcess) -> str:
    return f"{process.module} {' '.join(process.args)} :{process.port}"


def intake_processes(kafka: str, pg_port: str, programs: str, log_dir) -> list[ServiceProcess]:
    """Intake's API and its relay as two processes, so each can be killed on its own."""
    env = {**intake_env(kafka=kafka, pg_port=pg_port, http_port=INTAKE_PORT, programs_path=programs),
           "INTAKE_RUN_RELAY": "false"}
    return [ServiceProcess("intake", "serve", env, port=INTAKE_PORT, log=log_dir / "intake.log"),
            ServiceProcess("intake", "relay", env, log=log_dir / "intake-relay.log")]


async def apply_all(forms: list[dict], *, concurrency: int = 32, give_up_after: float = 1800) -> dict[str, str]:
    """Every company applies until intake accepts; returns BRN -> application id."""
    accepted: dict[str, str] = {}
    queue: asyncio.Queue = asyncio.Queue()
    for form in forms:
        queue.put_nowait(form)
    deadline = time.monotonic() + give_up_after

    async def company(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            form = queue.get_nowait()
            brn = form["company"]["business_registration_number"]
            headers = {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject=f"company:{brn}",
                                                               role=Role.COMPANY, brn=brn),
                       "Idempotency-Key": f"surge-{brn}"}
            while brn not in accepted:
                if time.monotonic() > deadline:
                    raise SystemExit(f"intake never accepted {brn}")
                try:
                    response = await client.post("/applications", json=form, headers=headers)
                except httpx.HTTPError:
                    await asyncio.sleep(0.5)
                    continue
                if response.status_code in (200, 201):
                    accepted[brn] = response.json()["application_id"]
                elif response.status_code >= 500:
                    await asyncio.sleep(0.5)
                else:
                    raise SystemExit(f"intake refused {brn}: {response.status_code} {response.text[:300]}")

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{INTAKE_PORT}", timeout=30) as client:
        await asyncio.gather(*(company(client) for _ in range(concurrency)))
    return accepted


@dataclass
class Checks:
    """What the chaos run promises, each checked and printed with ✓ or ✗."""

    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, what: str, ok: bool, detail: str = "") -> None:
        self.checks.append((what, ok, detail))

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.checks)

    def print(self) -> None:
        for what, ok, detail in self.checks:
            print(f"  {'✓' if ok else '✗'} {what}{': ' + detail if detail else ''}")


async def _rows(dsn: str, sql: str, *args) -> list:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def statuses(dsn: str, ids: list[str]) -> dict[str, str]:
    return {r["application_id"]: r["status"] for r in await _rows(
        dsn, "SELECT application_id, status FROM screenings WHERE application_id = ANY($1)", ids)}


async def verify(accepted: dict[str, str], reference: dict[str, str | None] | None, *, kafka: str, dsn,
                 decision_starts: dict) -> Checks:
    """The checks of the chaos run; `reference`: BRN -> status of the fault-free run of the same forms."""
    verdict = Checks()
    ids = list(accepted.values())
    found = await statuses(dsn("screening"), ids)
    lost = [a for a in ids if a not in found]
    verdict.check(f"every accepted application reached screening ({len(ids):,})", not lost, f"{len(lost)} lost")
    waiting = [a for a, s in found.items() if s == "screening"]
    verdict.check("every one decided", not waiting, f"{len(waiting)} still undecided")
    decisions: Counter = Counter()
    for event_cls in DECISIONS:
        records = await read_topic(event_cls.topic(), kafka, decision_starts[event_cls], timeout=60)
        wanted = set(ids)
        ce_ids: dict[str, set[str]] = {}
        for r in records:
            key = r.key.decode()
            if key in wanted:
                ce_ids.setdefault(key, set()).add(dict(r.headers)["ce_id"])
        decisions.update({k: len(v) for k, v in ce_ids.items()})
    twice = [a for a, n in decisions.items() if n != 1]
    verdict.check("each decided exactly once (one decision ce_id per application on the bus)",
                  not twice and len(decisions) == len(ids), f"{len(twice)} decided more than once, "
                  f"{len(ids) - len(decisions)} without a decision event")
    intake_rows = await _rows(dsn("intake"), "SELECT brn, count(*) AS n FROM applications WHERE application_id = "
                                             "ANY($1) GROUP BY brn", ids)
    verdict.check("one application per company in intake (no effect twice)",
                  len(intake_rows) == len(ids) and all(r["n"] == 1 for r in intake_rows))
    passed = [a for a, s in found.items() if s == "passed"]
    scored = await _rows(dsn("evaluation"), "SELECT count(*) AS n FROM candidates WHERE application_id = ANY($1)",
                         passed)
    verdict.check(f"every passed application document-scored once ({len(passed):,})", scored[0]["n"] == len(passed))
    audits = await _rows(dsn("screening"), "SELECT application_id, count(*) AS n FROM audit WHERE action = "
                                           "'screening-started' AND application_id = ANY($1) GROUP BY 1", ids)
    verdict.check("screening started once per application", all(r["n"] == 1 for r in audits)
                  and len(audits) == len(ids))
    for service in ("intake", "screening", "evaluation"):
        pending = (await _rows(dsn(service), "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL"))[0]["n"]
        verdict.check(f"{service}'s outbox empty", pending == 0, f"{pending} unsent")
    behind = await lag({**screening_groups(), **consumer_groups("evaluation")}, kafka)
    verdict.check("consumer lag 0 (screening, its workers, intake, evaluation)", behind == 0, f"{behind} behind")
    if reference is not None:
        by_brn = {brn: found.get(app) for brn, app in accepted.items()}
        differ = [brn for brn, status in reference.items() if by_brn.get(brn) != status]
        verdict.check("the same decisions as the fault-free run of the same forms", not differ,
                      f"{len(differ)} differ, e.g. {[(b, reference[b], by_brn.get(b)) for b in differ[:3]]}")
    return verdict


async def decision_offsets(kafka: str) -> dict:
    return {e: await end_offsets(e.topic(), kafka) for e in DECISIONS}


def settle(kafka: str, groups: dict[str, list[str]], dsn, ids: list[str], timeout: float = 900) -> None:
    """Wait until every application is decided, the outboxes have drained and every group has caught up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = asyncio.run(statuses(dsn("screening"), ids))
        if len(found) == len(ids) and "screening" not in found.values():
            pending = sum(asyncio.run(_rows(dsn(s), "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL"))[0]["n"]
                          for s in ("intake", "screening", "evaluation"))
            if pending == 0 and asyncio.run(lag(groups, kafka)) == 0:
                return
        time.sleep(1)


def save(path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1))
