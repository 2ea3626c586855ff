"""Bank accounts at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256), the key outside the database. Only
the last four digits are ever shown in lists; the full number is decrypted for an operator making the transfer,
and that read is audited. Nothing here is published on the bus.

Key rotation: PAYMENTS_ACCOUNT_KEY is a comma-separated list, newest first. New accounts are sealed with the
first key; every listed key opens. To rotate: put the new key in front, restart, run
`python -m payments rotate-account-key` (re-seals every row with the new key), then drop the old key."""
from __future__ import annotations

import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ACCOUNT_NUMBER = re.compile(r"^[0-9][0-9-]{8,23}[0-9]$")


def normalised(number: str) -> str:
    """Digits only: '123-456-789012' and '123456789012' are the same account."""
    return re.sub(r"\D", "", number)


def fernet_keys(keys: str) -> list[Fernet]:
    """The keys of PAYMENTS_ACCOUNT_KEY, newest first; a key that is not a Fernet key is refused by position."""
    parsed = []
    for n, key in enumerate(k.strip() for k in keys.split(",")):
        try:
            parsed.append(Fernet(key.encode("ascii")))
        except (ValueError, UnicodeEncodeError) as exc:
            raise ValueError(f"account_key: key {n + 1} is not a Fernet key (urlsafe base64 of 32 bytes)") from exc
    return parsed


class AccountVault:
    def __init__(self, keys: str) -> None:
        self._fernet = MultiFernet(fernet_keys(keys))

    def rotate(self, sealed: bytes) -> bytes:
        """The same account sealed with the newest key (readable by any listed key before)."""
        try:
            return self._fernet.rotate(bytes(sealed))
        except InvalidToken as exc:
            raise ValueError("the account was sealed with a key no longer listed in PAYMENTS_ACCOUNT_KEY") from exc

    def seal(self, number: str) -> bytes:
        return self._fernet.encrypt(normalised(number).encode("ascii"))

    def open(self, sealed: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(sealed)).decode("ascii")
        except InvalidToken as exc:
            raise ValueError("the account was sealed with a key no longer listed in PAYMENTS_ACCOUNT_KEY") from exc


def last4(number: str) -> str:
    return normalised(number)[-4:]


def masked(last_four: str | None) -> str | None:
    return f"****{last_four}" if last_four else None
