"""What the portal's browser tests share: the ports of their stack, the portal's settings, accounts and the pages'
habits — signing in as a person, a screenshot read through the checker of readable text (tests/readable.py),
opening a notice by its link and finding its action's form where the link points (issue 32)."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Iterator

from deploy.local.procs import demo_agencies, service_env, signer
from sme_runtime.auth import Role, mint_token
from sme_runtime.keys import new_keys
from sme_schemas.periods import KST
from tests.readable import unreadable_text
from tests.support import ROOT, ensure_browser, wait_for

ARTIFACTS = ROOT / ".local-test" / "artifacts" / "portal"
LOGS = ROOT / ".local-test" / "logs-portal"
PORTS = {"portal": 18200, "intake": 18201, "screening": 18202, "evaluation": 18203, "contracts": 18204,
         "payments": 18205, "smtp": 18025}
PORTAL = f"http://127.0.0.1:{PORTS['portal']}"
PASSWORD = "portal-test-pass-2026"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def token(role: Role, subject: str, **claims) -> dict[str, str]:
    """A service call's Authorization header, signed as the portal signs its people's (for the API steps a person
    or another system takes beside the browser)."""
    return {"Authorization": "Bearer " + mint_token(signer(), subject=subject, role=role, **claims)}


def today_in_korea() -> date:
    """The day the services count in (KST): between 15:00 and 24:00 UTC the machine's own date is a day behind, and
    a session logged "today" by the machine's date fell before an agreement signed "today" in Korea."""
    return datetime.now(KST).date()


def account(env: dict, role: str, name: str, email: str, *, login: str = "", brn: str | None = None,
            evaluator_id: str | None = None, agencies: tuple[str, ...] | None = None) -> None:
    args = [sys.executable, "-m", "portal", "account", "create", "--role", role, "--name", name, "--email", email]
    args += ["--login", login] if login else []
    args += ["--brn", brn] if brn else []
    args += ["--evaluator-id", evaluator_id] if evaluator_id else []
    acts_for = () if role == "company" else agencies or demo_agencies()
    args += [a for agency in acts_for for a in ("--agency", agency)]
    subprocess.run(args, input=PASSWORD + "\n", text=True, check=True, env={**os.environ, **env}, cwd=ROOT,
                   capture_output=True)


def sign_in(browser, login: str, *, phone: bool = False):
    size = {"width": 390, "height": 844} if phone else {"width": 1200, "height": 900}
    page = browser.new_context(viewport=size, is_mobile=phone, has_touch=phone, locale="ko-KR",
                               timezone_id="Asia/Seoul").new_page()
    page.goto(f"{PORTAL}/login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:2000]
    return page


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    unreadable = unreadable_text(page.inner_text("body"))
    assert not unreadable, f"{name}: text a person cannot read: {unreadable}"


# Where a notice that asks for something lands (issue 32): the element its link names holds the action's form, or a
# form follows it before the next heading
FORM_AT = """(id) => { const el = document.getElementById(id); if (!el) return 'no element #' + id;
  if (el.matches('form') || el.querySelector('form')) return 'form';
  for (let n = el.nextElementSibling; n && !/^H[12]$/.test(n.tagName); n = n.nextElementSibling)
    if (n.matches('form') || n.querySelector('form')) return 'form';
  return 'no form at #' + id; }"""


def open_notice(page, kind: str) -> str:
    """Opens the newest notice of `kind` by its link, as its reader would; returns the link."""
    def arrived() -> bool:
        page.goto(f"{PORTAL}/notifications")
        return page.locator(f"li[data-kind='{kind}'] a").count() > 0

    wait_for(arrived, what=f"a {kind} notice")
    href = page.locator(f"li[data-kind='{kind}'] a").first.get_attribute("href")
    page.goto("about:blank")  # a link to another part of the page open now would not load it again
    response = page.goto(f"{PORTAL}{href}")
    assert response.ok, (kind, href, response.status)
    return href


def follow_notice(page, kind: str, name: str) -> str:
    """Opens the newest notice of `kind` and checks the page it lands on has the action's form at the part the link
    names. Returns the page's address without the part."""
    part = open_notice(page, kind).partition("#")[2]
    assert part and page.evaluate(FORM_AT, part) == "form", (kind, part, page.evaluate(FORM_AT, part))
    shot(page, name)
    return page.url.partition("#")[0]


def every_notice_opens(page, who: str) -> int:
    """Each notice's link opens a page its reader may see, in Korean (not an error page, not the sign-in)."""
    page.goto(f"{PORTAL}/notifications")
    links = [a.get_attribute("href") for a in page.locator("ul.notices li a").all()]
    assert links, f"{who} has no notices"
    for href in links:
        page.goto("about:blank")  # as in open_notice
        response = page.goto(f"{PORTAL}{href}")
        assert response.ok and "/login" not in page.url, (who, href, response.status)
        assert not unreadable_text(page.inner_text("body")), (who, href, unreadable_text(page.inner_text("body")))
    return len(links)


def submit_report(company, agreement_url: str, folder: Path) -> None:
    """C8: the company submits the result report with its logs and the fee's proof, on the agreement's page."""
    company.goto(agreement_url)
    company.click("summary:has-text('결과보고서 제출')")
    for name, filename in (("report", "report.pdf"), ("logs", "logs.pdf"), ("fees", "fee.pdf")):
        (folder / filename).write_bytes(PDF + filename.encode())
        company.set_input_files(f"#{name}", str(folder / filename))
    company.click("form[action$='/report'] button.primary")
    company.wait_for_load_state()
    assert "검토 중" in company.inner_text("main")


def file_subsidy_request(company, cost_including_vat: int, folder: Path, *, bank: str, number: str) -> None:
    """P1: the company files 서식4 at the agreement's #subsidy-request form open now, its documents and account."""
    company.fill("#cost", str(cost_including_vat))
    proof = folder / "proof.pdf"
    proof.write_bytes(PDF + b"proof")
    for name in ("quote_ref", "transaction_statement_ref", "tax_invoice_ref", "deposit_receipt_ref",
                 "bankbook_copy_ref"):
        company.set_input_files(f"#{name}", str(proof))
    company.fill("#bank", bank)
    company.fill("#number", number)
    company.click("form[action$='/subsidy-request'] button.primary")
    company.wait_for_load_state()
    assert "지급 예정" in company.inner_text("main")


@contextlib.contextmanager
def signing_keys(folder: Path) -> Iterator[Path]:
    """Tokens as in production: the portal signs with its Ed25519 key, every service verifies with the JWKS only
    (the services the stack starts read both from the environment)."""
    new_keys(folder)
    before = {k: os.environ.get(k) for k in ("SME_JWKS", "SME_SIGNING_KEY")}
    os.environ.update(SME_JWKS=str(folder / "jwks.json"), SME_SIGNING_KEY=str(folder / "signing-key.pem"))
    try:
        yield folder
    finally:
        for name, value in before.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


def portal_settings(common: dict, keys: Path, uploads: Path) -> dict[str, str]:
    """The portal process's environment: the services at the stack's ports, the test SMTP server, its signing key."""
    return {**service_env("portal", http_port=PORTS["portal"], **common),
            **{f"PORTAL_{name.upper()}_URL": f"http://127.0.0.1:{PORTS[name]}"
               for name in ("intake", "screening", "evaluation", "contracts", "payments")},
            "PORTAL_SMTP_PORT": str(PORTS["smtp"]), "PORTAL_MAIL_SECONDS": "0.5",
            "PORTAL_PUBLIC_URL": PORTAL, "PORTAL_UPLOAD_DIR": str(uploads),
            "PORTAL_ENVIRONMENT": "test", "PORTAL_CONSUMER_BATCH_WAIT_MS": "20",
            "PORTAL_SIGNING_KEY": str(keys / "signing-key.pem")}


@contextlib.contextmanager
def chromium() -> Iterator:
    """Debian's Chromium, driven by Playwright, for one module's stack."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=ensure_browser(), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
