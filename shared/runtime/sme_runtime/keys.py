"""Signing keys for service tokens: an Ed25519 private key for whoever signs (the portal, or an operator's
`token --key` command), and its public half published as a JWKS the services verify with — no service holds a
secret that could mint a token. Each key's id (`kid`) is its RFC 7638 thumbprint, so a JWKS may carry the old
and the new key while they rotate.

    python -m sme_runtime.keys new --dir DIR      # DIR/signing-key.pem (keep it private) and DIR/jwks.json
    python -m sme_runtime.keys rotate --dir DIR   # a new signing key; jwks.json keeps the old public keys too
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNING_KEY = "signing-key.pem"
JWKS = "jwks.json"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(public: Ed25519PublicKey) -> dict[str, str]:
    """The public key as a JWK (OKP, Ed25519) with its thumbprint as `kid`."""
    x = _b64(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    members = {"crv": "Ed25519", "kty": "OKP", "x": x}  # RFC 7638: the required members, sorted, no spaces
    kid = _b64(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())
    return {**members, "kid": kid, "alg": "EdDSA", "use": "sig"}


def load_signing_key(path: Path) -> tuple[Ed25519PrivateKey, str]:
    """The private key of a PEM file and its kid."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key, public_jwk(key.public_key())["kid"]


def _write_private(path: Path, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # readable by its owner only
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def new_keys(folder: Path, *, keep_old: bool = False) -> dict[str, Any]:
    """A new signing key in `folder`; the JWKS lists its public half (and the earlier ones when rotating)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    jwks_path = folder / JWKS
    old = json.loads(jwks_path.read_text("utf-8"))["keys"] if keep_old and jwks_path.exists() else []
    jwks = {"keys": [public_jwk(key.public_key()), *old]}
    _write_private(folder / SIGNING_KEY, key)
    jwks_path.write_text(json.dumps(jwks, indent=2), "utf-8")
    return jwks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["new", "rotate"])
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    jwks = new_keys(args.dir, keep_old=args.action == "rotate")
    print(json.dumps({"signing_key": str(args.dir / SIGNING_KEY), "jwks": str(args.dir / JWKS),
                      "kids": [k["kid"] for k in jwks["keys"]]}))


if __name__ == "__main__":
    main()
