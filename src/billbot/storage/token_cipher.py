"""Stored Slack tokens encrypted at rest with BILLBOT_TOKEN_KEY (Fernet: AES-128-CBC with an
HMAC, from the `cryptography` package). An encrypted value is marked, so a token stored before
the key was set still reads, and a marked one with no key, or the wrong key, is a clear error
rather than a token Slack refuses.

`cryptography` is imported only when a key is given: a single-workspace replica never seals a
token, and the package costs about 6 MB of resident memory (bench/startup_memory.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

MARK = "enc:v1:"


class TokenKeyError(Exception):
    """The stored tokens cannot be read with the key given (or without one)."""


class TokenCipher:
    def __init__(self, key: str | None) -> None:
        self._fernet: Fernet | None = None
        if key:
            from cryptography.fernet import Fernet

            self._fernet = Fernet(key.encode())

    @property
    def encrypting(self) -> bool:
        return self._fernet is not None

    def seal(self, value: str | None) -> str | None:
        if value is None or self._fernet is None or value.startswith(MARK):
            return value
        return MARK + self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str | None) -> str | None:
        if value is None or not value.startswith(MARK):
            return value
        if self._fernet is None:
            raise TokenKeyError("stored Slack tokens are encrypted: set BILLBOT_TOKEN_KEY to the "
                                "key they were stored with")
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(value.removeprefix(MARK).encode()).decode()
        except InvalidToken:
            raise TokenKeyError("BILLBOT_TOKEN_KEY does not decrypt the stored Slack tokens "
                                "(a different key stored them)") from None
