"""The README's main job, run against the suite's own broker and databases: the sample call end to end."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import asyncio

from tests.support import ROOT, TEST_ENV, screening_groups, start_groups_at_end


def test_main_job_takes_the_sample_call_through_intake_and_screening(fresh_databases):
    env = {**os.environ, **TEST_ENV, "SME_INTAKE_PORT": "18011", "SME_SCREENING_PORT": "18021",
           "SME_WORKER_PORT_BASE": "18031", "SME_REGISTRY_PORT_BASE": "18041"}
    asyncio.run(start_groups_at_end(screening_groups()))  # earlier tests' events are not this call's
    result = subprocess.run([sys.executable, "-m", "deploy.local.main_job", "--companies", "30"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert len(re.findall(r"APP-[0-9A-Z]{26} .* created ", out)) == 30
    assert "31 events for 31 applications, 31 distinct ce_id" in out
    assert re.search(r"intake +31 applications: .* \| municipal-system 1, web 30", out)
    assert re.search(r"A1 +company\.business_registration_number: .*wrong check digit", out)
    assert "HTTP 422 A3" in out
    # Screening: every outcome, the planted records found (the job exits non-zero on any mismatch).
    assert "by outcome: manual-review 4, passed 14, rejected 9, supplement-requested 4" in out
    assert re.search(r"by rule: +manual-review D3 1, manual-review X3 1, manual-review X4 1, manual-review X6 1, "
                     r"rejected G2 1, rejected X2 1, rejected X3 2, rejected X5 1, rejected X7 1, rejected X8 1, "
                     r"rejected X9 2, supplement-requested E1 3, supplement-requested E6 1", out)
    assert "waiting on registries now: 0" in out
    assert "4 applications of this call wait for an operator" in out
    assert "→ screening: passed" in out
    assert "by outcome: passed 17, rejected 11, supplement-requested 3" in out
    assert "rejected by rule: G2 1, X2 1, X3 2, X4 1, X5 1, X6 1, X7 1, X8 1, X9 2" in out
