"""The notifier: every event the portal subscribes to adds its lines to the application's timeline and its notices
to the people concerned, in the event's own transaction (the runtime's inbox makes a replay add nothing). A
separate loop e-mails the notices through the center's SMTP server, each at most once when it succeeds (marked in
the same transaction that took it); a failed send is tried again with backoff. SMS or KakaoTalk are further
`Channel`s behind the same interface."""
from __future__ import annotations

import asyncio
import logging
import smtplib
from datetime import datetime, timedelta, timezone
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid, parseaddr
from typing import Awaitable, Callable, Mapping, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal import notices, store
from portal.config import PortalSettings
from sme_programs import ProgramDefinition
from sme_runtime.unit import Unit, units
from sme_schemas.envelope import Envelope
from sme_schemas.base import IntegrationEvent
from sme_schemas.intake import ApplicationSubmitted

log = logging.getLogger("portal.notifier")
MAX_ATTEMPTS = 12
BATCH = 100


# One transaction's store (the portal publishes no events), as its consumers give it to on_event
unit = units(store.PortalStore, source="/sme/portal")
PortalUnit = Unit[store.PortalStore]


def program_terms(programs: Mapping[str, ProgramDefinition]) -> dict[str, notices.ProgramTerms]:
    """program id → what its notices say of it: the short name their subjects carry (issue 32), its advance (I1)."""
    return {program_id: notices.ProgramTerms(program.notice_tag, program.payment_schedule.advance_percent)
            for program_id, program in programs.items()}


def on_event_of(terms: Mapping[str, notices.ProgramTerms]
                ) -> Callable[[PortalUnit, Envelope, IntegrationEvent], Awaitable[None]]:
    """The handler of every event the portal reads, its notices in their own program's terms."""
    async def on_event(uow: PortalUnit, envelope: Envelope, event: IntegrationEvent) -> None:
        await tell(uow, envelope, event, terms)

    return on_event


async def tell(uow: PortalUnit, envelope: Envelope, event: IntegrationEvent,
               terms: Mapping[str, notices.ProgramTerms]) -> None:
    """Timeline lines and notices of one event (idempotent: the inbox and both tables' keys)."""
    if isinstance(event, ApplicationSubmitted):
        company = event.content.company
        await uow.store.own_application(application_id=event.application_id, program_id=event.program_id,
                                        brn=company.business_registration_number, company_name=company.name,
                                        at=event.submitted_at)
    owners = await uow.store.owners(notices.application_ids(event))
    reading = notices.read(event, owners, terms)
    at = event.occurred_at
    for i, entry in enumerate(reading.entries):
        await uow.store.add_entry(envelope.id if len(reading.entries) == 1 else f"{envelope.id}:{i}", entry, at)
    for notice in reading.notices:
        await uow.store.add_notice(envelope.id, notice, at)


class Channel(Protocol):
    """Where a notice goes beyond the portal: e-mail here; an SMS or KakaoTalk gateway implements the same."""

    async def send(self, *, to: list[str], subject: str, body: str, message_id: str) -> None: ...


class EmailChannel:
    """Plain SMTP (STARTTLS and a login when configured). The Message-ID is the notice's, so a resend after a
    crash between sending and marking is recognisable as the same message."""

    def __init__(self, settings: PortalSettings) -> None:
        self.settings = settings

    async def send(self, *, to: list[str], subject: str, body: str, message_id: str) -> None:
        message = email_message(mail_from=self.settings.mail_from, to=to, subject=subject, body=body,
                                message_id=message_id)
        await asyncio.to_thread(self._deliver, message)

    def _deliver(self, message: Message) -> None:
        s = self.settings
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=15) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
            smtp.send_message(message)


def email_message(*, mail_from: str, to: list[str], subject: str, body: str, message_id: str) -> Message:
    """A notice as an e-mail whose Korean subject reads back as written. The standard library's default policy
    folds a long non-ASCII subject into encoded words split at a space and drops that space ("협약서서명 요청",
    issue 32): here the whole subject is encoded, spaces inside the encoded words, so every reader joins it back
    exactly (RFC 2047)."""
    message = MIMEText(body, "plain", "utf-8")
    name, address = parseaddr(mail_from)
    message["From"] = formataddr((name, address), charset="utf-8")
    message["To"] = ", ".join(to)
    # typeshed types a header as str; the email package takes a Header, which is what keeps the spaces
    message["Subject"] = Header(subject, "utf-8")  # type: ignore[assignment]
    message["Message-ID"] = message_id
    return message


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s … at most an hour between tries of one notice."""
    return timedelta(seconds=min(5 * 2 ** attempts, 3600))


async def send_waiting(sessions: async_sessionmaker[AsyncSession], channel: Channel, public_url: str,
                       clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> int:
    """E-mail the notices waiting; returns how many went out."""
    sent = 0
    async with sessions() as session, session.begin():
        db = store.PortalStore(session)
        for n in await db.unsent(clock(), limit=BATCH, max_attempts=MAX_ATTEMPTS):
            to = await db.emails_of(n.recipient)
            if not to:  # nobody has signed up for it yet: it waits in the portal
                await db.mark_emailed(n.notification_id, at=None, error=store.NO_ADDRESS,
                                      next_at=clock() + timedelta(hours=1))
                continue
            link = f"\n\n{public_url.rstrip('/')}{n.link}" if n.link else ""
            try:
                await channel.send(to=to, subject=n.subject, body=n.body + link,
                                   message_id=make_msgid(f"notice-{n.notification_id}", "sme-portal"))
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("e-mail of notice %s failed (attempt %s): %s", n.notification_id, n.email_attempts + 1,
                            exc)
                await db.mark_emailed(n.notification_id, at=None, error=str(exc)[:300],
                                      next_at=clock() + backoff(n.email_attempts))
                continue
            await db.mark_emailed(n.notification_id, at=clock(), error=None)
            sent += 1
    return sent
