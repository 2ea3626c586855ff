"""What a portal page costs beside the service calls it is made of, in one run, alternating: a company's dashboard
(`GET /company`: the portal checks the session, calls intake twice — the applications and the open programs —
and renders) beside the same two intake calls made directly with a token; and a sign-in (argon2id) beside the
session check every page does. Medians and p95 in milliseconds, and their ratios.

Run after `bash deploy/local/main-job.sh --keep-running` (it leaves the demo accounts):

    .venv/bin/python -m bench.portal_pages --company BRN [--requests 200 --runs 5]
"""
from __future__ import annotations

import argparse
import re
import statistics
import time

import httpx

from deploy.local.portal_stage import DEMO_PASSWORD
from deploy.local.procs import ROOT
from sme_runtime.auth import Role, mint_token
from sme_runtime.keys import load_signing_key


def timed(call, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def sign_in(portal: str, login: str) -> httpx.Client:
    client = httpx.Client(base_url=portal, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    answer = client.post("/login", data={"login": login, "password": DEMO_PASSWORD, "csrf_token": token})
    assert answer.status_code == 303, answer.text[:300]
    return client


def p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--company", required=True, help="the demo company's business registration number")
    parser.add_argument("--portal", default="http://127.0.0.1:8000")
    parser.add_argument("--intake", default="http://127.0.0.1:8001")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--sign-ins", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--key", default=str(ROOT / ".local" / "keys" / "signing-key.pem"),
                        help="the key the main job's services verify with (their JWKS)")
    args = parser.parse_args()
    page = sign_in(args.portal, args.company)
    from pathlib import Path

    key = load_signing_key(Path(args.key))
    headers = {"Authorization": "Bearer " + mint_token(key, subject=f"company:{args.company}", role=Role.COMPANY,
                                                       brn=args.company)}
    direct = httpx.Client(base_url=args.intake, headers=headers, timeout=30)

    def two_calls() -> None:
        direct.get("/applications", params={"limit": 100}).raise_for_status()
        direct.get("/programs").raise_for_status()

    def dashboard() -> None:
        assert page.get("/company").status_code == 200

    def notices() -> None:  # a page with the session check and one query of the portal's own, no service call
        assert page.get("/notifications").status_code == 200

    def signing_in() -> None:
        sign_in(args.portal, args.company).close()

    results: dict[str, list[float]] = {"intake: the two calls direct": [], "portal: GET /company (the same two)": [],
                                       "portal: GET /notifications (own DB only)": [], "portal: sign-in (argon2id)": []}
    medians: dict[str, list[float]] = {k: [] for k in results}
    for _ in range(args.runs):
        for name, call, n in (("intake: the two calls direct", two_calls, args.requests),
                              ("portal: GET /company (the same two)", dashboard, args.requests),
                              ("portal: GET /notifications (own DB only)", notices, args.requests),
                              ("portal: sign-in (argon2id)", signing_in, args.sign_ins)):
            values = timed(call, n)
            results[name] += values
            medians[name].append(statistics.median(values))
    base = statistics.median(medians["intake: the two calls direct"])
    print(f"{'':44} {'median ms':>10} {'p95 ms':>8} {'× direct':>9}   (median of {args.runs} runs' medians)")
    for name, values in results.items():
        median = statistics.median(medians[name])
        print(f"{name:44} {median:>10.2f} {p95(values):>8.2f} {median / base:>9.2f}")


if __name__ == "__main__":
    main()
