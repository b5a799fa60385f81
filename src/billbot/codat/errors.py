"""What can go wrong talking to Codat, classified by what it means for money.

    CodatError
    ├── CodatNotSent            the request never left this machine (connect refused, DNS,
    │                           pool timeout): safe to send again, even without a key
    ├── CodatOutcomeUnknown     the request may have reached Codat and been acted on
    │                           (read timeout, dropped connection after sending, 5xx, 408,
    │                           409 idempotency-in-flight, 429 on a write): retry with the
    │                           SAME Idempotency-Key, never a new one
    └── CodatApiError           Codat answered with an ErrorMessage that is final for this
        │                       request (400, 401, 402, 403, 404, 422, a dataset 409 ...)
        ├── CodatNotFound       404
        └── CodatConflict       409 on a list endpoint: dataset still syncing

The payment state machine depends on the distinction between the first two: a NotSent
attempt may be abandoned, an OutcomeUnknown one keeps its intent open.
"""

from __future__ import annotations

from .models import ErrorMessage


class CodatError(Exception):
    """Base of every error the Codat client raises."""


class CodatNotSent(CodatError):
    """The request did not leave this machine; nothing can have happened at Codat."""


class CodatOutcomeUnknown(CodatError):
    """The request may have been acted on by Codat; retry only with the same Idempotency-Key."""

    def __init__(self, message: str, *, status_code: int | None = None,
                 error: ErrorMessage | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error


class CodatApiError(CodatError):
    """Codat answered with a final error (an ErrorMessage body where it sent one)."""

    def __init__(self, status_code: int, error: ErrorMessage) -> None:
        self.status_code = status_code
        self.error = error
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        """A short human reason: Codat's `error` plus the validation messages."""
        parts = [self.error.error or f"HTTP {self.status_code}"]
        if self.error.validation and self.error.validation.errors:
            parts.extend(i.message for i in self.error.validation.errors if i.message)
        return "; ".join(parts)

    @property
    def correlation_id(self) -> str | None:
        return self.error.correlation_id


class CodatNotFound(CodatApiError):
    """404: unknown company, connection, bill or attachment."""


class CodatConflict(CodatApiError):
    """409 on a read: the dataset has not been requested or is still syncing."""


__all__ = [
    "CodatApiError",
    "CodatConflict",
    "CodatError",
    "CodatNotFound",
    "CodatNotSent",
    "CodatOutcomeUnknown",
]
