"""Sign-in rules, pure: password hashes (argon2id), lock-out after repeated failures, session lifetimes, tokens
that are stored only as hashes, the CSRF check, and what an uploaded file may be."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
# Verified when the login names nobody, so an unknown login takes as long as a wrong password
_DUMMY_HASH = HASHER.hash("no-such-account-" + secrets.token_hex(8))
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, login: str) -> str | None:
    """Why a new password is refused, in Korean, or None."""
    if len(password) < MIN_PASSWORD:
        return f"비밀번호는 {MIN_PASSWORD}자 이상이어야 합니다"
    if login and login.lower() in password.lower():
        return "비밀번호에 아이디를 넣을 수 없습니다"
    if len(set(password)) < 4:
        return "같은 글자만 반복한 비밀번호는 쓸 수 없습니다"
    return None


@dataclass(frozen=True)
class Lockout:
    """After `failures` wrong passwords in a row the account is locked for `minutes`; a right password resets the
    count. Locked, even the right password is refused (so guessing gains nothing while locked)."""

    failures: int
    minutes: int

    def locked(self, locked_until: datetime | None, now: datetime) -> bool:
        return locked_until is not None and now < locked_until

    def after_failure(self, failed_so_far: int, now: datetime) -> tuple[int, datetime | None]:
        """The new failure count and, when it reaches the limit, the end of the lock (the count starts again)."""
        failed = failed_so_far + 1
        if failed >= self.failures:
            return 0, now + timedelta(minutes=self.minutes)
        return failed, None


@dataclass(frozen=True)
class SessionLifetime:
    idle: timedelta
    maximum: timedelta

    def expires(self, created_at: datetime, now: datetime) -> datetime:
        """Idle sessions end after `idle`; none outlives `maximum` from sign-in."""
        return min(now + self.idle, created_at + self.maximum)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected or "", given or "")


BRN = re.compile(r"^\d{10}$")


def normalised_login(login: str) -> str:
    """A company signs in with its business registration number, with or without dashes."""
    login = login.strip()
    digits = login.replace("-", "")
    return digits if BRN.match(digits) else login.lower()


# --- uploads ------------------------------------------------------------------------------------------------

# What evidence and session photos may be, by their first bytes (the name and the browser's type are not trusted)
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-hwp", "hwp"),  # 한글 (HWP 5, OLE compound file)
    (b"PK\x03\x04", "application/hwp+zip", "hwpx"),  # 한글 HWPX (a zip)
)
ALLOWED = "PDF, PNG, JPEG, HWP, HWPX"
_NAME = re.compile(r"[^\w.\- ()가-힣]")


def sniffed_type(head: bytes) -> tuple[str, str] | None:
    """(media type, extension) of a file by its signature, or None when it is none we keep."""
    for signature, media_type, extension in _SIGNATURES:
        if head.startswith(signature):
            return media_type, extension
    return None


def display_name(filename: str) -> str:
    """The uploaded name as shown back to people: its last path part, without control or path characters.
    It is never used to build a path: a file is stored under its random id."""
    last = re.split(r"[\\/]", filename or "")[-1]
    cleaned = _NAME.sub("_", last).strip(" .")
    return (cleaned or "file")[:120]


UPLOAD_ID = re.compile(r"^up_[A-Za-z0-9_-]{22,64}$")


def new_upload_id() -> str:
    return "up_" + secrets.token_urlsafe(18)


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LOGIN = re.compile(r"^[a-z0-9_-]{3,40}$")
