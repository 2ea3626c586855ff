"""Reproducible builds: every third-party package is pinned with its hashes, and the bootstrap and every image
install exactly that set (nothing resolved again from pyproject's ranges)."""
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = tuple(sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml")))
IMAGE = (ROOT / "deploy/Dockerfile").read_text()


def _locked(name: str) -> dict[str, list[str]]:
    """package → hashes, from a pip-compile --generate-hashes file."""
    packages: dict[str, list[str]] = {}
    current = None
    for line in (ROOT / name).read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9_.\-]+)==\S+", line):
            current = match[1].lower().replace("_", "-")
            packages[current] = []
        elif current and (digest := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            packages[current].append(digest[1])
    return packages


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-dev.txt"])
def test_every_locked_package_has_hashes(lock):
    packages = _locked(lock)
    assert packages and all(packages.values()), [p for p, h in packages.items() if not h]


def test_every_dependency_a_package_declares_is_locked():
    locked = _locked("requirements.txt")
    shared = list(ROOT.glob("shared/*/pyproject.toml"))
    ours = {tomllib.loads(p.read_text())["project"]["name"] for p in shared}
    assert {"sme-schemas", "sme-programs", "sme-runtime"} <= ours
    for pyproject in [*shared, *ROOT.glob("services/*/pyproject.toml")]:
        for requirement in tomllib.loads(pyproject.read_text())["project"]["dependencies"]:
            name = re.split(r"[\[<>=~! ]", requirement)[0].lower().replace("_", "-")
            assert name in ours or name in locked, f"{pyproject.parent.name}: {name} is not in requirements.txt"


def test_each_image_installs_the_locked_set_and_nothing_else():
    assert "COPY requirements.txt requirements.txt" in IMAGE
    assert "pip install --no-cache-dir --require-hashes -r requirements.txt" in IMAGE
    installs = re.findall(r"pip install [^\n&\\]*\./(?:shared|services)/", IMAGE)
    assert installs and all("--no-deps" in i for i in installs)
    shared = {p.parent.name for p in ROOT.glob("shared/*/pyproject.toml")}
    assert all(f"COPY shared/{s} shared/{s}" in IMAGE and f"./shared/{s}" in IMAGE for s in shared)


def test_each_service_has_a_working_console_script():
    for service in SERVICES:
        scripts = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())["project"]["scripts"]
        module, function = scripts[f"sme-{service}"].split(":")
        assert callable(getattr(__import__(module, fromlist=[function]), function))
