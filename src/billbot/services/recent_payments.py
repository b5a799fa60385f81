"""The payments billbot recorded recently (App Home's "Paid in the last 7 days")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from billbot.storage.tables import BillTrack, PaymentIntent


@dataclass(frozen=True)
class RecentPayment:
    company_id: str
    connection_id: str
    bill_id: str
    amount: Decimal
    currency: str
    payer_id: str
    at: datetime


def paid_since(session: Session, since: datetime, *, limit: int = 500) -> list[RecentPayment]:
    """Succeeded payments finished at or after `since`, newest first."""
    rows = session.exec(
        select(PaymentIntent, BillTrack)
        .where(col(PaymentIntent.bill_track_id) == col(BillTrack.id),
               col(PaymentIntent.state) == "succeeded", col(PaymentIntent.undone_at).is_(None),
               col(PaymentIntent.finished_at) >= since)
        .order_by(col(PaymentIntent.finished_at).desc()).limit(limit)).all()
    return [RecentPayment(company_id=track.company_id, connection_id=track.connection_id,
                          bill_id=track.bill_id, amount=intent.amount, currency=intent.currency,
                          payer_id=intent.payer_id, at=intent.finished_at or intent.created_at)
            for intent, track in rows]


__all__ = ["RecentPayment", "paid_since"]
