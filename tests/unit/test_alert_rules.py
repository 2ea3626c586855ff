"""The Prometheus alert rules and configs shipped in deploy/ are valid (promtool from Debian's prometheus package)."""
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_alert_rules_pass_promtool():
    result = subprocess.run(["promtool", "check", "rules", str(ROOT / "deploy/prometheus/alerts.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("config", ["prometheus.local.yml"])
def test_prometheus_config_passes_promtool(config):
    result = subprocess.run(["promtool", "check", "config", "--syntax-only", str(ROOT / "deploy/prometheus" / config)],
                            capture_output=True, text=True, cwd=ROOT / "deploy/prometheus")
    assert result.returncode == 0, result.stdout + result.stderr
