"""What the portal's store reads, column by column (sme_runtime.rows)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sme_runtime.rows import JsonObject


@dataclass(frozen=True, slots=True)
class PersonRow:
    """Who a person is here: their login and role, whose company or evaluator entry they are, their agencies (T1)."""

    login: str
    role: str
    display_name: str
    email: str
    brn: str | None
    evaluator_id: str | None
    agencies: list[str]


@dataclass(frozen=True, slots=True)
class AccountRow(PersonRow):
    """A person's account, with what signing in checks."""

    account_id: int
    password_hash: str
    failed_signins: int
    locked_until: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SignedInRow(PersonRow):
    """A live web session and the account behind it."""

    session_started_at: datetime
    csrf_token: str
    account_id: int


@dataclass(frozen=True, slots=True)
class OpenInvite(PersonRow):
    """An invitation not yet accepted: the account it makes."""

    invited_by: str


@dataclass(frozen=True, slots=True)
class SentInvite:
    """An invitation as the staff who sent it see it."""

    role: str
    login: str
    display_name: str
    email: str
    invited_by: str
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None


@dataclass(frozen=True, slots=True)
class UploadRow:
    """A file a person uploaded (evidence, a session photo, a report draft)."""

    upload_id: str
    account_id: int
    brn: str | None
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class AgreementUpload:
    """A file uploaded for an agreement, for one purpose."""

    upload_id: str
    filename: str
    sha256: str
    uploaded_at: datetime
    account_id: int


@dataclass(frozen=True, slots=True)
class TimelineLine:
    """One step of an application's way, as its company sees it."""

    at: datetime
    stage: str
    title: str
    detail: str


@dataclass(frozen=True, slots=True)
class NoticeRow:
    """A notice to a person, read or not, e-mailed or not."""

    notification_id: int
    kind: str
    subject: str
    body: str
    link: str | None
    application_id: str | None
    created_at: datetime
    read_at: datetime | None
    emailed_at: datetime | None


@dataclass(frozen=True, slots=True)
class UnsentNotice:
    """A notice whose e-mail is still to be sent."""

    notification_id: int
    recipient: str
    subject: str
    body: str
    link: str | None
    email_attempts: int


@dataclass(frozen=True, slots=True)
class JobRow:
    """Long work a person started (an export, a settlement), step by step."""

    job_id: str
    kind: str
    title: str
    account_id: int
    status: str
    steps: list[JsonObject]
    result_link: str | None
    started_at: datetime
    finished_at: datetime | None
