"""Sending an Undo payment or Delete bill to Codat exactly once (async API, no idempotency
keys), from the request row `services/undo.py` claimed:

    claimed ──mark_sent──▶ sent ──DELETE push──▶ key committed ──followed──▶ Success: succeeded
                             │                                           ├──▶ Failed: failed (Codat's reason)
                             └─answer lost, crash, still Pending ───────▶ unknown

A row that may have reached Codat (sent, unknown) is never sent again before it is looked
up: its push operation when the key is known; else, after a sync, whether the record is still
in the books and whether a delete of that kind is still Pending among the company's push
operations that billbot does not hold for something else. Gone: succeeded. Pending: still
unknown. Still there with nothing pending: sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Protocol, TypeVar

from sqlmodel import Session

from billbot.clock import Clock
from billbot.codat.async_api import AsyncBillPayClient, PushOperation, PushStatus
from billbot.codat.errors import CodatApiError, CodatError, CodatNotSent, CodatOutcomeUnknown
from billbot.storage.undo_tables import BillUndo

from . import undo

T = TypeVar("T")


class Db(Protocol):
    def __call__(self, work: Callable[[Session], T]) -> Awaitable[T]: ...


logger = logging.getLogger("billbot.undo")

# Push operations requested this long before our first send may still be ours (clock skew).
SKEW = timedelta(minutes=2)
UNREACHABLE = "it could not be reached (try again shortly)"
STILL_RECORDING = ("Codat has the delete but the books have not confirmed it yet; the row "
                   "shows the outcome once they do (submit again later to look).")


@dataclass(frozen=True)
class UndoOutcome:
    state: str  # succeeded | failed | unknown
    message: str


def _data_type(row: BillUndo) -> str:
    return "billPayments" if row.kind == undo.PAYMENT else "bills"


class UndoRunner:
    """Carries one claimed request to its end (or to unknown), writing each step first."""

    def __init__(self, db: Db, client: AsyncBillPayClient, clock: Clock,
                 owner: str) -> None:
        self._db = db
        self._client = client
        self._clock = clock
        self._owner = owner

    async def _write(self, work: Callable[[Session], T]) -> T:
        return await self._db(work)

    async def run(self, row: BillUndo) -> UndoOutcome:
        if row.push_operation_key is not None:
            try:
                operation = await self._client.get_push_operation(row.company_id,
                                                                  row.push_operation_key)
            except CodatError as exc:
                return await self._unknown(row, f"push operation unread: {exc}")
            return await self._settle(row, operation)
        if row.sent_at is not None:
            return await self._resolve(row)
        return await self._send(row)

    async def _send(self, row: BillUndo) -> UndoOutcome:
        first = row.sent_at is None
        if not await self._write(partial(undo.mark_sent, undo_id=row.id, owner=self._owner,
                                         now=self._clock.now())):
            return UndoOutcome("unknown", STILL_RECORDING)
        try:
            if row.kind == undo.PAYMENT:
                operation = await self._client.push_delete_bill_payment(
                    row.company_id, row.connection_id, row.target_id)
            else:
                operation = await self._client.push_delete_bill(row.company_id,
                                                                row.connection_id, row.bill_id)
        except CodatApiError as exc:  # refused: nothing was written
            return await self._failed(row, exc.reason)
        except CodatNotSent:
            if first:
                return await self._failed(row, UNREACHABLE)
            return await self._unknown(row, "not sent")
        except (CodatOutcomeUnknown, Exception) as exc:
            # It may have reached Codat: looked up before anything is sent again.
            if not isinstance(exc, CodatOutcomeUnknown):
                logger.exception("unexpected error sending undo %s", row.id)
            return await self._unknown(row, f"{exc.__class__.__name__}: {exc}")
        await self._write(partial(undo.record_key, undo_id=row.id, owner=self._owner,
                                  key=operation.push_operation_key))
        row.push_operation_key = operation.push_operation_key
        return await self._settle(row, await self._client.follow(row.company_id, operation))

    async def _settle(self, row: BillUndo, operation: PushOperation) -> UndoOutcome:
        if operation.status is PushStatus.SUCCESS:
            return await self._succeeded(row, "the push operation succeeded")
        if operation.status is PushStatus.FAILED:
            return await self._failed(row, operation.reason)
        if operation.status is PushStatus.TIMED_OUT:  # it ended without applying, or did it?
            if not await self._exists(row):
                return await self._succeeded(row, "gone from the books after a timeout")
            return await self._failed(row, operation.reason)
        return await self._unknown(row, "push operation pending")

    async def _resolve(self, row: BillUndo) -> UndoOutcome:
        """Sent before, key unknown (lost answer, crash): look before sending again. The push
        operations first (a look may settle one), then the books."""
        assert row.sent_at is not None
        since = row.sent_at - SKEW
        try:
            held = await self._write(partial(undo.keys_in_hand, since=since))
            async for operation in self._client.iter_push_operations(row.company_id):
                if (operation.data_type != _data_type(row) or operation.push_operation_key in held
                        or (operation.requested_on is not None
                            and operation.requested_on < since)):
                    continue
                if operation.status is PushStatus.PENDING:
                    return await self._unknown(row, "a delete may still be pending")
                if operation.status is PushStatus.SUCCESS and any(
                        c.type == "Deleted" and c.record_ref is not None
                        and c.record_ref.id == row.target_id for c in operation.changes or ()):
                    return await self._succeeded(row, "its push operation found: "
                                                      + operation.push_operation_key)
            if not await self._exists(row):
                return await self._succeeded(row, "gone from the books")
        except CodatError as exc:
            return await self._unknown(row, f"lookup failed: {exc.__class__.__name__}")
        return await self._send(row)

    async def _exists(self, row: BillUndo) -> bool:
        await self._client.request_sync(row.company_id, row.connection_id, _data_type(row))
        return await self._client.record_exists(row.company_id, _data_type(row), row.target_id)

    async def _succeeded(self, row: BillUndo, how: str) -> UndoOutcome:
        await self._write(partial(undo.finish_succeeded, undo_id=row.id, owner=self._owner,
                                  now=self._clock.now(), how=how))
        try:  # so the bill's next read shows the change (best effort)
            await self._client.request_sync(row.company_id, row.connection_id, "bills")
        except CodatError as exc:
            logger.info("bill sync not requested: %s", exc.__class__.__name__)
        done = "The payment was undone" if row.kind == undo.PAYMENT else "The bill was deleted"
        return UndoOutcome("succeeded", f"{done} in the books.")

    async def _failed(self, row: BillUndo, reason: str) -> UndoOutcome:
        await self._write(partial(undo.finish_failed, undo_id=row.id, owner=self._owner,
                                  now=self._clock.now(), reason=reason))
        what = "undo the payment" if row.kind == undo.PAYMENT else "delete the bill"
        return UndoOutcome("failed", f"Codat could not {what}: {reason}. Nothing changed.")

    async def _unknown(self, row: BillUndo, error: str) -> UndoOutcome:
        await self._write(partial(undo.mark_unknown, undo_id=row.id, owner=self._owner,
                                  error=error))
        return UndoOutcome("unknown", STILL_RECORDING)


__all__ = ["UndoOutcome", "UndoRunner"]
