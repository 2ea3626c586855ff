"""What verifying a service token costs per request: the shared-secret HS256 token beside the Ed25519 (EdDSA)
token a service checks against its JWKS, in one run, alternating, as microseconds per token and their ratio.

    .venv/bin/python -m bench.token_verification [--tokens 5000 --runs 5]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sme_runtime.auth import Role, TokenVerifier, mint_token
from sme_runtime.keys import JWKS, SIGNING_KEY, load_signing_key, new_keys
from sme_runtime.settings import DEVELOPMENT_SECRET


def per_token_us(verifier: TokenVerifier, tokens: list[str]) -> float:
    started = time.perf_counter()
    for token in tokens:
        verifier.principal(token)
    return (time.perf_counter() - started) / len(tokens) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        new_keys(Path(folder))
        signer = load_signing_key(Path(folder) / SIGNING_KEY)
        modes: dict[str, tuple[TokenVerifier, str | tuple[Ed25519PrivateKey, str]]] = {
            "HS256 (shared secret)": (TokenVerifier(DEVELOPMENT_SECRET), DEVELOPMENT_SECRET),
            "EdDSA (JWKS file)": (TokenVerifier(DEVELOPMENT_SECRET, str(Path(folder) / JWKS)), signer),
        }
        tokens = {name: [mint_token(key, subject=f"company:{n:010d}", role=Role.COMPANY, brn=f"{n:010d}")
                         for n in range(args.tokens)] for name, (_, key) in modes.items()}
        results: dict[str, list[float]] = {name: [] for name in modes}
        for _ in range(args.runs):
            for name, (verifier, _) in modes.items():
                results[name].append(per_token_us(verifier, tokens[name]))
    medians = {name: statistics.median(values) for name, values in results.items()}
    for name, value in medians.items():
        print(f"{name:<24} {value:8.1f} µs per token (median of {args.runs} runs of {args.tokens:,}; "
              f"runs {', '.join(f'{v:.1f}' for v in results[name])})")
    hs, ed = medians.values()
    print(f"EdDSA / HS256: {ed / hs:.2f}x")


if __name__ == "__main__":
    main()
