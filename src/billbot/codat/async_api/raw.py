"""Reading the async API's raw answers: a bill as the product's Bill, a deleted record, a JSON
object, a failed push operation as Codat's ErrorMessage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from billbot.codat.errors import CodatApiError
from billbot.codat.models import Bill, ErrorMessage

from .models import PushOperation


def as_bill(raw: Mapping[str, Any]) -> Bill:
    """A bill of the async API as the product's Bill (a bill with no due date is due when
    issued: nothing in the product can reason about a bill without one)."""
    data = dict(raw)
    if not data.get("dueDate"):
        data["dueDate"] = data.get("issueDate")
    return Bill.model_validate(data)


def deleted(raw: Mapping[str, Any]) -> bool:
    metadata = raw.get("metadata")
    return isinstance(metadata, dict) and metadata.get("isDeleted") is True


def parse_json(response: httpx.Response) -> dict[str, Any]:
    value = response.json()
    if not isinstance(value, dict):
        raise CodatApiError(response.status_code, push_error(None))
    return value


def push_error(done: PushOperation | None) -> ErrorMessage:
    reason = done.reason if done is not None else "unreadable answer"
    return ErrorMessage.model_validate({"statusCode": done.status_code if done else None,
                                        "error": reason})


__all__ = ["as_bill", "deleted", "parse_json", "push_error"]
