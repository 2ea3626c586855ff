"""The main job's screening stage: the national prior-project index built, each application screened against the
rules and the four registries, the manual-review queue worked by operators, and a company's supplement (E6)."""
from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path

from deploy.local import polite
import asyncpg

from deploy.local.endpoints import BASE, LOCAL_DIR, PG_PORT, SCREENING, WORKER_PORTS, token
from deploy.local.show import KST, clip, heading, instant, pad
from deploy.local.waiting import SERVICE_WRITES, Stalled, wait_while_moving
from deploy.sample.screening_scenario import NATIONAL, NATIONAL_PROJECTS, PLANTED, expected
from sme_runtime.auth import Role


def national_index(export: Path) -> Path:
    """The duplicate-projects lookup's prior-project index, built from the national registry export with the
    command a center runs on a real export."""
    folder = LOCAL_DIR / "national-index"
    vectors = LOCAL_DIR / f"national-vectors-{hashlib.sha256(export.read_bytes()).hexdigest()[:16]}.npz"
    if not vectors.exists():
        # the goals' vectors are the slow part (about a minute on two cores): made once per export, as a center
        # embeds a registry export apart from building the index
        print(f"national prior-project index: embedding the export's development goals once (kept in {vectors.name})")
        subprocess.run([sys.executable, "-m", "screening", "similarity", "embed", "--in", str(export),
                        "--out", str(vectors)], capture_output=True, text=True, check=True)
    run = subprocess.run([sys.executable, "-m", "screening", "similarity", "index", "--in", str(export),
                          "--out", str(folder), "--vectors", str(vectors)], capture_output=True, text=True, check=True)
    report = json.loads(run.stdout)
    print(f"national prior-project index: {report['projects']:,} projects (NTIS, SMTECH, GSTEP-PMS export "
          f"{export.name}) indexed in {report['seconds']}s with their goals' vectors, {report['bytes'] / 1e6:.0f} MB "
          f"→ {folder}")
    return folder


def registry_calls() -> tuple:
    """the lookup workers' registry calls."""
    # A slow registry (the duplicate-projects search timing out on a loaded host) opens and closes its circuit
    # for minutes while no database row changes: the workers still calling it is the run moving, not stalled.
    def calls(port: int) -> tuple | None:
        try:
            health = polite.get(f"http://127.0.0.1:{port}/health", timeout=5).json()
        except Exception:  # noqa: BLE001 - a worker that does not answer shows no progress
            return None
        return health.get("calls"), health.get("circuit"), health.get("answered")

    return tuple(calls(port) for port in WORKER_PORTS.values())


def screened(program_id: str, ids: set[str]) -> dict[str, dict]:
    """Screening's view of our applications once none waits on a registry any more (this call's program only:
    the local database also keeps earlier calls and benchmarks): waited for while screening keeps deciding or
    the services keep writing, on a loaded machine for minutes (issue 28)."""
    def ours() -> dict[str, dict]:
        return {a["application_id"]: a for a in polite.get(f"{SCREENING}/applications?program_id={program_id}"
                                                          "&limit=5000", headers=token(Role.OPERATOR)).json()
                if a["application_id"] in ids}

    def settled(rows: dict[str, dict]) -> bool:
        return len(rows) == len(ids) and not any(a["status"] == "screening" for a in rows.values())

    try:
        return wait_while_moving(ours, settled, what="screening", signals=(SERVICE_WRITES, registry_calls),
                                interval=0.5)
    except Stalled:
        rows = ours()
        raise SystemExit(f"screening did not settle and stopped moving: {Counter(a['status'] for a in rows.values())}"
                         f", {len(ids) - len(rows)} not seen") from None


def restrictions_in_force(brns: list[str], on: date) -> dict[str, tuple[date, date | None]]:
    """Companies barred by an earlier run of the job (X10: a selected company that gave up is restricted for a
    year): a re-run with the same --seed on used databases applies as the same companies, and screening rightly
    remembers. Read from screening's own table, as no API lists them."""
    async def read() -> dict[str, tuple[date, date | None]]:
        conn = await asyncpg.connect(f"postgresql://screening:screening@127.0.0.1:{PG_PORT}/screening", timeout=10)
        try:
            rows = await conn.fetch("SELECT brn, approved_on, restricted_until FROM restrictions WHERE brn = ANY($1) "
                                    "AND (restricted_until IS NULL OR restricted_until >= $2)", brns, on)
        finally:
            await conn.close()
        return {r["brn"]: (r["approved_on"], r["restricted_until"]) for r in rows}

    return asyncio.run(read())


def expected_outcomes(forms: list[dict], program: dict) -> dict[str, tuple[str, str]]:
    """The planted records' outcomes, and X10 for a company an earlier run left restricted."""
    expect = expected(forms, national=True, program=program)
    today = datetime.now(KST).date()
    for brn, (approved_on, until) in restrictions_in_force(
            [f["company"]["business_registration_number"] for f in forms], today).items():
        print(f"  {brn}: restricted since an earlier run's withdrawal approved {approved_on} (until {until}): X10")
        expect[brn] = ("rejected", "X10")
    return expect


def _rules(row: dict) -> list[str]:
    decision = row.get("decision") or {}
    key = {"rejected": "findings", "manual-review": "questions", "supplement-requested": "documents"}.get(row["status"])
    return sorted({f["rule"] for f in decision.get(key, [])}) if key else []


def screening_summary(rows: dict[str, dict], names: dict[str, str], expect: dict[str, tuple[str, str]]) -> None:
    """Counts by outcome and by rule, then each application that did not simply pass, with its reason."""
    by_outcome = Counter(r["status"] for r in rows.values())
    by_rule = Counter(f"{r['status']} {rule}" for r in rows.values() for rule in _rules(r))
    print("by outcome: " + ", ".join(f"{k} {v}" for k, v in sorted(by_outcome.items())))
    print("by rule:    " + ", ".join(f"{k} {v}" for k, v in sorted(by_rule.items())))
    mismatches = 0
    for app_id, row in sorted(rows.items(), key=lambda kv: names[kv[0]]):
        want = expect.get(row["business_registration_number"], ("passed", ""))
        ok = row["status"] == want[0] and (not want[1] or want[1] in _rules(row))
        mismatches += not ok
        if row["status"] == "passed" and ok:
            continue
        decision = row["decision"] or {}
        first = (decision.get("findings") or decision.get("questions") or decision.get("documents") or [{}])[0]
        reason = first.get("detail") or "/".join(first.get("any_of", [])) + f" ({first.get('problem', '')})"
        print(
            f"  {'  ' if ok else '!!'} {pad(names[app_id], 20)} {row['status']:<21} {','.join(_rules(row)):<7} "
            f"{clip(reason, 96)}"
        )
    if mismatches:
        raise SystemExit(f"{mismatches} applications were screened differently from the planted records")


def work_review_queue(names: dict[str, str], *, recheck: bool = False) -> int:
    """Center staff judge what the rules referred to them; each ruling is recorded and publishes the same events.
    With `recheck`, the questions an X11 re-check raised (purpose recheck:<request id>)."""
    queue = [item for item in polite.get(f"{SCREENING}/reviews", headers=token(Role.OPERATOR)).json()
             if item["application_id"] in names and item["purpose"].startswith("recheck:") == recheck]
    if queue or not recheck:
        print(f"{len(queue)} applications of this call wait for an operator" + (" (X11 re-check)" if recheck else ""))
    for item in queue:
        rules = sorted({q["rule"] for q in item["questions"]})
        exclude = bool({"X4", "X6"} & set(rules))  # the demo staff confirm these two, clear the rest
        reason = ("대표자 성명 허위 기재 확인 (사업자등록증 대조)" if "X4" in rules else
                  "컨설팅 내용이 공고된 지원분야와 상이함" if "X6" in rules else
                  "유사 과제와 대상 공정·목표가 달라 중복 아님 (위원회 검토)" if "D3" in rules else
                  "사업자등록증명 원본으로 계속사업자임을 확인")
        response = polite.post(f"{SCREENING}/reviews/{item['application_id']}/rulings", headers=token(Role.OPERATOR),
                              json={"decision": "exclude" if exclude else "clear", "reason": reason,
                                    "purpose": item["purpose"]})
        response.raise_for_status()
        print(f"  {names[item['application_id']]:<16} {','.join(rules):<7} {'exclude' if exclude else 'clear':<8}"
              f"→ {response.json()['status']:<9} ({reason})")
    return len(queue)


def supplement(app_id: str, form: dict) -> None:
    """The company uploads the missing certificate through intake; screening re-evaluates the new revision."""
    brn = form["company"]["business_registration_number"]
    have = {d["document_type"] for d in form["evidence"]}
    today = datetime.now(timezone.utc).date().isoformat()
    added = [{"document_type": t, "issued_on": today, "file_reference": f"docs://intake/supplement/{brn}/{t}.pdf"}
             for t in ("local-tax-payment-certificate",) if t not in have]
    response = polite.put(f"{BASE}/applications/{app_id}", headers=token(Role.COMPANY, brn),
                         json={**form, "evidence": form["evidence"] + added})
    response.raise_for_status()
    revision = response.json()["revision"]
    try:
        row = wait_while_moving(
            lambda: polite.get(f"{SCREENING}/applications/{app_id}", headers=token(Role.OPERATOR)).json(),
            lambda r: r["revision"] >= revision and r["status"] not in ("supplement-requested", "screening"),
            what=f"screening taking up the supplement of {app_id}", signals=(SERVICE_WRITES,))
    except Stalled as stalled:
        raise SystemExit(str(stalled)) from None
    print(f"  {form['company']['name']} adds {', '.join(a['document_type'] for a in added)} (revision "
          f"{row['revision']}) → screening: {row['status']}")


def run_screening(program: dict, forms: list[dict], names: dict[str, str], call_started: float) -> dict[str, dict]:
    """The stage: returns screening's view of every application once the call has settled."""
    heading("screening: eligibility, exclusions, evidence, expert grade, four registries")
    print(f"this call's registries hold records on {len(PLANTED)} of the companies, and {len(NATIONAL)} plans "
          f"resemble some of the {NATIONAL_PROJECTS:,} national prior projects")
    rows = screened(program["program_id"], set(names))
    still_waiting = sum(1 for r in rows.values() if (r.get("decision") or {}).get("waiting_on"))
    print(f"all {len(rows)} settled {time.monotonic() - call_started:.1f}s after the first application was sent "
          f"({still_waiting} still waiting on a registry)")
    screening_summary(rows, names, expected_outcomes(forms, program))
    waiting = polite.get(f"{SCREENING}/lookups/waiting", headers=token(Role.OPERATOR)).json()
    print(f"waiting on registries now: {waiting['applications_waiting']}")
    heading("screening: operators work the manual-review queue")
    work_review_queue(names)
    heading("screening: a company supplements its missing document (E6)")
    by_brn = {f["company"]["business_registration_number"]: f for f in forms}
    for app_id, row in rows.items():
        form = by_brn[row["business_registration_number"]]
        if row["status"] == "supplement-requested" and "E1" in _rules(row):
            supplement(app_id, form)
            break
    heading("screening: where the call stands")
    final = screened(program["program_id"], set(names))
    by_outcome = Counter(r["status"] for r in final.values())
    print("by outcome: " + ", ".join(f"{k} {v}" for k, v in sorted(by_outcome.items())))
    by_rule = Counter(rule for r in final.values() if r["status"] == "rejected" for rule in _rules(r))
    print("rejected by rule: " + ", ".join(f"{k} {v}" for k, v in sorted(by_rule.items())))
    deadlines = sorted(
        {instant(r["supplement_deadline"]) for r in final.values() if r["status"] == "supplement-requested"}
    )
    print(
        f"supplements still open: {by_outcome.get('supplement-requested', 0)}, deadline {', '.join(deadlines)} "
        "(no supplement by then rejects as incomplete, E6)"
    )
    return final
