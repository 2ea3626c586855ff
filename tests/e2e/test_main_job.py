"""The README's main job, run against the suite's own broker and databases: the sample call end to end."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.support import ROOT, TEST_ENV


def test_main_job_takes_the_sample_call_through_intake_onto_the_bus(fresh_databases):
    env = {**os.environ, **TEST_ENV, "SME_INTAKE_PORT": "18011"}
    result = subprocess.run([sys.executable, "-m", "deploy.local.main_job", "--companies", "30"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert len(re.findall(r"APP-[0-9A-Z]{26} .* created ", out)) == 30
    assert "31 events for 31 applications, 31 distinct ce_id" in out
    assert "31 applications: submitted 31 | municipal-system 1, web 30" in out
    assert re.search(r"A1 +company\.business_registration_number: .*wrong check digit", out)
    assert "HTTP 422 A3" in out
