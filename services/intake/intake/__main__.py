"""python -m intake serve | relay | migrate | token --role ROLE [--brn BRN] [--subject S]"""
from intake.config import IntakeSettings
from sme_runtime.service import service_main


def main() -> None:
    service_main(
        "intake",
        IntakeSettings,
        roles=("operator", "company", "evaluator", "expert"),
        doc=__doc__,
        serve_help="HTTP API + subscriptions + outbox relay",
    )


if __name__ == "__main__":
    main()
