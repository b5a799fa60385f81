"""The audit trail of a channel's company, newest first: the one query behind `/bills audit`."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlmodel import Session, col, select

from billbot.storage.tables import AuditLog

# How far back a reference is searched for, and how many entries are shown.
_SCAN = 2000
DEFAULT_LIMIT = 20


def recent_entries(session: Session, *, company_id: str, connection_id: str,
                   reference: str | None = None, bill_ids: Collection[str] = (),
                   limit: int = DEFAULT_LIMIT) -> Sequence[AuditLog]:
    """Newest first: the company's entries; or those of the bills with these Codat ids (found
    from what the person typed); or, when Codat found none, those of the bill whose recorded
    reference or id is `reference`."""
    if bill_ids:
        return session.exec(
            select(AuditLog)
            .where(AuditLog.company_id == company_id, AuditLog.connection_id == connection_id,
                   col(AuditLog.bill_id).in_(list(bill_ids)))
            .order_by(col(AuditLog.id).desc())
            .limit(limit)
        ).all()
    rows = session.exec(
        select(AuditLog)
        .where(AuditLog.company_id == company_id, AuditLog.connection_id == connection_id)
        .order_by(col(AuditLog.id).desc())
        .limit(_SCAN if reference else limit)
    ).all()
    if reference is None:
        return rows
    wanted = reference.strip().lower()
    bill_ids = {r.bill_id for r in rows if r.bill_id and (
        r.bill_id.lower() == wanted
        or str((r.detail or {}).get("reference") or "").strip().lower() == wanted)}
    return [r for r in rows if r.bill_id in bill_ids][:limit]


__all__ = ["DEFAULT_LIMIT", "recent_entries"]
