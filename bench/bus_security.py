"""What the authenticated bus costs (issue 27): the raw broker ceiling (bench.ceilings: idempotent, acks=all,
messages of the product's size) on a plaintext broker and on a SASL_SSL one (SCRAM-SHA-512 over TLS, ACLs from the
catalog), side by side in one run, alternating, with medians and the secured/plaintext ratios. Both brokers are
started fresh in their own folder and ports, and stopped at the end.

    .venv/bin/python -m bench.bus_security [--rounds 3 --messages 30000 --size 1500]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.ceilings import BrokerCeiling, broker_ceiling
from deploy.local.procs import ROOT, principal_on
from sme_runtime.kafka_access import KafkaAccess

BROKERS = {"plaintext": 39092, "sasl_ssl": 39192}


def folder(kind: str) -> Path:
    return ROOT / ".local-bench" / f"bus-{kind}"


def kafka_sh(kind: str, command: str) -> float:
    env = {**os.environ, "SME_LOCAL_DIR": str(folder(kind)), "SME_KAFKA_PORT": str(BROKERS[kind]),
           "SME_KAFKA_CONTROLLER_PORT": str(BROKERS[kind] + 1), "SME_KAFKA_SECURITY": kind}
    started = time.perf_counter()
    subprocess.run(["bash", str(ROOT / "deploy/local/kafka.sh"), command], check=True, env=env,
                   stdout=sys.stderr, stderr=sys.stderr)
    return time.perf_counter() - started


def access(kind: str) -> KafkaAccess:
    bootstrap = f"127.0.0.1:{BROKERS[kind]}"
    if kind == "plaintext":
        return KafkaAccess(bootstrap)
    return principal_on(folder(kind) / "kafka", bootstrap, "admin")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--size", type=int, default=1500)
    args = parser.parse_args()
    for kind in BROKERS:
        shutil.rmtree(folder(kind), ignore_errors=True)
    started = {kind: kafka_sh(kind, "start") for kind in BROKERS}
    results: dict[str, list[BrokerCeiling]] = {kind: [] for kind in BROKERS}
    try:
        for n in range(args.rounds):
            for kind in (BROKERS if n % 2 == 0 else reversed(BROKERS)):  # alternate who goes first
                ceiling = asyncio.run(broker_ceiling(args.messages, args.size, kafka=access(kind)))
                results[kind].append(ceiling)
                print(f"round {n + 1} {kind:9}: produce {ceiling.produce_per_second:8,.0f}/s  consume "
                      f"{ceiling.consume_per_second:8,.0f}/s  one-at-a-time {ceiling.one_at_a_time_per_second:6,.0f}/s",
                      flush=True)
    finally:
        for kind in BROKERS:
            kafka_sh(kind, "stop")
    print(f"\nstart (format, TLS, provisioning): plaintext {started['plaintext']:.1f} s, "
          f"sasl_ssl {started['sasl_ssl']:.1f} s")
    print(f"medians of {args.rounds} rounds, {args.messages:,} messages of {args.size} bytes:")
    for measure in ("produce_per_second", "consume_per_second", "one_at_a_time_per_second"):
        plain = statistics.median(getattr(c, measure) for c in results["plaintext"])
        secured = statistics.median(getattr(c, measure) for c in results["sasl_ssl"])
        print(f"  {measure:26} plaintext {plain:9,.0f}  sasl_ssl {secured:9,.0f}  ratio {secured / plain:.2f}")


if __name__ == "__main__":
    main()
