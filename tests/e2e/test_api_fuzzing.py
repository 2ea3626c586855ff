"""schemathesis against every service's own OpenAPI document, each service running as its own process on the
suite's broker and databases (issue 13): generated requests (examples, coverage, fuzzing and stateful links,
bounded), with an operator's token. Zero server errors, every status code documented, every answer conforming to
its schema. A second run makes every string of every body carry a NUL or a lone surrogate (issue 31)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.local.procs import service_env
from sme_runtime.auth import Role, mint_token
from sme_runtime.settings import DEVELOPMENT_SECRET
from tests.support import KAFKA, ROOT, TEST_ENV, ServiceProcess, running

PORTS = {"intake": 18101, "screening": 18102, "evaluation": 18103, "contracts": 18104, "payments": 18105}
MAX_EXAMPLES = 15


@pytest.mark.parametrize("bodies", ["generated", "NUL-bearing"])
@pytest.mark.parametrize("service", PORTS)
def test_every_generated_request_gets_a_documented_answer_and_no_server_error(fresh_databases, programs_dir,
                                                                               service, bodies, tmp_path):
    """`NUL-bearing`: every string of every body carries a NUL or a lone surrogate (tests/e2e/nul_bodies.py)."""
    env = service_env(service, kafka=KAFKA, pg_port=TEST_ENV["SME_PG_PORT"], http_port=PORTS[service],
                      programs_path=f"{ROOT / 'deploy/programs'}:{programs_dir}")
    token = mint_token(DEVELOPMENT_SECRET, subject="fuzz", role=Role.OPERATOR, agencies=["gimpo"])
    hooks = {"SCHEMATHESIS_HOOKS": "tests.e2e.nul_bodies", "PYTHONPATH": str(ROOT)} if bodies != "generated" else {}
    with running(ServiceProcess(service, "serve", env, port=PORTS[service])):
        run = subprocess.run(
            [str(Path(sys.executable).parent / "schemathesis"), "run",
             f"http://127.0.0.1:{PORTS[service]}/openapi.json", "-H", f"Authorization: Bearer {token}",
             "--max-examples", str(MAX_EXAMPLES), "--seed", "13", "--no-color",
             "--checks", "not_a_server_error,status_code_conformance,response_schema_conformance"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path, env={**os.environ, **hooks})
    summary = [line for line in run.stdout.splitlines() if "generated" in line]
    print(f"{service} ({bodies}): {summary}")
    assert run.returncode == 0, run.stdout[-6000:]
