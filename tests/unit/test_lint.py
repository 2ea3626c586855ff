"""The code passes `ruff check` (ruff.toml: pyflakes and pycodestyle, lines of at most 120) and `mypy` with
pydantic's plugin (pyproject.toml: every service, the shared packages, the local deployment, the benchmarks)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = Path(sys.executable).parent


def test_ruff_finds_nothing():
    result = subprocess.run([str(TOOLS / "ruff"), "check", "--no-cache", "."], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_mypy_finds_nothing():
    # --cache-dir=/dev/null: a run from scratch, writing nothing into the checkout
    result = subprocess.run([str(TOOLS / "mypy"), "--cache-dir=/dev/null"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Success: no issues found" in result.stdout
