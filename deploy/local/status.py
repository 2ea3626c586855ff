"""Every process of the local deployment: each service (is it ready, and how many events wait for each of its
consumer groups), then what stands beside them: Prometheus, the registry stand-ins and the local mail server.

    bash deploy/local/status.sh      (the broker and the database, then this)

Exits non-zero when a process that answers is not ready; one that is not running is listed as such."""
from __future__ import annotations

import os
import smtplib
import sys

import httpx
from prometheus_client.parser import text_string_to_metric_families

from deploy.local import console
from deploy.local.endpoints import (
    EVALUATION_PORT, EXECUTION_PORTS, INTAKE_PORT, PORTAL_PORT, PROMETHEUS_PORT, REGISTRY_PORTS, SCREENING_PORT,
    SMTP_PORT, WORKER_PORTS,
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
        return f"{name:<36} not running (port {port})", True
    waiting = lags(httpx.get(f"{base}/metrics/", timeout=2, follow_redirects=True).text)
    state = "ready" if ready.status_code == 200 else f"NOT READY {ready.text[:120]}"
    lines = [f"{name:<36} {state}"] + [f"    lag {v:>8.0f}  {k}" for k, v in sorted(waiting.items())]
    return "\n".join(lines), ready.status_code == 200


def answers_http(name: str, url: str) -> tuple[str, bool]:
    """A process beside the services: ready when `url` answers 200."""
    try:
        answer = httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return f"{name:<36} not running ({url})", True
    ready = answer.status_code == 200
    return f"{name:<36} {'ready' if ready else f'NOT READY {answer.status_code}'}", ready


def answers_smtp(name: str, port: int) -> tuple[str, bool]:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=2) as smtp:
            code, _ = smtp.noop()
    except OSError:
        return f"{name:<36} not running (port {port})", True
    return f"{name:<36} {'ready' if code == 250 else f'NOT READY {code}'}", code == 250


def beside_the_services() -> list[tuple[str, bool]]:
    return [answers_http("prometheus", f"http://127.0.0.1:{PROMETHEUS_PORT}/-/ready"),
            answers_http("dashboard (Prometheus console)", f"http://127.0.0.1:{PROMETHEUS_PORT}{console.PATH}"),
            *(answers_http(f"registry stand-in {r}", f"http://127.0.0.1:{port}/health")
              for r, port in REGISTRY_PORTS.items()),
            answers_smtp("mail server (local)", SMTP_PORT)]


def main() -> None:
    ok = True
    services = [report(name, int(os.environ.get(f"SME_{name.upper().replace('-', '_')}_PORT", port)))
                for name, port in SERVICES.items()]
    for line, fine in [*services, *beside_the_services()]:
        print(line)
        ok = ok and fine
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
