"""A real Prometheus (Debian's package) scraping the processes the main job starts, with the alert rules of
deploy/prometheus/alerts.yml: the scrape config of prometheus.local.yml with the ports this run uses."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import yaml

from deploy.local import console, started
from deploy.local.procs import ROOT
from deploy.local.waiting import Stalled, cpu_seconds, wait_while_moving

RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
TEMPLATE = ROOT / "deploy" / "prometheus" / "prometheus.local.yml"


def config(ports: dict[str, int], folder: Path) -> Path:
    """prometheus.local.yml with this run's ports, and the alert rules beside it."""
    settings = yaml.safe_load(TEMPLATE.read_text())
    for target in settings["scrape_configs"][0]["static_configs"]:
        target["targets"] = [f"127.0.0.1:{ports[target['labels']['service']]}"]
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(RULES, folder / "alerts.yml")
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False))
    return path


class LocalPrometheus:
    def __init__(self, ports: dict[str, int], folder: Path, port: int) -> None:
        self.ports, self.folder, self.port = ports, folder, port
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LocalPrometheus":
        path = config(self.ports, self.folder)
        consoles, libraries = console.write(self.folder)
        log = (self.folder / "prometheus.log").open("ab")
        command = ["prometheus", f"--config.file={path}", f"--storage.tsdb.path={self.folder / 'data'}",
                   f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=2d",
                   f"--web.console.templates={consoles}", f"--web.console.libraries={libraries}"]
        self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        started.remember("prometheus", self.proc.pid, command)
        proc = self.proc

        def ready() -> int | str:
            if proc.poll() is not None:
                raise RuntimeError(f"prometheus exited; see {self.folder / 'prometheus.log'}")
            try:
                return httpx.get(f"{self.url}/-/ready", timeout=1).status_code
            except httpx.HTTPError as exc:
                return type(exc).__name__

        def starting():
            """prometheus's CPU time"""
            return cpu_seconds(proc.pid)

        try:
            wait_while_moving(ready, lambda answer: answer == 200, what="prometheus starting", signals=(starting,))
        except Stalled as stalled:
            raise TimeoutError(f"{stalled}; see {self.folder / 'prometheus.log'}") from None
        return self

    def report(self, quiet: float = 30) -> tuple[int, int, int]:
        """(targets up, targets, alert rules loaded), once every target has been scraped, or once their health
        stopped changing for `quiet` seconds."""
        def health() -> tuple[int, int]:
            targets = httpx.get(f"{self.url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
            return sum(t["health"] == "up" for t in targets), len(targets)

        try:
            up, total = wait_while_moving(health, lambda seen: seen[0] == seen[1], what="prometheus's first scrapes",
                                          quiet=quiet, interval=1)
        except Stalled:
            up, total = health()
        groups = httpx.get(f"{self.url}/api/v1/rules", timeout=5).json()["data"]["groups"]
        return up, total, sum(len(g["rules"]) for g in groups)

    @property
    def dashboard_url(self) -> str:
        return f"{self.url}{console.PATH}"

    def dashboard(self) -> tuple[int, int]:
        """(panels, panels with data now): the console page is served, and each panel's PromQL is asked of the
        metrics this run scraped — a panel whose query Prometheus refuses fails the job."""
        httpx.get(self.dashboard_url, timeout=10).raise_for_status()
        drawn = console.dashboard_panels()
        with_data = 0
        for panel in drawn:
            answers = [httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
                       for expr in panel["exprs"]]
            for answer in answers:
                answer.raise_for_status()
            with_data += any(a.json()["data"]["result"] for a in answers)
        return len(drawn), with_data

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        started.forget("prometheus")
