"""A service that is given a JWKS (a real intake process here): it accepts the tokens signed by the listed key —
minted by the `token --key` command an operator or the portal uses — and refuses the shared development secret's,
with 401 and the error shape; its own key ids are all it trusts."""
from __future__ import annotations

import subprocess
import sys

import httpx

from deploy.local.procs import running
from sme_runtime.auth import Role, mint_token
from sme_runtime.keys import JWKS, SIGNING_KEY, load_signing_key, new_keys
from sme_runtime.settings import DEVELOPMENT_SECRET
from tests.support import ROOT, ServiceProcess

BASE = "http://127.0.0.1:18001"


def test_a_service_with_a_jwks_trusts_its_keys_only(intake_env, tmp_path):
    new_keys(tmp_path)
    env = {**intake_env, "INTAKE_JWKS": str(tmp_path / JWKS)}
    command = subprocess.run([sys.executable, "-m", "intake", "token", "--role", "operator", "--agency", "gimpo",
                              "--key", str(tmp_path / SIGNING_KEY)], env=env, cwd=ROOT, capture_output=True,
                             text=True, check=True)
    signed = command.stdout.strip()
    with running(ServiceProcess("intake", "serve", env, port=18001)):
        ok = httpx.get(f"{BASE}/applications", headers={"Authorization": f"Bearer {signed}"})
        assert ok.status_code == 200, ok.text
        company = mint_token(load_signing_key(tmp_path / SIGNING_KEY), subject="company:1248100998",
                             role=Role.COMPANY, brn="1248100998")
        assert httpx.get(f"{BASE}/applications", headers={"Authorization": f"Bearer {company}"}).json() == []
        shared = mint_token(DEVELOPMENT_SECRET, subject="operator:x", role=Role.OPERATOR, agencies=["gimpo"])
        refused = httpx.get(f"{BASE}/applications", headers={"Authorization": f"Bearer {shared}"})
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert "invalid bearer token" in refused.text
