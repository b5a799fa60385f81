"""Codat's `ErrorMessage` body and the exception handlers raise to produce one.

Every error the sandbox returns is an ErrorMessage with a fresh `correlationId` (D), and
`canBeRetried` is a string (the spec types it so; examples say "Unknown").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

SERVICE = "PublicApi"


@dataclass(frozen=True)
class ValidationItem:
    message: str
    item_id: str | None = None
    validator_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"itemId": self.item_id, "message": self.message,
                "validatorName": self.validator_name}


@dataclass
class ApiError(Exception):
    """Raised by handlers; the pipeline turns it into an ErrorMessage response."""

    status: int
    error: str
    validation: list[ValidationItem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.error}"


def error_body(status: int, error: str, validation: list[ValidationItem] | None = None,
               *, correlation_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "statusCode": status,
        "service": SERVICE,
        "error": error,
        "correlationId": correlation_id or uuid.uuid4().hex,
        "canBeRetried": "Unknown",
        "detailedErrorCode": 0,
    }
    if validation:
        body["validation"] = {"errors": [item.to_json() for item in validation], "warnings": []}
    return body


def bad_request(*messages: str, item_id: str | None = None) -> ApiError:
    """400 with one validation error per message (the shape Codat uses for write rules)."""
    items = [ValidationItem(message=m, item_id=item_id, validator_name="Sandbox")
             for m in messages]
    return ApiError(400, "Error processing request - not valid.", items)


def not_found(what: str) -> ApiError:
    return ApiError(404, what)
