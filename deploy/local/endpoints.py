"""Where the main job's services listen on this machine (each port movable by its SME_* variable, as the tests
move them), where it keeps its files, and the operator's or a company's token it calls them with."""
from __future__ import annotations

import os
from pathlib import Path

from deploy.local.procs import REGISTRIES, ROOT, demo_agencies, signer
from sme_runtime.auth import Role, mint_token

LOCAL_DIR = Path(os.environ.get("SME_LOCAL_DIR", ROOT / ".local"))
KAFKA = f"127.0.0.1:{os.environ.get('SME_KAFKA_PORT', '9092')}"
PG_PORT = os.environ.get("SME_PG_PORT", "5432")
INTAKE_PORT = int(os.environ.get("SME_INTAKE_PORT", "8001"))
SCREENING_PORT = int(os.environ.get("SME_SCREENING_PORT", "8002"))
EVALUATION_PORT = int(os.environ.get("SME_EVALUATION_PORT", "8003"))
EXECUTION_PORTS = {"contracts": int(os.environ.get("SME_CONTRACTS_PORT", "8004")),
                   "payments": int(os.environ.get("SME_PAYMENTS_PORT", "8005"))}
WORKER_PORTS = {r: int(os.environ.get("SME_WORKER_PORT_BASE", "8012")) + i for i, r in enumerate(REGISTRIES)}
PROMETHEUS_PORT = int(os.environ.get("SME_PROMETHEUS_PORT", "9090"))
PORTAL_PORT = int(os.environ.get("SME_PORTAL_PORT", "8000"))
SMTP_PORT = int(os.environ.get("SME_SMTP_PORT", "8025"))
REGISTRY_PORTS = {r: int(os.environ.get("SME_REGISTRY_PORT_BASE", "8101")) + i for i, r in enumerate(REGISTRIES)}
BASE = f"http://127.0.0.1:{INTAKE_PORT}"
SCREENING = f"http://127.0.0.1:{SCREENING_PORT}"
EVALUATION = f"http://127.0.0.1:{EVALUATION_PORT}"
CONTRACTS = f"http://127.0.0.1:{EXECUTION_PORTS['contracts']}"
PAYMENTS = f"http://127.0.0.1:{EXECUTION_PORTS['payments']}"


def token(role: Role, brn: str | None = None, *, agencies: tuple[str, ...] | None = None,
          subject: str | None = None) -> dict[str, str]:
    """A company's token, or the demo staff's acting for `agencies` (default every agency of deploy/programs)."""
    subject = subject or (f"company:{brn}" if brn else "operator:center-staff")
    acts_for = () if role is Role.COMPANY else agencies if agencies is not None else demo_agencies()
    return {"Authorization": "Bearer " + mint_token(signer(), subject=subject, role=role, brn=brn,
                                                    agencies=acts_for)}
