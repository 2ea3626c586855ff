"""The bus's principals, ACLs and topics as the deploy step provisions them (deploy/local/kafka.sh provision):
`python -m deploy.local.bus principals|bindings|topics`. Generated from the event catalog and deploy/bus/systems.json
(sme_runtime.bus_acl); `topics` creates every topic as the administrator (SME_KAFKA_* in the environment)."""
from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from sme_runtime.bus_acl import all_bindings, all_topics, load_outside_systems, principals
from sme_runtime.topics import ensure_topics

SYSTEMS = Path(__file__).resolve().parents[1] / "bus" / "systems.json"


def internal_topics() -> dict[str, tuple[str, ...]]:
    from screening.app import internal_topics as screening_internal

    return {"screening": screening_internal()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=("principals", "bindings", "topics"))
    parser.add_argument("--systems", type=Path, default=SYSTEMS)
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--partitions", type=int, default=12)
    args = parser.parse_args()
    systems = load_outside_systems(args.systems)
    if args.what == "principals":
        print("\n".join(principals(systems)))
    elif args.what == "bindings":
        print("\n".join(b.line() for b in all_bindings(internal_topics(), systems)))
    else:
        topics = all_topics(internal_topics(), systems)
        asyncio.run(ensure_topics(args.bootstrap, topics, partitions=args.partitions))
        print(f"{len(topics)} topics provisioned")


if __name__ == "__main__":
    main()
