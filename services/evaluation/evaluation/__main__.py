"""python -m evaluation serve | relay | migrate | token --role ROLE [--subject EVALUATOR-ID]"""
from evaluation.config import EvaluationSettings
from sme_runtime.service import service_main


def main() -> None:
    service_main(
        "evaluation",
        EvaluationSettings,
        roles=("operator", "evaluator"),
        doc=__doc__,
        serve_help="HTTP API + subscriptions + outbox relay + gauges",
    )


if __name__ == "__main__":
    main()
