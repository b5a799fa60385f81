"""`/bills audit [bill]` for admins: the audit entries (services.audit_history) as text.

Every line names the bill as people know it (reference, supplier, amount) and people as
mentions; payment entries show their amount. Bills read from Codat (`bills`) give the
supplier's name; without them the reference and amount recorded with the entry are shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from billbot.codat.models import Bill
from billbot.money import format_money
from billbot.slackapp.mrkdwn import escape
from billbot.storage.tables import AuditLog

_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]{1,20})&gt;")
# Detail keys shown as they are (ids and codes no person needs translated).
_RAW_KEYS = ("remote_payment_id", "attempted", "error", "role")


def _mention(actor: str) -> str:
    return f"<@{actor}>" if actor[:1] in ("U", "W") and actor.isalnum() else escape(actor)


def _money(amount: Any, currency: Any) -> str | None:
    if amount in (None, "") or not isinstance(currency, str):
        return None
    try:
        return format_money(Decimal(str(amount)), currency)
    except (InvalidOperation, ValueError, KeyError):
        return f"{escape(currency)} {escape(str(amount))}"


def _bill_part(entry: AuditLog, bill: Bill | None) -> str:
    detail: dict[str, Any] = entry.detail or {}
    version: dict[str, Any] = entry.bill_version or {}
    reference = (bill.reference if bill else None) or detail.get("reference") or entry.bill_id
    parts = [f"*{escape(str(reference))}*"]
    if bill is not None:
        parts.append(escape(bill.supplier_ref.supplier_name or bill.supplier_ref.id))
        total = _money(bill.total_amount, bill.currency)
    else:
        total = _money(version.get("totalAmount"), version.get("currency"))
    if total:
        parts.append(total)
    return " · ".join(parts)


def _people(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_mention(str(v)) for v in value) or "nobody"
    return _mention(str(value))


def _detail_part(entry: AuditLog) -> str:
    detail: dict[str, Any] = entry.detail or {}
    shown: list[str] = []
    paid = _money(detail.get("amount"), detail.get("currency"))
    if paid and entry.action.startswith("payment."):
        payer = detail.get("payer_id")
        shown.append(f"payment of {paid}" + (f" by {_mention(str(payer))}" if payer else ""))
    for key in ("approvals", "approvers"):
        if detail.get(key):
            needed = f" ({len(detail[key])} of {detail['needed']})" if detail.get("needed") else ""
            shown.append(f"approvals {_people(detail[key])}{needed}")
    if detail.get("rejected_by"):
        because = detail.get("reject_reason")
        shown.append(f"rejected by {_mention(str(detail['rejected_by']))}"
                     + (f" “{escape(str(because))[:120]}”" if because else ""))
    if detail.get("reason"):
        # billbot's own refusals name people as mentions: keep those, escape the rest.
        reason = _MENTION.sub(r"<@\1>", escape(str(detail["reason"])[:200]))
        shown.append(f"reason “{reason}”")
    if detail.get("on_behalf_of"):
        shown.append(f"on behalf of {_mention(str(detail['on_behalf_of']))}")
    if detail.get("user_id"):
        shown.append(f"for {_mention(str(detail['user_id']))}")
    shown.extend(f"{key}={escape(str(detail[key]))[:120]}" for key in _RAW_KEYS
                 if detail.get(key) not in (None, ""))
    return " · ".join(shown)


def _line(entry: AuditLog, bills: Mapping[str, Bill]) -> str:
    parts = [f"`{entry.at:%Y-%m-%d %H:%M}` {_mention(entry.actor)} {entry.action}"]
    if entry.bill_id:
        parts.append(_bill_part(entry, bills.get(entry.bill_id)))
    detail = _detail_part(entry)
    if detail:
        parts.append(detail)
    return " — ".join(parts)


def audit_text(entries: Sequence[AuditLog], *, reference: str | None = None,
               bills: Mapping[str, Bill] | None = None) -> str:
    known = bills or {}
    if not entries:
        about = f" for `{escape(reference)}`" if reference else ""
        return f"No audit entries{about}."
    title = f"Audit trail for `{escape(reference)}`" if reference else "Recent audit entries"
    return "\n".join([f"*{title}* (newest first, UTC)", *(_line(e, known) for e in entries)])


def matches_text(bills: Sequence[Bill], text: str, *, shown: int) -> str:
    """Several bills match what was typed: one short line each, to pick from."""
    lines = [f"{len(bills)} bills match `{escape(text)}`; name one by its reference or id:"]
    for bill in bills[:shown]:
        supplier = escape(bill.supplier_ref.supplier_name or bill.supplier_ref.id)
        total = _money(bill.total_amount, bill.currency) or "amount unknown"
        lines.append(f"• *{escape(bill.reference or bill.id)}* · {supplier} · {total} · "
                     f"{bill.status.value} · id `{escape(bill.id)}`")
    if len(bills) > shown:
        lines.append(f"…and {len(bills) - shown} more.")
    return "\n".join(lines)
