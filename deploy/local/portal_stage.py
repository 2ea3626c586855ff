"""The portal in the main job: the signing keys the services verify its tokens with, the portal and a local
mail server as processes, and a demonstration account per role, printed at the end."""
from __future__ import annotations

import asyncio
import os
import smtplib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from deploy.local import polite
from deploy.local.endpoints import CONTRACTS, LOCAL_DIR, token
from deploy.local.groups import consumer_groups, start_groups_at_end
from deploy.local.procs import ROOT, ServiceProcess, demo_agencies, service_env
from deploy.local.show import heading, pad
from deploy.local.waiting import Stalled, cpu_seconds, wait_while_moving
from deploy.sample.evaluation_scenario import EXTERNALS
from sme_runtime.auth import Role

DEMO_PASSWORD = "demo-portal-2026"  # a demonstration on this machine only; production accounts come by invitation


def signing_keys(folder: Path) -> tuple[Path, Path]:
    """The Ed25519 key the portal (and the job's own desks) sign with, and its JWKS the services verify with;
    made once, kept in `folder`."""
    key, jwks = folder / "signing-key.pem", folder / "jwks.json"
    if not key.exists():
        subprocess.run([sys.executable, "-m", "sme_runtime.keys", "new", "--dir", str(folder)], check=True,
                       capture_output=True)
    return key, jwks


def use_keys(folder: Path) -> None:
    """Every service process started after this verifies with the JWKS; the desks sign with the key."""
    key, jwks = signing_keys(folder)
    os.environ["SME_SIGNING_KEY"], os.environ["SME_JWKS"] = str(key), str(jwks)


@dataclass
class PortalStage:
    kafka: str
    pg_port: str
    port: int
    smtp_port: int
    urls: dict[str, str]
    local_dir: Path
    mails_before: int = 0

    def processes(self) -> list[ServiceProcess]:
        # The demo calls beside the program files: the portal tells of each in its own program's name
        programs = f"{ROOT / 'deploy/programs'}:{self.local_dir / 'programs'}"
        env = {**service_env("portal", kafka=self.kafka, pg_port=self.pg_port, http_port=self.port,
                             programs_path=programs),
               **{f"PORTAL_{service.upper()}_URL": url for service, url in self.urls.items()},
               "PORTAL_SMTP_PORT": str(self.smtp_port), "PORTAL_PUBLIC_URL": self.url,
               "PORTAL_UPLOAD_DIR": str(self.local_dir / "portal-uploads"),
               "PORTAL_SIGNING_KEY": os.environ.get("SME_SIGNING_KEY", "")}
        if not env["PORTAL_SIGNING_KEY"]:
            env.pop("PORTAL_SIGNING_KEY")
        logs = self.local_dir / "logs"
        return [ServiceProcess("deploy.local.mailbox", ["--port", str(self.smtp_port), "--dir",
                                                        str(self.local_dir / "mail")], {}, log=logs / "mailbox.log"),
                ServiceProcess("portal", "serve", env, port=self.port, log=logs / "portal.log")]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, started: list[ServiceProcess]) -> None:
        """The mail server and the portal, each put on `started` before it starts (the caller stops them all,
        whatever fails)."""
        # Each run is a call of its own: the portal tells of this call, not of every earlier run on the broker
        asyncio.run(start_groups_at_end(consumer_groups("portal"), self.kafka))
        self.mails_before = len(list((self.local_dir / "mail").glob("*.eml")))
        mailbox, portal = self.processes()
        started.append(mailbox)
        mailbox.start(wait=False)
        self._wait_for_smtp(mailbox)
        started.append(portal)
        portal.start()

    def _wait_for_smtp(self, mailbox: ServiceProcess) -> None:
        """Until the mail server answers, for as long as it keeps starting (issue 28)."""
        def answers() -> bool | str:
            try:
                with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=2):
                    return True
            except OSError as exc:
                return type(exc).__name__

        def starting():
            """the mail server's CPU time"""
            return cpu_seconds(mailbox.proc.pid) if mailbox.proc else None

        wait_while_moving(answers, lambda answer: answer is True, what="the local mail server", signals=(starting,))

    def mails_settled(self, quiet_seconds: float = 4) -> int:
        """E-mails this run put in the local mailbox, once none has arrived for `quiet_seconds` (the sender works
        every 2 s) — however long they keep arriving."""
        folder = self.local_dir / "mail"
        try:
            wait_while_moving(lambda: len(list(folder.glob("*.eml"))), lambda _: False, what="e-mails",
                              quiet=quiet_seconds, interval=0.5)
        except Stalled:
            pass  # the quiet period is the answer here: the sender has sent what there was
        return len(list(folder.glob("*.eml"))) - self.mails_before

    def account(self, role: str, name: str, email: str, *, login: str = "", brn: str | None = None,
                evaluator_id: str | None = None) -> str:
        """Create (or reset) a demonstration account; returns the login it signs in with."""
        env = {**os.environ, "PORTAL_DATABASE_URL": f"postgresql+asyncpg://portal:portal@127.0.0.1:{self.pg_port}"
                                                    "/portal"}
        args = [sys.executable, "-m", "portal", "account", "create", "--role", role, "--name", name, "--email",
                email, *(["--login", login] if login else []), *(["--brn", brn] if brn else []),
                *(["--evaluator-id", evaluator_id] if evaluator_id else []),
                *(a for agency in (demo_agencies() if role != "company" else ()) for a in ("--agency", agency))]
        subprocess.run(args, input=DEMO_PASSWORD + "\n", text=True, check=True, env=env, capture_output=True)
        return brn if role == "company" and brn else login

    def demo_accounts(self, company: tuple[str, str], evaluator: tuple[str, str], *, expert: bool = True
                      ) -> list[tuple[str, str, str]]:
        """(role, login, what to look at) for an operator, a selected company, its expert (unless the program's
        agreements have no expert party) and an evaluator."""
        brn, name = company
        evaluator_id, evaluator_name = evaluator
        accounts = [
            ("운영자 operator", self.account("operator", "센터 담당자", "staff@gimpo-center.example",
                                               login="center"), "review queue, rounds, payments, report"),
            ("기업 company", self.account("company", name, "pm@company.example", brn=brn),
             f"{name}: timeline, agreement, notices")]
        if expert:  # a two-party program (support.expert_party false) has no expert to sign in
            accounts.append(("전문가 expert", self.account("expert", f"{name} 전문가", "expert@consulting.example",
                                                           login="expert-demo", brn=brn),
                             "the agreement and its session logs"))
        accounts.append(("평가위원 evaluator", self.account("evaluator", evaluator_name, "evaluator@panel.example",
                                                           login=evaluator_id.lower(), evaluator_id=evaluator_id),
                         "the rounds they sit on"))
        return accounts


def show_portal(portal: PortalStage, program_id: str, *, expert_party: bool) -> None:
    """The portal's address and a demonstration account per role, with what each can look at."""
    heading("the portal: sign in as each role")
    agreements = polite.get(f"{CONTRACTS}/agreements", params={"program_id": program_id},
                           headers=token(Role.OPERATOR)).json()
    chosen = next(a for a in agreements if a["status"] in ("completed", "in-force"))
    evaluator_id, evaluator_name = EXTERNALS[0][0], EXTERNALS[0][1]
    accounts = portal.demo_accounts((chosen["business_registration_number"], chosen["company_name"]),
                                    (evaluator_id, evaluator_name), expert=expert_party)
    mails = portal.mails_settled()
    print(f"{portal.url}  — every account's password: {DEMO_PASSWORD} (demonstration accounts on this machine)")
    for role, login, what in accounts:
        print(f"  {pad(role, 20)} {login:<14} {what}")
    print(f"notices e-mailed to the local mail server so far: {mails} ({LOCAL_DIR / 'mail'})")
