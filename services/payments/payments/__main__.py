"""python -m payments serve | relay | migrate | token --role ROLE [--brn BRN] | rotate-account-key"""
import asyncio

from payments.config import PaymentsSettings
from sme_runtime.service import Command, service_main


async def _reseal(settings: PaymentsSettings) -> int:
    from payments.accounts import AccountVault
    from payments.store import PaymentsStore
    from sme_runtime.db import make_engine, session_factory

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await PaymentsStore(session).reseal_accounts(AccountVault(settings.account_key))
    finally:
        await engine.dispose()


def _rotate(args, settings: PaymentsSettings) -> None:
    print(f"{asyncio.run(_reseal(settings))} bank accounts re-sealed with the newest PAYMENTS_ACCOUNT_KEY")


def main() -> None:
    service_main("payments", PaymentsSettings, roles=("operator", "company"), doc=__doc__,
                 serve_help="HTTP API + subscriptions + outbox relay + overdue sweep",
                 commands={"rotate-account-key": Command(
                     help="re-seal every stored bank account with the first key of PAYMENTS_ACCOUNT_KEY",
                     configure=lambda parser: None, run=_rotate)})


if __name__ == "__main__":
    main()
