"""Every service of the local deployment: is it ready, and how many events wait for each of its consumer groups.

    bash deploy/local/status.sh      (the broker and the database, then this)

Exits non-zero when a service that answers is not ready; a service that is not running is listed as such."""
from __future__ import annotations

import os
import sys

import httpx
from prometheus_client.parser import text_string_to_metric_families

from deploy.local.endpoints import (
    EVALUATION_PORT, EXECUTION_PORTS, INTAKE_PORT, PORTAL_PORT, SCREENING_PORT, WORKER_PORTS,
)

# Where the main job put them, moved by the same SME_*_PORT variables (SME_WORKER_PORT_BASE for the workers)
SERVICES = {"portal": PORTAL_PORT, "intake": INTAKE_PORT, "screening": SCREENING_PORT, "evaluation": EVALUATION_PORT,
            **EXECUTION_PORTS, **{f"screening-worker-{r}": port for r, port in WORKER_PORTS.items()}}


def lags(metrics_text: str) -> dict[str, float]:
    """group ← topic → events waiting, from a /metrics page."""
    return {f"{s.labels['group']} ← {s.labels['topic']}": s.value
            for family in text_string_to_metric_families(metrics_text) if family.name == "sme_consumer_lag"
            for s in family.samples}


def report(name: str, port: int) -> tuple[str, bool]:
    base = f"http://127.0.0.1:{port}"
    try:
        ready = httpx.get(f"{base}/readyz", timeout=2)
    except httpx.HTTPError:
        return f"{name:<34} not running (port {port})", True
    waiting = lags(httpx.get(f"{base}/metrics/", timeout=2, follow_redirects=True).text)
    state = "ready" if ready.status_code == 200 else f"NOT READY {ready.text[:120]}"
    lines = [f"{name:<34} {state}"] + [f"    lag {v:>8.0f}  {k}" for k, v in sorted(waiting.items())]
    return "\n".join(lines), ready.status_code == 200


def main() -> None:
    ok = True
    for name, port in SERVICES.items():
        line, fine = report(name, int(os.environ.get(f"SME_{name.upper().replace('-', '_')}_PORT", port)))
        print(line)
        ok = ok and fine
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
