"""Block Kit for Edit: the row's button and the modal prefilled with the bill as Codat has it.
Render only; `domain/bill_edit.py` checks the form and `services/bill_edits.py` decides."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billbot.codat.models import Bill
from billbot.domain.bill_edit import line_net
from billbot.domain.bill_handles import carried
from billbot.money import format_money
from billbot.slackapp.mrkdwn import clip, clip_mrkdwn

Block = dict[str, Any]

ACTION_EDIT = "bill_edit"
CALLBACK_EDIT = "edit_bill"


def _plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def edit_button(bill_id: str) -> Block:
    """`Edit` on the row of a bill created in billbot (the server checks who presses it)."""
    return {"type": "button", "action_id": ACTION_EDIT, "text": _plain("Edit", 75),
            "value": carried(bill_id)}


def _input(block_id: str, label: str, element: Block, *, optional: bool = False,
           hint: str | None = None) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": _plain(label, 2000),
                    "element": element, "optional": optional}
    if hint:
        block["hint"] = _plain(hint, 2000)
    return block


def edit_modal(bill: Bill, label: str, *, metadata: str) -> Block:
    """Reference, dates and each line's net amount, as the bill has them now."""
    blocks: list[Block] = [
        {"type": "section", "block_id": "edit-summary", "text": {
            "type": "mrkdwn", "text": clip_mrkdwn(
                f"Edit {label}. Saving updates the bill in the accounting software; any "
                "approval lapses and the bill must be approved again.", 3000)}},
        _input("reference", "Reference", {
            "type": "plain_text_input", "action_id": "reference", "max_length": 255,
            **({"initial_value": bill.reference} if bill.reference else {})}, optional=True),
        _input("issue_date", "Issue date", {"type": "datepicker", "action_id": "date",
                                            "initial_date": bill.issue_date.isoformat()}),
        _input("due_date", "Due date", {"type": "datepicker", "action_id": "date",
                                        "initial_date": bill.due_date.isoformat()}),
    ]
    for index, line in enumerate(bill.line_items or []):
        tax = line.tax_amount or Decimal(0)
        description = line.description or f"Line {index + 1}"
        blocks.append(_input(
            f"line_{index}", f"{description} (net, {bill.currency})",
            {"type": "plain_text_input", "action_id": "amount", "max_length": 20,
             "initial_value": format(line_net(line), "f")},
            hint=f"Tax now {format_money(tax, bill.currency)}; it keeps the line's rate."))
    return {"type": "modal", "callback_id": CALLBACK_EDIT, "private_metadata": metadata,
            "title": _plain("Edit bill", 24), "submit": _plain("Save", 24),
            "close": _plain("Cancel", 24), "blocks": blocks}


__all__ = ["ACTION_EDIT", "CALLBACK_EDIT", "edit_button", "edit_modal"]
