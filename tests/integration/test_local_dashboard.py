"""The operators' dashboard on this machine (deploy/local/console.py, issue 32: Grafana cannot be installed here):
the local Prometheus (Debian's package) serves the Grafana dashboard's panels as a console page. In Chromium every
panel draws its graph without a script error, and Prometheus accepts each panel's PromQL over metrics it scraped
from a process exposing the services' metrics."""
from __future__ import annotations

import socket
import threading
import time
from http.server import HTTPServer

import httpx
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.exposition import MetricsHandler

from deploy.local import console
from deploy.local.prometheus import LocalPrometheus
from tests.support import ensure_browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics_server(registry: CollectorRegistry) -> tuple[HTTPServer, int]:
    """What a service's /metrics/ answers (the scrape config's path), from `registry`."""
    server = HTTPServer(("127.0.0.1", free_port()), MetricsHandler.factory(registry))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def test_the_local_prometheus_draws_every_panel_of_the_grafana_dashboard(tmp_path):
    registry = CollectorRegistry()
    Gauge("sme_outbox_pending", "Outbox rows not yet published", ["service"], registry=registry).labels(
        "intake").set(3)
    Gauge("sme_consumer_lag", "Events waiting", ["group", "topic"], registry=registry).labels(
        "screening", "intake.application-submitted.v1").set(7)
    server, port = metrics_server(registry)
    services = ("intake", "screening", "evaluation", "contracts", "payments", "portal",
                *(f"screening-worker-{r}" for r in ("business-status", "credit", "sanctions", "duplicate-projects")))
    prometheus = LocalPrometheus({s: port for s in services}, tmp_path / "prometheus", free_port())
    try:
        prometheus.start()
        deadline = time.monotonic() + 120
        while not httpx.get(f"{prometheus.url}/api/v1/query", params={"query": "sme_consumer_lag"}).json()[
                "data"]["result"]:
            assert time.monotonic() < deadline, "prometheus never scraped the metrics"
            time.sleep(0.5)
        drawn, with_data = prometheus.dashboard()
        panels = console.dashboard_panels()
        assert drawn == len(panels) > 20 and with_data >= 2

        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=ensure_browser(), args=["--no-sandbox"])
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(prometheus.dashboard_url)
            # Each panel answered: a graph, or the library's word that its query matched nothing yet
            page.wait_for_function("[...document.querySelectorAll('section')].every(s => s.querySelector('svg') || "
                                   "s.textContent.includes('No timeseries returned'))", timeout=60_000)
            titles = page.locator("section h2").all_inner_texts()
            graphs = page.locator("section:has(svg) h2").all_inner_texts()
            lag = page.locator("section", has_text="Consumer lag").inner_text()
            browser.close()
        assert errors == [] and titles == [p["title"] for p in panels]
        assert {"Outbox pending", "Consumer lag: events waiting per group and topic"} <= set(graphs), graphs
        assert "screening ← intake.application-submitted.v1" in lag  # the panel's legend, from the metric's labels
    finally:
        prometheus.stop()
        server.shutdown()
