"""Push operations: every async write is one, Pending until it settles as Success or Failed.

A write is checked for shape when it arrives (a bad one is Failed at once, with
`validation.errors`, as the spec models); the change itself is applied to the books only
when the operation settles, and checked again then against the books as they are by that
time. An operation settles when it has been answered Pending `polls` times (GET or list),
or `delay_seconds` after it was requested, or when a test says so (`/_sandbox/async/push`).
An injected failure settles it as Failed with an `errorMessage` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from billbot.sandbox.codat.errors import ApiError, ValidationItem

# Applies the write to the books; returns the PushOperation `changes`. Raises ApiError (400,
# with validation items) when the books refuse it.
Json = dict[str, Any]
Apply = Callable[[], list[Json]]
DEFAULT_PLATFORM_ERROR = ("The accounting platform rejected the write: the connection "
                          "returned an error (sandbox fault).")


@dataclass
class PushSettings:
    polls: int | None = 1  # Pending answers before it settles; None: not by polling
    delay_seconds: float | None = None  # settles this long after the request; None: never
    fail_next: int = 0  # the next N operations created will fail
    error_message: str = DEFAULT_PLATFORM_ERROR

    def to_json(self) -> Json:
        return {"polls": self.polls, "delaySeconds": self.delay_seconds,
                "failNext": self.fail_next, "errorMessage": self.error_message}


@dataclass
class PushRecord:
    operation: Json  # the PushOperation as served
    requested: datetime
    apply: Apply | None  # None once settled (or when it failed on arrival)
    data: Json | None = None  # the record as sent, echoed by the create/update answer
    fail_with: str | None = None  # an injected platform failure
    polls: int = 0

    @property
    def pending(self) -> bool:
        return bool(self.operation["status"] == "Pending")


def _stamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_operation(*, key: str, company_id: str, connection_id: str, data_type: str,
                  now: datetime, timeout_minutes: int | None) -> Json:
    return {"dataType": data_type, "companyId": company_id, "pushOperationKey": key,
            "dataConnectionKey": connection_id, "requestedOnUtc": _stamp(now),
            "timeoutInMinutes": timeout_minutes, "status": "Pending", "statusCode": 202,
            "errorMessage": None, "validation": {"errors": [], "warnings": []},
            "changes": []}


def fail_on_arrival(operation: Json, error: ApiError, now: datetime) -> None:
    """A write whose body breaks the rules: Failed at once with the validation errors."""
    _fail(operation, now, status_code=400, message=error.error, items=error.validation)


def _fail(operation: Json, now: datetime, *, status_code: int, message: str,
          items: list[ValidationItem] | None = None, status: str = "Failed") -> None:
    operation.update(status=status, statusCode=status_code, errorMessage=message,
                     completedOnUtc=_stamp(now))
    operation["validation"] = {"errors": [item.to_json() for item in items or []],
                               "warnings": []}


def settle(record: PushRecord, now: datetime, *, fail_message: str | None = None) -> None:
    """Finish a Pending operation: apply it (Success), or mark it Failed / TimedOut."""
    if not record.pending or record.apply is None:
        return
    apply, record.apply = record.apply, None
    operation = record.operation
    timeout = operation.get("timeoutInMinutes")
    if timeout is not None and now - record.requested > timedelta(minutes=timeout):
        _fail(operation, now, status_code=504, status="TimedOut",
              message=f"The push operation did not complete within {timeout} minutes.")
        return
    message = fail_message or record.fail_with
    if message is not None:
        _fail(operation, now, status_code=500, message=message)
        return
    try:
        changes = apply()
    except ApiError as error:
        _fail(operation, now, status_code=error.status, message=error.error,
              items=error.validation)
        return
    operation.update(status="Success", statusCode=200, completedOnUtc=_stamp(now),
                     changes=changes)


def due(record: PushRecord, settings: PushSettings, now: datetime) -> bool:
    """Whether a Pending operation settles now (without counting this look as a poll)."""
    if settings.delay_seconds is not None and (
            now - record.requested).total_seconds() >= settings.delay_seconds:
        return True
    return settings.polls is not None and record.polls >= settings.polls


@dataclass
class PushBook:
    """Every push operation of every company, in the order they were requested."""

    records: dict[str, dict[str, PushRecord]] = field(default_factory=dict)  # company -> key
    settings: PushSettings = field(default_factory=PushSettings)

    def add(self, company_id: str, record: PushRecord) -> None:
        self.records.setdefault(company_id, {})[record.operation["pushOperationKey"]] = record

    def of(self, company_id: str) -> dict[str, PushRecord]:
        return self.records.get(company_id, {})

    def find(self, company_id: str, key: str) -> PushRecord:
        record = self.of(company_id).get(key)
        if record is None:
            raise ApiError(404, f"Push operation {key} not found")
        return record

    def settle_due(self, company_id: str, now: datetime) -> None:
        """Settle what the clock says is done (called on every request about the company)."""
        if self.settings.delay_seconds is None:
            return
        for record in self.of(company_id).values():
            if record.pending and due(record, self.settings, now):
                settle(record, now)

    def poll(self, record: PushRecord, now: datetime) -> Json:
        """One look at an operation by the client: it may settle it, else counts a poll."""
        if record.pending:
            if due(record, self.settings, now):
                settle(record, now)
            else:
                record.polls += 1
        return record.operation
