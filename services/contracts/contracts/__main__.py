"""python -m contracts serve | relay | migrate | token --role ROLE [--brn BRN]"""
from contracts.config import ContractsSettings
from sme_runtime.service import service_main


def main() -> None:
    service_main(
        "contracts",
        ContractsSettings,
        roles=("operator", "company", "expert"),
        doc=__doc__,
        serve_help="HTTP API + subscriptions + outbox relay + gauges",
    )


if __name__ == "__main__":
    main()
