"""python -m portal serve | relay | migrate | token | account create --role ROLE --login L --password-file F …"""
import asyncio
import sys
from datetime import datetime, timezone

from portal.config import PortalSettings
from sme_runtime.service import Command, service_main


async def _create(args, settings: PortalSettings) -> str:
    from portal import notices, security, store
    from sme_runtime.db import make_engine, migrate, session_factory
    from portal.app import MIGRATIONS

    if args.role != "company" and not args.agency:
        raise SystemExit(f"agency: a {args.role} acts for at least one agency: --agency <id> (T1)")
    password = (open(args.password_file, encoding="utf-8").read().strip() if args.password_file
                else sys.stdin.readline().strip())
    login = args.brn if args.role == "company" else security.normalised_login(args.login)
    problem = security.password_problem(password, login)
    if problem:
        raise SystemExit(f"password: {problem}")
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        await migrate(engine, MIGRATIONS)
        async with session_factory(engine)() as session, session.begin():
            db = store.PortalStore(session)
            existing = await db.account_by_login(login, lock=True)
            if existing is not None and existing.role != args.role:
                raise SystemExit(f"login: {login} is already a {existing.role}'s account")
            password_hash = security.hash_password(password)
            if existing is not None:
                await db.reset_account(existing.account_id, password_hash=password_hash,
                                       display_name=args.name, email=args.email, brn=args.brn,
                                       evaluator_id=args.evaluator_id, agencies=args.agency or [])
            else:
                await db.create_account(login=login, role=args.role, display_name=args.name,
                                        email=args.email, brn=args.brn, evaluator_id=args.evaluator_id,
                                        password_hash=password_hash, at=datetime.now(timezone.utc),
                                        invited_by="command line", agencies=args.agency or [])
            await db.release_waiting_mail(notices.recipient_of(args.role, args.brn, args.evaluator_id))
            return f"{login}: " + ("password and details set again" if existing else f"{args.role} account created")
    finally:
        await engine.dispose()


def _configure(parser) -> None:
    parser.add_argument("action", choices=["create"])
    parser.add_argument("--role", required=True, choices=["company", "expert", "evaluator", "operator"])
    parser.add_argument("--login", default="", help="the sign-in name (a company signs in with its --brn)")
    parser.add_argument("--name", required=True, help="display name (a company's 기업명)")
    parser.add_argument("--email", required=True)
    parser.add_argument("--brn", help="company: its own number; expert: the company of the engagement")
    parser.add_argument("--evaluator-id", help="evaluator: the id in evaluation's pool")
    parser.add_argument("--agency", action="append", help="an agency the staff member, evaluator or expert acts "
                        "for (a program file's `agency`; repeat for several, T1)")
    parser.add_argument("--password-file", help="read the password from this file (default: one line on stdin)")


def main() -> None:
    service_main("portal", PortalSettings, roles=("operator", "company", "evaluator", "expert"), doc=__doc__,
                 serve_help="the web pages + the notifier's subscriptions + the e-mail sender",
                 commands={"account": Command(help="create an account (or set its password again): the first "
                                              "operator, or accounts for a demonstration",
                                              configure=_configure,
                                              run=lambda args, settings: print(asyncio.run(_create(args, settings))))})


if __name__ == "__main__":
    main()
