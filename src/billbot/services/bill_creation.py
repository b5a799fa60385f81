"""Creating a bill from Slack exactly once: supplier, bill and attachment, each once.

`begin` commits the creation (its Idempotency-Keys included) before any Codat call; a double
submit or a Slack retry of the same form finds the same row. `BillCreator.run` then takes the
row's lease and walks its steps, committing each result before the next call:

    supplier ──201──▶ bill ──201──▶ attachment ──201──▶ done
       │ (an existing supplier skips the call)   │ (no file: done at once)
       └─ a final 4xx on supplier or bill ▶ failed (nothing half-made is left behind)

An unknown outcome (timeout, 5xx, lost response) keeps the step open: the next attempt, by
this worker or by recovery after a crash, sends the SAME key and Codat replays its first
answer, so no second supplier or bill appears. Attachments take no Idempotency-Key: before
an upload that may already have landed (`file_sent_at` set), the bill's attachments are
listed and a file of the same name and size is taken as ours instead of uploading again.
Past Codat's 90-minute replay window a step that may have been sent is never sent again:
the creation fails and asks for a check in the accounting software.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from billbot.clock import Clock
from billbot.codat.errors import CodatApiError, CodatError
from billbot.codat.models import (
    Attachment,
    Bill,
    BillPrototype,
    ErrorMessage,
    Supplier,
    SupplierPrototype,
    SupplierRef,
)
from billbot.storage import bill_creations as rows
from billbot.storage.audit import BillRef, record_audit
from billbot.storage.creation_tables import BillCreation
from billbot.storage.db import session_scope
from billbot.testhooks import CrashHook, CrashPoint, no_crash

T = TypeVar("T")
SYSTEM_ACTOR = "billbot"
PLACEHOLDER_SUPPLIER = "-"  # bill_json's supplierRef until the supplier is known
TOO_LATE = ("billbot lost track of this bill while creating it and cannot tell whether "
            "Codat has it: check the accounting software before entering it again.")


class CreationGateway(Protocol):
    """The Codat calls creation needs (billbot.codat.client.CodatClient has them all)."""

    async def create_supplier(self, company_id: str, connection_id: str,
                              supplier: SupplierPrototype, *,
                              idempotency_key: str | None = None) -> Supplier: ...

    async def create_bill(self, company_id: str, connection_id: str, bill: BillPrototype, *,
                          idempotency_key: str) -> Bill: ...

    async def upload_attachment(self, company_id: str, connection_id: str, bill_id: str, *,
                                filename: str, content: bytes,
                                content_type: str) -> Attachment: ...

    async def list_attachments(self, company_id: str, connection_id: str,
                               bill_id: str) -> list[Attachment]: ...


@dataclass(frozen=True)
class SourceFile:
    name: str
    content: bytes
    content_type: str


FileSource = Callable[[str], Awaitable[SourceFile]]  # Slack file id -> its bytes


@dataclass(frozen=True)
class Draft:
    """What the form asked for: an existing supplier's id, or a new supplier to create."""

    bill: BillPrototype
    supplier_id: str | None = None
    new_supplier: SupplierPrototype | None = None
    file_id: str | None = None


@dataclass(frozen=True)
class CreationOutcome:
    creation_id: uuid.UUID
    step: str  # supplier / bill / attachment (still open), done, failed
    company_id: str
    connection_id: str
    created_by: str
    channel_id: str | None
    supplier_id: str | None
    bill_id: str | None
    attachment_id: str | None
    error: str | None
    file_id: str | None = None

    @property
    def finished(self) -> bool:
        return self.step in ("done", "failed")


# A live worker shows its own outcome; recovery waits this long before showing it instead.
SHOW_GRACE = timedelta(minutes=1)


def outcome_of(row: BillCreation) -> CreationOutcome:
    return _outcome(row)


def _outcome(row: BillCreation) -> CreationOutcome:
    return CreationOutcome(row.id, row.step, row.company_id, row.connection_id, row.created_by,
                           row.channel_id, row.supplier_id, row.bill_id, row.attachment_id,
                           row.last_error, row.file_id)


def begin(session: Session, *, request_key: str, company_id: str, connection_id: str,
          user_id: str, draft: Draft, channel_id: str | None, at: datetime) -> uuid.UUID:
    """Commit the creation (with its keys) before anything is sent; same request, same row."""
    if (draft.supplier_id is None) == (draft.new_supplier is None):
        raise ValueError("a draft names an existing supplier or a new one, not both")
    bill = draft.bill.model_copy(update={"supplier_ref": SupplierRef(id=PLACEHOLDER_SUPPLIER)})
    return rows.start(
        session, request_key=request_key, company_id=company_id, connection_id=connection_id,
        user_id=user_id, supplier_id=draft.supplier_id,
        supplier_json=draft.new_supplier.model_dump_json(by_alias=True, exclude_none=True)
        if draft.new_supplier is not None else None,
        bill_json=bill.model_dump_json(by_alias=True, exclude_none=True),
        file_id=draft.file_id, channel_id=channel_id, at=at)


@dataclass(frozen=True)
class CreatorSettings:
    lease: timedelta = timedelta(minutes=2)
    recheck_after: timedelta = timedelta(minutes=1)
    # Codat replays a key's first answer for 90 minutes; stop re-sending well before.
    replay_window: timedelta = timedelta(minutes=75)
    unclaimed_grace: timedelta = timedelta(seconds=30)
    recover_batch: int = 20


class _LeaseLost(Exception):
    pass


class BillCreator:
    def __init__(self, engine: Engine, clock: Clock, *, settings: CreatorSettings | None = None,
                 crash: CrashHook = no_crash) -> None:
        self._engine = engine
        self._clock = clock
        self._settings = settings or CreatorSettings()
        self._crash = crash

    async def _db(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with session_scope(self._engine) as session:
                return work(session)
        return await asyncio.to_thread(run)

    async def outcome(self, creation_id: uuid.UUID) -> CreationOutcome:
        row = await self._db(lambda s: rows.fresh(s, creation_id))
        if row is None:
            raise LookupError(f"no bill creation {creation_id}")
        return _outcome(row)

    async def run(self, creation_id: uuid.UUID, codat: CreationGateway,
                  files: FileSource) -> CreationOutcome:
        """Walk the creation's open steps; returns where it stands (open if unresolved)."""
        self._crash(CrashPoint.INTENT_COMMITTED)
        settings = self._settings
        token = await self._db(lambda s: rows.claim(s, creation_id, now=self._clock.now(),
                                                    lease_for=settings.lease))
        if token is None:  # someone else holds it (a double submit), or it is finished
            return await self.outcome(creation_id)
        try:
            while True:
                row = await self._db(lambda s: rows.fresh(s, creation_id))
                assert row is not None
                if row.step not in ("supplier", "bill", "attachment"):
                    break
                await self._step(row, token, codat, files)
        except _LeaseLost:
            pass
        except CodatApiError as exc:
            await self._fail(creation_id, token, exc.reason)
        except (CodatError, OSError) as exc:  # unknown outcome or not sent: same key later
            retry_at = self._clock.now() + settings.recheck_after
            error = str(exc) or type(exc).__name__
            await self._db(lambda s: rows.release(s, creation_id, token, retry_at=retry_at,
                                                  error=error))
        return await self.outcome(creation_id)

    async def recover(self, codat: CreationGateway, files: FileSource) -> list[CreationOutcome]:
        """Finish creations whose worker vanished (crash) or gave up for now (timeouts)."""
        settings = self._settings
        due = await self._db(lambda s: rows.due_for_recovery(
            s, now=self._clock.now(), unclaimed_grace=settings.unclaimed_grace,
            limit=settings.recover_batch))
        return [await self.run(creation_id, codat, files) for creation_id in due]

    async def _step(self, row: BillCreation, token: str, codat: CreationGateway,
                    files: FileSource) -> None:
        if row.step == "supplier":
            await self._supplier(row, token, codat)
        elif row.step == "bill":
            await self._bill(row, token, codat)
        else:
            await self._attachment(row, token, codat, files)

    async def _mark_sending(self, row: BillCreation, token: str) -> None:
        """Count the attempt (attempts > 0: the step may have reached Codat)."""
        if row.attempts > 0 and self._clock.now() - row.created_at >= self._settings.replay_window:
            raise CodatApiError(410, ErrorMessage(statusCode=410, error=TOO_LATE))
        await self._advance(row.id, token, attempts=row.attempts + 1)
        self._crash(CrashPoint.BEFORE_CODAT_CALL)

    async def _advance(self, creation_id: uuid.UUID, token: str, **values: object) -> None:
        held = await self._db(lambda s: rows.advance(s, creation_id, token,
                                                     now=self._clock.now(), **values))
        if not held:
            raise _LeaseLost()

    async def _supplier(self, row: BillCreation, token: str, codat: CreationGateway) -> None:
        if row.supplier_id is not None:  # an existing supplier was chosen
            await self._advance(row.id, token, step="bill", attempts=0)
            return
        assert row.supplier_json is not None
        await self._mark_sending(row, token)
        supplier = await codat.create_supplier(
            row.company_id, row.connection_id,
            SupplierPrototype.model_validate_json(row.supplier_json),
            idempotency_key=row.supplier_key)
        self._crash(CrashPoint.AFTER_CODAT_ANSWER)
        await self._advance(row.id, token, step="bill", supplier_id=supplier.id, attempts=0)

    async def _bill(self, row: BillCreation, token: str, codat: CreationGateway) -> None:
        assert row.supplier_id is not None
        prototype = BillPrototype.model_validate_json(row.bill_json).model_copy(
            update={"supplier_ref": SupplierRef(id=row.supplier_id)})
        await self._mark_sending(row, token)
        bill = await codat.create_bill(row.company_id, row.connection_id, prototype,
                                       idempotency_key=row.bill_key)
        self._crash(CrashPoint.AFTER_CODAT_ANSWER)
        now = self._clock.now()
        next_step = "attachment" if row.file_id else "done"

        def record(session: Session) -> bool:
            held = rows.advance(session, row.id, token, now=now, step=next_step,
                                bill_id=bill.id, attempts=0,
                                finished_at=now if next_step == "done" else None)
            if held:
                rows.record_created(session, row, bill_id=bill.id, at=now)
                record_audit(session, at=now, actor=row.created_by, action="bill.created",
                             bill=BillRef(row.company_id, row.connection_id, bill.id),
                             detail={"creation_id": str(row.id),
                                     "supplier_id": row.supplier_id,
                                     "reference": bill.reference,
                                     "total": format(bill.total_amount or 0, "f"),
                                     "currency": bill.currency})
            return held
        if not await self._db(record):
            raise _LeaseLost()
        self._crash(CrashPoint.AFTER_LOCAL_COMMIT)

    async def _attachment(self, row: BillCreation, token: str, codat: CreationGateway,
                          files: FileSource) -> None:
        assert row.bill_id is not None and row.file_id is not None
        source = await files(row.file_id)
        if row.file_sent_at is not None:  # an earlier upload may have landed: look first
            for existing in await codat.list_attachments(row.company_id, row.connection_id,
                                                         row.bill_id):
                if existing.name == source.name and existing.file_size == len(source.content):
                    await self._finish_attachment(row, token, existing.id)
                    return
        if row.file_sent_at is None:
            await self._advance(row.id, token, file_sent_at=self._clock.now())
        try:
            uploaded = await codat.upload_attachment(
                row.company_id, row.connection_id, row.bill_id, filename=source.name,
                content=source.content, content_type=source.content_type)
        except CodatApiError as exc:  # the bill stands; only its invoice is missing
            await self._advance(row.id, token, step="done", finished_at=self._clock.now(),
                                last_error=f"The invoice could not be attached: {exc.reason}")
            return
        await self._finish_attachment(row, token, uploaded.id)

    async def _finish_attachment(self, row: BillCreation, token: str,
                                 attachment_id: str) -> None:
        await self._advance(row.id, token, step="done", attachment_id=attachment_id,
                            finished_at=self._clock.now(), last_error=None)

    async def _fail(self, creation_id: uuid.UUID, token: str, reason: str) -> None:
        await self._db(lambda s: rows.advance(s, creation_id, token, now=self._clock.now(),
                                              step="failed", last_error=reason,
                                              finished_at=self._clock.now()))
