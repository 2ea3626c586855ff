"""Bank accounts at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256), the key outside the database. Only
the last four digits are ever shown in lists; the full number is decrypted for an operator making the transfer,
and that read is audited. Nothing here is published on the bus."""
from __future__ import annotations

import re

from cryptography.fernet import Fernet, InvalidToken

ACCOUNT_NUMBER = re.compile(r"^[0-9][0-9-]{8,23}[0-9]$")


def normalised(number: str) -> str:
    """Digits only: '123-456-789012' and '123456789012' are the same account."""
    return re.sub(r"\D", "", number)


class AccountVault:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode("ascii"))

    def seal(self, number: str) -> bytes:
        return self._fernet.encrypt(normalised(number).encode("ascii"))

    def open(self, sealed: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(sealed)).decode("ascii")
        except InvalidToken as exc:
            raise ValueError("the account was sealed with another key (PAYMENTS_ACCOUNT_KEY changed?)") from exc


def last4(number: str) -> str:
    return normalised(number)[-4:]


def masked(last_four: str | None) -> str | None:
    return f"****{last_four}" if last_four else None
