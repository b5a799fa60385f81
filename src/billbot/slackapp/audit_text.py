"""`/bills audit [reference]` for admins: the audit entries (services.audit_history) as text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from billbot.storage.tables import AuditLog

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


def audit_text(entries: Sequence[AuditLog], *, reference: str | None = None) -> str:
    if not entries:
        about = f" for `{reference}`" if reference else ""
        return f"No audit entries{about}."
    title = f"Audit trail for `{reference}`" if reference else "Recent audit entries"
    return "\n".join([f"*{title}* (newest first, UTC)", *(_line(e) for e in entries)])
