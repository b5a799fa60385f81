"""What the bill's thread says about each decision: one line per audit entry, naming the
bill. Render only; people's words (reasons, questions) are made inert."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from billbot.money import format_money
from billbot.slackapp.mrkdwn import user_text

# Hold questions and releases are the thread's conversation: posted even with the history off.
CONVERSATION = ("hold.placed", "hold.released")
DECISIONS = ("approval.recorded", "rejection.recorded", "rejection.withdrawn",
             "rejection.overridden", "payment.succeeded", "approval.lapsed")
HISTORY_ACTIONS = CONVERSATION + DECISIONS


def _who(users: Any) -> str:
    names = [u for u in users if isinstance(u, str)] if isinstance(users, list) else []
    return ", ".join(f"<@{u}>" for u in names[:10]) or "someone"


def _said(detail: dict[str, Any], key: str) -> str:
    return user_text(str(detail.get(key) or ""), 500)


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def _paid(detail: dict[str, Any], version: dict[str, Any] | None) -> str:
    currency = str(detail.get("currency") or "")
    amount = _money(detail.get("amount")) or Decimal(0)
    due = _money((version or {}).get("amountDue"))
    remains = (f"; {format_money(due - amount, currency)} remains."
               if due is not None and amount < due else ".")
    credit = _money(detail.get("credit_amount"))
    if credit:  # a credit note allocation: the credit, and what was paid on top of it
        paid = (f" with {format_money(amount - credit, currency)} paid" if amount > credit
                else "")
        return (f":receipt: {format_money(credit, currency)} of credit note "
                f"{_said(detail, 'credit_note_number')} applied by "
                f"<@{detail.get('payer_id')}>{paid}{remains}")
    paid = f"{format_money(amount, currency)} by <@{detail.get('payer_id')}>"
    bills = detail.get("group_bills")
    if isinstance(bills, int) and bills > 1:  # one payment for several (payment_groups.py)
        kind = "one batch payment" if detail.get("batch") else "one payment"
        paid += (f", as part of {kind} of {bills} bills "
                 f"(reference {_said(detail, 'group_reference')})")
    if due is not None and amount < due:
        return f":moneybag: partly paid {paid}{remains}"
    return f":moneybag: paid {paid}."


def history_line(action: str, actor: str, detail: dict[str, Any],
                 version: dict[str, Any] | None) -> str | None:
    """The entry's words after the bill's name; None when it tells nothing worth a post."""
    if action == "approval.recorded":
        approvals, needed = detail.get("approvals") or [], detail.get("needed") or 1
        count = f" ({len(approvals)} of {needed} approvals)" if needed != 1 else ""
        return f":white_check_mark: approved by <@{actor}>{count}."
    if action == "rejection.recorded":
        return f":x: rejected by <@{actor}>: “{_said(detail, 'reason')}”"
    if action == "rejection.withdrawn":
        return f":leftwards_arrow_with_hook: <@{actor}> withdrew their rejection."
    if action == "rejection.overridden":
        return (f":leftwards_arrow_with_hook: <@{actor}> (admin) overrode the rejection by "
                f"<@{detail.get('rejected_by')}>: “{_said(detail, 'reason')}”")
    if action == "hold.placed":
        return (f":raised_hand: put on hold by <@{actor}>: “{_said(detail, 'question')}”\n"
                f"Answer in this thread; <@{actor}> or an admin presses Release on the row.")
    if action == "hold.released":
        admin = " (admin)" if detail.get("by_admin") else ""
        return f":arrow_forward: released from hold by <@{actor}>{admin}."
    if action == "payment.succeeded":
        return _paid(detail, version)
    if action == "approval.lapsed":
        voided = detail.get("approvals_voided") or []
        if not voided:
            return None  # nothing was approved, so nothing lapsed
        return (f":warning: changed in the accounting software, so the approval by "
                f"{_who(voided)} lapsed; it must be approved again.")
    return None


__all__ = ["CONVERSATION", "DECISIONS", "HISTORY_ACTIONS", "history_line"]
