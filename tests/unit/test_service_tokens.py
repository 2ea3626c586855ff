"""Service tokens verified with public keys (issue 15's first part): a service given a JWKS accepts only tokens
signed by a listed key (EdDSA) — never the shared development secret, never a key it does not list — and keeps
both keys while they rotate; served over HTTP, a new key id is fetched again."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from fastapi import HTTPException

from sme_runtime.auth import Role, TokenVerifier, mint_token
from sme_runtime.keys import JWKS, SIGNING_KEY, load_signing_key, new_keys, public_jwk
from sme_runtime.settings import DEVELOPMENT_SECRET


def staff_token(secret, **claims) -> str:
    """A staff member's, evaluator's or expert's token: they act for an agency (T1)."""
    return mint_token(secret, agencies=["gimpo"], **claims)


def refused(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(HTTPException) as error:
        verifier.principal(token)
    assert error.value.status_code == 401
    return str(error.value.detail)


def test_a_token_signed_by_a_listed_key_is_accepted_and_nothing_else(tmp_path):
    new_keys(tmp_path)
    signer = load_signing_key(tmp_path / SIGNING_KEY)
    verifier = TokenVerifier(DEVELOPMENT_SECRET, str(tmp_path / JWKS))
    company = verifier.principal(mint_token(signer, subject="company:1248100998", role=Role.COMPANY,
                                            brn="1248100998"))
    assert (company.role, company.business_registration_number) == (Role.COMPANY, "1248100998")
    # the shared secret signs nothing where a JWKS is configured (no downgrade to HS256)
    assert "invalid bearer token" in refused(verifier, staff_token(DEVELOPMENT_SECRET, subject="x", role=Role.OPERATOR))
    # another key, even claiming a listed key's id, is refused
    stranger = tmp_path / "stranger"
    new_keys(stranger)
    other_key, _ = load_signing_key(stranger / SIGNING_KEY)
    assert "no key" in refused(verifier, staff_token((other_key, "unknown-kid"), subject="x", role=Role.OPERATOR))
    assert "Signature verification failed" in refused(
        verifier, staff_token((other_key, signer[1]), subject="x", role=Role.OPERATOR))
    # expired, and a token without its issuer's claims
    assert "expired" in refused(verifier, staff_token(signer, subject="x", role=Role.OPERATOR,
                                                     ttl=timedelta(seconds=-1)))
    bare = jwt.encode({"sub": "x", "role": "operator"}, signer[0], algorithm="EdDSA", headers={"kid": signer[1]})
    assert "invalid bearer token" in refused(verifier, bare)


def test_without_a_jwks_the_development_secret_signs_and_verifies():
    verifier = TokenVerifier(DEVELOPMENT_SECRET)
    assert verifier.principal(staff_token(DEVELOPMENT_SECRET, subject="o", role=Role.OPERATOR)).role is Role.OPERATOR
    assert "invalid bearer token" in refused(TokenVerifier("another-secret-of-at-least-32-chars!!"),
                                             staff_token(DEVELOPMENT_SECRET, subject="o", role=Role.OPERATOR))


def test_keys_rotate_with_both_listed_and_the_private_key_kept_private(tmp_path):
    new_keys(tmp_path)
    old = load_signing_key(tmp_path / SIGNING_KEY)
    jwks = new_keys(tmp_path, keep_old=True)
    new = load_signing_key(tmp_path / SIGNING_KEY)
    assert [k["kid"] for k in jwks["keys"]] == [new[1], old[1]] and new[1] != old[1]
    verifier = TokenVerifier(DEVELOPMENT_SECRET, str(tmp_path / JWKS))
    for signer in (old, new):
        assert verifier.principal(staff_token(signer, subject="o", role=Role.OPERATOR)).subject == "o"
    assert (tmp_path / SIGNING_KEY).stat().st_mode & 0o077 == 0
    assert "d" not in json.loads((tmp_path / JWKS).read_text())["keys"][0]  # no private part published


def test_the_kid_is_the_rfc7638_thumbprint():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    # RFC 8037 appendix A.3's example key and thumbprint
    x = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert public_jwk(Ed25519PublicKey.from_public_bytes(x))["kid"] == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_jwks_served_over_http_is_fetched_again_for_a_new_key(tmp_path):
    new_keys(tmp_path)
    first = load_signing_key(tmp_path / SIGNING_KEY)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        verifier = TokenVerifier(DEVELOPMENT_SECRET, f"http://127.0.0.1:{server.server_port}/{JWKS}",
                                 refetch_seconds=0)
        assert verifier.principal(staff_token(first, subject="a", role=Role.EVALUATOR)).role is Role.EVALUATOR
        new_keys(tmp_path, keep_old=True)  # rotated while the service runs
        second = load_signing_key(tmp_path / SIGNING_KEY)
        assert verifier.principal(staff_token(second, subject="b", role=Role.EXPERT)).subject == "b"
    finally:
        server.shutdown()
