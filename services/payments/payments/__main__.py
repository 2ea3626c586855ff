"""python -m payments serve | relay | migrate | token --role ROLE [--brn BRN]"""
from payments.config import PaymentsSettings
from sme_runtime.service import service_main

if __name__ == "__main__":
    service_main("payments", PaymentsSettings, roles=("operator", "company"), doc=__doc__, serve_help="HTTP API + subscriptions + outbox relay + overdue sweep")
