"""Create bill's suggestions as Block Kit: a context line saying what the document suggested
(or why nothing was) and the hint each prefilled input carries, so the person checks every
value read from the document before saving. Render only."""

from __future__ import annotations

from typing import Any

from billbot.domain.bill_suggestions import SUGGESTED_HINT, BillSuggestions
from billbot.money import format_money
from billbot.slackapp.mrkdwn import clip_mrkdwn, user_text

Block = dict[str, Any]


def suggested_fields(s: BillSuggestions) -> list[tuple[str, str]]:
    """(label, value) of each suggested field, in the form's order."""
    fields: list[tuple[str, str]] = []
    if s.supplier_name:
        fields.append(("supplier", s.supplier_name))
    if s.reference:
        fields.append(("reference", s.reference))
    if s.issue_date:
        fields.append(("issued", f"{s.issue_date.day} {s.issue_date:%b %Y}"))
    if s.due_date:
        fields.append(("due", f"{s.due_date.day} {s.due_date:%b %Y}"))
    if s.total is not None:
        fields.append(("total", format_money(s.total, s.currency) if s.currency
                       else format(s.total, "f")))
    elif s.currency:
        fields.append(("currency", s.currency))
    return fields


def suggestion_context(s: BillSuggestions) -> Block:
    """One context block above the form: what was suggested, to check, or why nothing was."""
    fields = suggested_fields(s)
    if fields:
        listed = ", ".join(f"{label} *{user_text(value, 120)}*" for label, value in fields)
        text = f":mag: {SUGGESTED_HINT}: {listed}."
    elif s.note:
        text = f":page_facing_up: {s.note}"
    else:
        text = ":page_facing_up: Nothing in the document's text looked like a bill's details."
    return {"type": "context", "block_id": "suggestions",
            "elements": [{"type": "mrkdwn", "text": clip_mrkdwn(text, 3000)}]}


def suggested_hint(value: object | None) -> Block | None:
    """The hint for an input prefilled from the document (None for one the person filled)."""
    if value is None:
        return None
    return {"type": "plain_text", "text": SUGGESTED_HINT, "emoji": True}


__all__ = ["suggested_fields", "suggested_hint", "suggestion_context"]
