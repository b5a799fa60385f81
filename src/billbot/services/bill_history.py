"""One bill's history as billbot recorded it: every approval and rejection (all rounds, with
the lifting of rejections) and every payment it recorded or is recording. Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from billbot.storage.tables import (
    OPEN_INTENT_STATES,
    Approval,
    AuditLog,
    BillTrack,
    PaymentIntent,
)

LIFTS = {"rejection.withdrawn": "withdrew the rejection",
         "rejection.overridden": "overrode the rejection",
         "payment.undone": "undid a payment", "bill.deleted": "deleted the bill"}


@dataclass(frozen=True)
class Decision:
    user_id: str
    what: str  # "approved", "rejected", "withdrew the rejection", "overrode the rejection"
    at: datetime
    reason: str | None = None
    acted_by: str | None = None  # the delegate who clicked for user_id while they were away


@dataclass(frozen=True)
class RecordedPayment:
    paid_on: date
    account: str  # the account's name when the form knew it, else its id
    amount: Decimal
    currency: str
    payer_id: str
    in_progress: bool
    on_behalf_of: str | None = None  # the absent payer whose role the payer used


@dataclass(frozen=True)
class BillHistory:
    decisions: list[Decision]
    payments: list[RecordedPayment]

    @property
    def paid_by_billbot(self) -> dict[str, Decimal]:
        """Succeeded payments per currency."""
        totals: dict[str, Decimal] = {}
        for p in self.payments:
            if not p.in_progress:
                totals[p.currency] = totals.get(p.currency, Decimal(0)) + p.amount
        return totals


def history_of(session: Session, *, company_id: str, connection_id: str,
               bill_id: str) -> BillHistory:
    track = session.exec(select(BillTrack).where(
        col(BillTrack.company_id) == company_id, col(BillTrack.connection_id) == connection_id,
        col(BillTrack.bill_id) == bill_id)).first()
    if track is None:
        return BillHistory([], [])
    decisions = [Decision(a.user_id, "approved" if a.decision == "approve" else "rejected",
                          a.at, a.reason, a.acted_by)
                 for a in session.exec(select(Approval).where(
                     col(Approval.bill_track_id) == track.id)).all()]
    lifts = session.exec(select(AuditLog).where(
        col(AuditLog.company_id) == company_id, col(AuditLog.connection_id) == connection_id,
        col(AuditLog.bill_id) == bill_id, col(AuditLog.action).in_(list(LIFTS)))).all()
    for entry in lifts:
        reason = entry.detail.get("reason") if isinstance(entry.detail, dict) else None
        decisions.append(Decision(entry.actor, LIFTS[entry.action], entry.at,
                                  reason if isinstance(reason, str) and reason else None))
    intents = session.exec(select(PaymentIntent).where(
        col(PaymentIntent.bill_track_id) == track.id,
        col(PaymentIntent.state).in_(["succeeded", *OPEN_INTENT_STATES]),
        col(PaymentIntent.undone_at).is_(None))
        .order_by(col(PaymentIntent.created_at))).all()
    payments = [RecordedPayment(i.payment_date, i.account_name or i.account_id, i.amount,
                                i.currency, i.payer_id, i.state != "succeeded", i.on_behalf_of)
                for i in intents]
    return BillHistory(sorted(decisions, key=lambda d: d.at), payments)


__all__ = ["BillHistory", "Decision", "RecordedPayment", "history_of"]
