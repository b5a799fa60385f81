"""Recording a supplier credit note through the async API, exactly once.

The async API has no Idempotency-Key, so the supplier's credit note number is the key: a
claim row (unique per company, connection, supplier and number) is committed before the
push, and the push operation's key the moment Codat names it.

    claim ──push──▶ key committed ──followed──▶ Success: succeeded (credit_note.recorded)
      │               │                         Failed:  failed (may be claimed again)
      │               └─refused────▶ failed     Pending: unknown
      └─answer lost──▶ unknown

A claim found `calling` is someone else's send in flight (a double submit): nothing is
sent. One found `unknown` (or a `calling` one older than `IN_FLIGHT`) is resolved first
(`async_api.resolve`: the supplier's credit notes with that number, then the push
operations since it was sent); only a provably absent one is sent again. Allocating the
credit is a payment intent (services/payments.py, `CreditUse`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import update
from sqlmodel import Session, col, select

from billbot import tenancy
from billbot.codat.async_api import AsyncBillPayClient, PushOperation, PushStatus
from billbot.codat.async_api.credit_notes import (
    NewCreditNote,
    credit_note_lookup,
    push_credit_note,
)
from billbot.codat.async_api.resolve import CLOCK_SKEW, Absent, Found, resolve
from billbot.codat.errors import CodatApiError, CodatError, CodatNotSent, CodatOutcomeUnknown
from billbot.money import quantize
from billbot.storage.audit import BillRef, record_audit
from billbot.storage.tables import CreditNoteRecord
from billbot.storage.upsert import insert_if_absent

logger = logging.getLogger("billbot.payments")
T = TypeVar("T")
Db = Callable[[Callable[[Session], T]], Awaitable[T]]

# A send younger than this may still be on its way: another submit does not touch it.
IN_FLIGHT = timedelta(minutes=2)
PENDING = ("Codat has not confirmed the credit note yet, so no credit was applied. Press "
           "Apply credit note again in a minute: it will be in the list once recorded.")


@dataclass(frozen=True)
class Recorded:
    """The credit note's id in Codat, or why there is none (nothing allocated then)."""

    note_id: str | None
    message: str


@dataclass(frozen=True)
class RecordContext:
    bill: BillRef
    bill_version: dict[str, Any]
    actor: str
    request_id: str | None


def _row(session: Session, bill: BillRef, note: NewCreditNote) -> CreditNoteRecord:
    return session.exec(select(CreditNoteRecord).where(
        col(CreditNoteRecord.company_id) == bill.company_id,
        col(CreditNoteRecord.connection_id) == bill.connection_id,
        col(CreditNoteRecord.supplier_id) == note.supplier_id,
        col(CreditNoteRecord.number) == note.number)
        .execution_options(populate_existing=True)).one()


def claim(session: Session, ctx: RecordContext, note: NewCreditNote, *,
          now: datetime) -> tuple[CreditNoteRecord, bool]:
    """The claim row for this number, and whether this call may send (it holds the row)."""
    values = {"id": uuid.uuid4(), "company_id": ctx.bill.company_id,
              "connection_id": ctx.bill.connection_id, "supplier_id": note.supplier_id,
              "number": note.number, "amount": note.amount, "currency": note.currency,
              "issue_date": note.issue_date, "state": "calling", "actor": ctx.actor,
              "created_at": now, "sent_at": now, "team_id": tenancy.team_key()}
    if insert_if_absent(session, CreditNoteRecord, values):
        return _row(session, ctx.bill, note), True
    row = _row(session, ctx.bill, note)
    if row.state == "failed":  # wrote nothing: this submit may record it (its own amounts)
        taken = session.exec(update(CreditNoteRecord).where(
            col(CreditNoteRecord.id) == row.id, col(CreditNoteRecord.state) == "failed")
            .values(state="calling", sent_at=now, push_operation_key=None, actor=ctx.actor,
                    amount=note.amount, issue_date=note.issue_date, last_error=None))
        return _row(session, ctx.bill, note), taken.rowcount == 1
    return row, False


def _take_over(session: Session, row: CreditNoteRecord, *, now: datetime) -> bool:
    """Hold an undecided row to resolve it (one resolver at a time)."""
    taken = session.exec(update(CreditNoteRecord).where(
        col(CreditNoteRecord.id) == row.id, col(CreditNoteRecord.state) == row.state,
        col(CreditNoteRecord.sent_at) == row.sent_at).values(state="calling", sent_at=now))
    return taken.rowcount == 1


def _set(session: Session, row_id: uuid.UUID, **values: Any) -> None:
    session.exec(update(CreditNoteRecord).where(col(CreditNoteRecord.id) == row_id)
                 .values(**values))


def _succeeded(session: Session, row: CreditNoteRecord, ctx: RecordContext, *, note_id: str,
               key: str | None, now: datetime, how: str) -> None:
    done = session.exec(update(CreditNoteRecord).where(
        col(CreditNoteRecord.id) == row.id, col(CreditNoteRecord.state) != "succeeded")
        .values(state="succeeded", credit_note_id=note_id,
                push_operation_key=key or row.push_operation_key))
    if done.rowcount == 1:
        record_audit(session, at=now, actor=ctx.actor, action="credit_note.recorded",
                     bill=ctx.bill, bill_version=ctx.bill_version, request_id=ctx.request_id,
                     detail={"credit_note_id": note_id, "number": row.number,
                             "supplier_id": row.supplier_id,
                             "amount": format(quantize(row.amount, row.currency), "f"),
                             "currency": row.currency, "issue_date": row.issue_date.isoformat(),
                             "push_operation_key": key or row.push_operation_key, "how": how})


def _keys_of_others(session: Session, row: CreditNoteRecord) -> set[str]:
    assert row.sent_at is not None
    keys = session.exec(select(CreditNoteRecord.push_operation_key).where(
        col(CreditNoteRecord.id) != row.id,
        col(CreditNoteRecord.push_operation_key).is_not(None),
        col(CreditNoteRecord.created_at) >= row.sent_at - CLOCK_SKEW)).all()
    return {k for k in keys if k}


async def record_credit_note(db: Db[Any], client: AsyncBillPayClient, ctx: RecordContext,
                             note: NewCreditNote, *, now: Callable[[], datetime]) -> Recorded:
    """The credit note recorded (or found recorded) in Codat, at most once per number."""
    row, mine = await db(partial(claim, ctx=ctx, note=note, now=now()))
    if row.state == "succeeded" and row.credit_note_id:
        return Recorded(row.credit_note_id, "already recorded")
    if not mine:
        assert row.sent_at is not None
        if row.state == "calling" and now() - row.sent_at < IN_FLIGHT:
            return Recorded(None, f"Credit note {note.number} is being recorded right now; "
                                  "nothing else was sent.")
        found = await _resolve(db, client, ctx, row, at=now())
        if found is not None:
            return found
        if not await db(partial(_take_over, row=row, now=now())):
            return Recorded(None, PENDING)
        row = await db(lambda s: _row(s, ctx.bill, note))
    return await _send(db, client, ctx, note, row, now)


async def _resolve(db: Db[Any], client: AsyncBillPayClient, ctx: RecordContext,
                   row: CreditNoteRecord, *, at: datetime) -> Recorded | None:
    """Where an earlier send stands; None when it provably wrote nothing (send again)."""
    bill = ctx.bill
    try:
        if row.push_operation_key is not None:
            op = await client.get_push_operation(bill.company_id, row.push_operation_key)
            if op.status is not PushStatus.TIMED_OUT:
                return await _settle(db, ctx, row, op, at=at)
        others = await db(partial(_keys_of_others, row=row))
        assert row.sent_at is not None
        found = await resolve(
            credit_note_lookup(client, bill.company_id, bill.connection_id, row.supplier_id),
            reference=row.number, connection_id=bill.connection_id, sent_since=row.sent_at,
            other_keys=others)
    except (CodatError, ValueError) as exc:
        logger.warning("credit note %s not resolved: %s", row.id, exc.__class__.__name__)
        return Recorded(None, PENDING)
    if isinstance(found, Found) and found.record_id:
        record_id = found.record_id
        await db(lambda s: _succeeded(s, row, ctx, note_id=record_id, key=found.push_key,
                                      now=at, how=found.how))
        return Recorded(record_id, "found recorded")
    if isinstance(found, Absent) and row.push_operation_key is None:
        return None
    return Recorded(None, PENDING)


async def _send(db: Db[Any], client: AsyncBillPayClient, ctx: RecordContext,
                note: NewCreditNote, row: CreditNoteRecord,
                now: Callable[[], datetime]) -> Recorded:
    bill = ctx.bill
    try:
        pushed = await push_credit_note(client, bill.company_id, bill.connection_id, note)
    except CodatApiError as exc:  # refused: nothing written
        await db(partial(_set, row_id=row.id, state="failed", last_error=exc.reason))
        return Recorded(None, f"Codat refused the credit note: {exc.reason}")
    except CodatNotSent:
        await db(partial(_set, row_id=row.id, state="failed", last_error="not sent"))
        return Recorded(None, "Codat could not be reached, so nothing was recorded. "
                              "Try again shortly.")
    except CodatOutcomeUnknown as exc:
        await db(partial(_set, row_id=row.id, state="unknown", last_error=str(exc)[:500]))
        return Recorded(None, PENDING)
    key = pushed.push_operation_key
    await db(partial(_set, row_id=row.id, push_operation_key=key))
    row = await db(lambda s: _row(s, bill, note))
    return await _settle(db, ctx, row, await client.follow(bill.company_id, pushed),
                         at=now())


async def _settle(db: Db[Any], ctx: RecordContext, row: CreditNoteRecord, op: PushOperation,
                  *, at: datetime) -> Recorded:
    when = at
    if op.status is PushStatus.SUCCESS and op.record_id:
        record_id = op.record_id
        await db(lambda s: _succeeded(s, row, ctx, note_id=record_id,
                                      key=op.push_operation_key, now=when,
                                      how="the push operation succeeded"))
        return Recorded(record_id, "recorded")
    if op.status is PushStatus.FAILED:
        await db(partial(_set, row_id=row.id, state="failed", last_error=op.reason))
        return Recorded(None, f"Codat did not record the credit note: {op.reason}")
    await db(partial(_set, row_id=row.id, state="unknown", last_error=op.status.value))
    return Recorded(None, PENDING)


__all__ = ["IN_FLIGHT", "PENDING", "RecordContext", "Recorded", "claim", "record_credit_note"]
