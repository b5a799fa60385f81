"""Codat's query language for the async API's data endpoints: `field=value` joined by `&&`
and `||`, grouped with `{}`; dates as ISO-8601. Values are never quoted, so only values
without the operators' characters may be asked for."""

from __future__ import annotations

from datetime import date, datetime

OPEN_BILLS = "status=Open||status=PartiallyPaid"
_OPERATORS = ("&&", "||", "{", "}", "=", "<", ">", "!", "~")


def safe_value(value: str) -> str:
    """`value` as a query value, or ValueError when it would change the query's meaning."""
    if not value or value != value.strip() or any(op in value for op in _OPERATORS):
        raise ValueError(f"{value!r} cannot be expressed in Codat's query language")
    return value


def by_id(record_id: str) -> str:
    return f"id={safe_value(record_id)}"


def bills_query(*, due_by: date | None = None, modified_since: datetime | None = None,
                statuses: tuple[str, ...] = ("Open", "PartiallyPaid")) -> str:
    """Bills in `statuses`, due on or before `due_by`, changed in Codat since `modified_since`."""
    parts = ["{" + "||".join(f"status={safe_value(s)}" for s in statuses) + "}"]
    if due_by is not None:
        parts.append(f"dueDate<={due_by.isoformat()}")
    if modified_since is not None:
        parts.append(f"modifiedDate>={_instant(modified_since)}")
    return "&&".join(parts)


def payments_with_reference(reference: str) -> str:
    return f"reference={safe_value(reference)}"


def _instant(at: datetime) -> str:
    text = at.isoformat()
    return text.replace("+00:00", "Z")
