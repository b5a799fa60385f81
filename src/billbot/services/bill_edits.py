"""Edit on a bill created in billbot: who may, the intent committed before update bill, and
the approval lapsing once the update is in the books.

Discipline as for payments: the intent row (with its Idempotency-Key) is committed before
Codat is called; a double submit or a Slack retry of the same form lands on the same row and
sends the same key, so Codat updates the bill once; only the attempt that marks the row done
lapses the approval and writes the audit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from billbot.codat.models import Bill, BillPrototype
from billbot.domain.policy import Role
from billbot.domain.versions import BillVersion
from billbot.storage import bill_creations
from billbot.storage.audit import BillRef, record_audit
from billbot.storage.creation_tables import CreatedBill
from billbot.storage.edit_tables import BillEdit
from billbot.storage.upsert import insert_if_absent

from .bindings import Binding
from .tracks import load_track, rebase

NOT_ALLOWED = ("Only the person who created this bill in billbot, or a billbot admin, can edit "
               "it; nothing changed.")
NOT_CREATED_HERE = ("Only bills created in billbot can be edited here; change this one in the "
                    "accounting software.")
PAYMENT_RUNNING = "A payment of this bill is being recorded; edit it once that has finished."



def creator_of(session: Session, binding: Binding, bill_id: str) -> str | None:
    """Who created the bill in billbot; None for a bill created in the books."""
    return bill_creations.creator_of(session, company_id=binding.company_id,
                                     connection_id=binding.connection_id, bill_id=bill_id)


def created_here(session: Session, binding: Binding, bill_ids: Iterable[str]) -> set[str]:
    """Which of the bills were created in billbot (their rows offer Edit)."""
    wanted = list(dict.fromkeys(bill_ids))
    if not wanted:
        return set()
    return set(session.exec(select(CreatedBill.bill_id).where(
        col(CreatedBill.company_id) == binding.company_id,
        col(CreatedBill.connection_id) == binding.connection_id,
        col(CreatedBill.bill_id).in_(wanted))).all())


def may_edit(user_id: str, creator: str | None, user_roles: frozenset[Role]) -> str | None:
    """Why `user_id` may not edit the bill, or None when they may."""
    if creator is None:
        return NOT_CREATED_HERE
    if user_id != creator and Role.ADMIN not in user_roles:
        return NOT_ALLOWED
    return None


@dataclass(frozen=True)
class EditIntent:
    id: uuid.UUID
    idempotency_key: str
    state: str
    error: str | None
    prototype: BillPrototype


def _intent(row: BillEdit) -> EditIntent:
    return EditIntent(row.id, row.idempotency_key, row.state, row.error,
                      BillPrototype.model_validate(json.loads(row.bill_json)))


def begin(session: Session, *, request_key: str, binding: Binding, bill_id: str, user_id: str,
          prototype: BillPrototype, at: datetime) -> EditIntent:
    """The form's intent, inserted with a fresh key unless this form was submitted before
    (then the first submission's prototype and key stand)."""
    insert_if_absent(session, BillEdit, {
        "id": uuid.uuid4(), "request_key": request_key, "company_id": binding.company_id,
        "connection_id": binding.connection_id, "bill_id": bill_id, "user_id": user_id,
        "idempotency_key": str(uuid.uuid4()),
        "bill_json": prototype.model_dump_json(by_alias=True, exclude_none=True),
        "state": "sending", "created_at": at,
    })
    row = session.exec(select(BillEdit).where(col(BillEdit.request_key) == request_key)
                       .execution_options(populate_existing=True)).one()
    return _intent(row)


def finish(session: Session, intent: EditIntent, *, updated: Bill, binding: Binding,
           user_id: str, before: Bill, request_id: str | None, at: datetime) -> bool:
    """Mark the edit done; the winner (True) lapses the round's approval and audits it."""
    won = session.exec(update(BillEdit).where(col(BillEdit.id) == intent.id,
                                              col(BillEdit.state) == "sending")
                       .values(state="done", finished_at=at)).rowcount == 1
    if not won:
        return False
    ref = BillRef(binding.company_id, binding.connection_id, updated.id)
    current = BillVersion.of(updated)
    record_audit(session, at=at, actor=user_id, action="bill.edited", bill=ref,
                 bill_version=current.to_json(), request_id=request_id,
                 detail={"before": _summary(before), "after": _summary(updated),
                         "idempotency_key": intent.idempotency_key})
    track = load_track(session, ref)
    if track is not None:
        # Any edit starts a new round, as a change in the books does: approvals were of the
        # bill as it was. A standing rejection stays (services/tracks.rebase).
        rebase(session, track, current, ref=ref, actor=user_id, request_id=request_id, at=at)
    return True


def fail(session: Session, intent: EditIntent, *, error: str, at: datetime) -> None:
    session.exec(update(BillEdit).where(col(BillEdit.id) == intent.id,
                                        col(BillEdit.state) == "sending")
                 .values(state="failed", error=error[:2000], finished_at=at))


def payment_running(session: Session, binding: Binding, bill_id: str) -> bool:
    track = load_track(session, BillRef(binding.company_id, binding.connection_id, bill_id))
    return track is not None and track.open_intent_id is not None


def _summary(bill: Bill) -> dict[str, str | None]:
    return {
        "reference": bill.reference, "issueDate": bill.issue_date.isoformat(),
        "dueDate": bill.due_date.isoformat(),
        "totalAmount": None if bill.total_amount is None else format(bill.total_amount, "f"),
    }


# --- recovery ------------------------------------------------------------------------------

# An edit still `sending` this long after it was submitted had its process die (or Codat
# never confirmed it): the recovery tick settles it from the bill as Codat has it.
STALE_AFTER_SECONDS = 120


@dataclass(frozen=True)
class StaleEdit:
    intent: EditIntent
    binding: Binding
    bill_id: str
    user_id: str


def stale_edits(session: Session, *, now: datetime, limit: int = 20) -> list[StaleEdit]:
    rows = session.exec(select(BillEdit).where(
        col(BillEdit.state) == "sending",
        col(BillEdit.created_at) <= now - timedelta(seconds=STALE_AFTER_SECONDS))
        .order_by(col(BillEdit.created_at)).limit(limit)).all()
    return [StaleEdit(_intent(row), Binding("", row.company_id, row.connection_id, "", now),
                      row.bill_id, row.user_id) for row in rows]


def applied(bill: Bill, prototype: BillPrototype) -> bool:
    """The bill in the books is the edit's result: same reference, dates and line totals."""
    mine = [line.total_amount for line in prototype.line_items or []]
    theirs = [line.total_amount for line in bill.line_items or []]
    return (bill.reference == prototype.reference and bill.issue_date == prototype.issue_date
            and bill.due_date == prototype.due_date and mine == theirs)
