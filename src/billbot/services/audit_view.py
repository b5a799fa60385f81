"""The audit trail as a short text for `/bills audit [reference]` (admins only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from billbot.storage.tables import AuditLog

from .bindings import get_binding

# How far back a reference is searched for, and how many entries are shown.
_SCAN = 2000
DEFAULT_LIMIT = 20

_DETAIL_KEYS = ("reason", "amount", "currency", "remote_payment_id", "approvals", "needed",
                "user_id", "role", "attempted", "error")


def _mention(actor: str) -> str:
    return f"<@{actor}>" if actor[:1] in ("U", "W") and actor.isalnum() else actor


def _line(entry: AuditLog) -> str:
    detail: dict[str, Any] = entry.detail or {}
    parts = [f"`{entry.at:%Y-%m-%d %H:%M}` {_mention(entry.actor)} {entry.action}"]
    if entry.bill_id:
        reference = detail.get("reference")
        parts.append(f"bill `{reference or entry.bill_id}`")
    shown = [f"{key}={detail[key]}" for key in _DETAIL_KEYS if detail.get(key) not in (None, "")]
    if shown:
        parts.append("(" + ", ".join(str(s)[:120] for s in shown) + ")")
    return " ".join(parts)


def recent_entries(session: Session, *, company_id: str, connection_id: str,
                   reference: str | None = None,
                   limit: int = DEFAULT_LIMIT) -> Sequence[AuditLog]:
    """Newest first: the company's entries, or those of the bill with that reference or id."""
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


def recent_entries_text(session: Session, *, channel_id: str, reference: str | None = None,
                        limit: int = DEFAULT_LIMIT) -> str:
    binding = get_binding(session, channel_id=channel_id)
    if binding is None:
        return "This channel is not connected to a Codat company, so it has no audit trail."
    entries = recent_entries(session, company_id=binding.company_id,
                             connection_id=binding.connection_id, reference=reference,
                             limit=limit)
    if not entries:
        about = f" for `{reference}`" if reference else ""
        return f"No audit entries{about}."
    title = f"Audit trail for `{reference}`" if reference else "Recent audit entries"
    return "\n".join([f"*{title}* (newest first, UTC)", *(_line(e) for e in entries)])


__all__ = ["recent_entries", "recent_entries_text"]
