"""`/bills audit [reference]` for admins: the latest audit entries of this channel's company."""

from __future__ import annotations

from sqlmodel import Session, col, select

from billbot.services.bindings import Binding
from billbot.storage.tables import AuditLog

SHOWN = 20


def recent_entries_text(session: Session, *, binding: Binding, bill_id: str | None) -> str:
    query = select(AuditLog).where(AuditLog.company_id == binding.company_id)
    if bill_id is not None:
        query = query.where(AuditLog.bill_id == bill_id)
    rows = session.exec(query.order_by(col(AuditLog.id).desc()).limit(SHOWN)).all()
    if not rows:
        return "No audit entries yet."
    lines = [f"`{r.at:%Y-%m-%d %H:%M}` <@{r.actor}> *{r.action}*"
             + (f" bill `{r.bill_id}`" if r.bill_id else "")
             + (f" ({r.detail.get('reason')})" if r.detail.get("reason") else "")
             for r in reversed(rows)]
    return f"Latest {len(rows)} audit entries:\n" + "\n".join(lines)
