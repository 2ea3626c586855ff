"""A real Prometheus (Debian's package) scraping the processes the main job starts, with the alert rules of
deploy/prometheus/alerts.yml: the scrape config of prometheus.local.yml with the ports this run uses."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import yaml

from deploy.local.procs import ROOT

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
        log = (self.folder / "prometheus.log").open("ab")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={path}", f"--storage.tsdb.path={self.folder / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=2d"],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"prometheus did not start; see {self.folder / 'prometheus.log'}")

    def report(self, timeout: float = 30) -> tuple[int, int, int]:
        """(targets up, targets, alert rules loaded), once every target has been scraped or `timeout` passed."""
        deadline = time.monotonic() + timeout
        while True:
            targets = httpx.get(f"{self.url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
            up = sum(t["health"] == "up" for t in targets)
            if up == len(targets) or time.monotonic() > deadline:
                break
            time.sleep(1)
        groups = httpx.get(f"{self.url}/api/v1/rules", timeout=5).json()["data"]["groups"]
        return up, len(targets), sum(len(g["rules"]) for g in groups)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
