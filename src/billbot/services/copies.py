"""A click on one copy of a bill (a row in some message) is judged against what that copy
showed: an Approve on figures that are no longer the bill's is refused and audited."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from billbot.codat.models import Bill
from billbot.domain.copies import stale_copy_reason
from billbot.storage import bill_copies, personal

from .bindings import Binding
from .roles import record_refusal


def stale_copy_refusal(session: Session, *, channel_id: str, ts: str, bill: Bill,
                       binding: Binding, user_id: str, request_id: str | None,
                       at: datetime) -> str | None:
    """The refusal (with the current figures) when the clicked copy showed another version of
    the bill, recorded in the audit; None when it showed this one (or is not indexed)."""
    if ts == personal.HOME_TS:  # a click in App Home: what that person's view showed
        token = personal.home_token(session, user_id=user_id, key=personal.bill_key(
            binding.company_id, binding.connection_id, bill.id))
    else:
        token = bill_copies.shown_token(session, channel_id=channel_id, ts=ts,
                                        bill_id=bill.id)
    reason = stale_copy_reason(token, bill)
    if reason is not None:
        record_refusal(session, actor=user_id, action="approve", request_id=request_id, at=at,
                       reason="the clicked message showed an older version of the bill",
                       company_id=binding.company_id, connection_id=binding.connection_id,
                       bill_id=bill.id)
    return reason


__all__ = ["stale_copy_refusal"]
