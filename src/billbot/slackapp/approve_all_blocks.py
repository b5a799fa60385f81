"""Block Kit for Approve all: the confirmation (the bills to approve, with count and totals
per currency, and those left out with the reason) and the result.

A modal holds at most 100 blocks and a section 3,000 characters, so bills are listed as
lines packed into sections; past `MAX_LIST_BLOCKS` the rest is counted, not listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from billbot.codat.models import Bill
from billbot.domain.digest import due_in_words
from billbot.money import format_money
from billbot.services.bulk_approvals import BulkLine, confirmed_token
from billbot.slackapp.mrkdwn import clip, clip_mrkdwn, user_text

Block = dict[str, Any]

CALLBACK_APPROVE_ALL = "approve_all"
TITLE = "Approve all"
MAX_VIEW_BLOCKS = 100
# Blocks given to bill lists; the rest is headings and notes.
MAX_LIST_BLOCKS = 90
SECTION_CHARS = 2900


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:24], "emoji": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip_mrkdwn(text, 3000)}}


def bill_line(bill: Bill, *, today: date, reason: str | None = None) -> str:
    """`• *INV-1* · Supplier · GBP 1,200.00 · due in 3 days`, and why it is left out."""
    supplier = user_text(bill.supplier_ref.supplier_name or bill.supplier_ref.id, 60)
    amount = ("amount due unknown" if bill.amount_due is None
              else format_money(bill.amount_due, bill.currency))
    line = (f"• *{user_text(bill.reference or bill.id, 60)}* · {supplier} · {amount} · "
            f"{due_in_words(bill.due_date, today)}")
    return f"{line} — {reason}" if reason else line


def totals_line(sums: dict[str, Decimal], unknown: int) -> str:
    parts = [f"*{format_money(amount, currency)}*" for currency, amount in sums.items()]
    text = " · ".join(parts) if parts else "no known amount"
    if unknown:
        text += f" (+{unknown} with amount due unknown)"
    return text


def line_sections(lines: Sequence[str], budget: int) -> list[Block]:
    """`lines` packed into at most `budget` sections; what does not fit is counted."""
    blocks: list[Block] = []
    chunk: list[str] = []
    for i, line in enumerate(lines):
        if chunk and sum(len(x) + 1 for x in chunk) + len(line) > SECTION_CHARS:
            if len(blocks) == budget - 1:
                chunk.append(f"…and {len(lines) - i} more")
                break
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    return blocks


NOTE: Block = {"type": "context", "elements": [{"type": "mrkdwn", "text": (
    "Untick a bill to leave it out (you then see the new count and totals). A bill that "
    "changes in the books before you confirm is not approved. Nothing is recorded until you "
    "press Approve.")}]}
PICK_PREFIX = "pick-"
PICK_ACTION = "bills"
PER_GROUP = 10  # Slack: at most 10 options in a checkbox group


def pick_option(bill: Bill, *, today: date) -> Block:
    """One bill as a ticked checkbox: plain text (inert), its token, currency and amount in
    the value (the amount only ever feeds the totals a narrowed confirmation shows)."""
    amount = ("amount due unknown" if bill.amount_due is None
              else format_money(bill.amount_due, bill.currency))
    name = bill.supplier_ref.supplier_name or bill.supplier_ref.id
    text = f"{clip(bill.reference or bill.id, 24)} · {clip(name, 24)} · {amount}"
    due = "" if bill.amount_due is None else format(bill.amount_due, "f")
    return {"text": {"type": "plain_text", "text": clip(text, 75), "emoji": False},
            "description": {"type": "plain_text", "text": due_in_words(bill.due_date, today)},
            "value": f"{confirmed_token(bill)}:{bill.currency.upper()}:{due}"}


def pick_blocks(options: Sequence[Block]) -> list[Block]:
    """The bills to approve as checkbox groups of ten, all ticked."""
    blocks: list[Block] = []
    for n, start in enumerate(range(0, len(options), PER_GROUP)):
        group = list(options[start:start + PER_GROUP])
        label = f"Bills {start + 1}–{start + len(group)}" if len(options) > PER_GROUP else "Bills"
        blocks.append({"type": "input", "block_id": f"{PICK_PREFIX}{n}", "optional": True,
                       "label": {"type": "plain_text", "text": label},
                       "element": {"type": "checkboxes", "action_id": PICK_ACTION,
                                   "options": group, "initial_options": group}})
    return blocks


def confirmation_view(lines: Sequence[BulkLine], *, today: date, metadata: str,
                      sums: dict[str, Decimal], unknown: int, left_for_later: int) -> Block:
    """The confirmation: nothing is recorded until its submit button is pressed."""
    chosen = [ln.bill for ln in lines if ln.reason is None]
    skipped = [ln for ln in lines if ln.reason is not None]
    blocks: list[Block] = []
    if chosen:
        plural = "s" if len(chosen) != 1 else ""
        blocks.append(_section(f"Approve *{len(chosen)} bill{plural}*, each on its own as "
                               f"its Approve button would.\n*Total due:* "
                               f"{totals_line(sums, unknown)}"))
    else:
        blocks.append(_section("There is nothing here that you can approve now."))
    budget = MAX_LIST_BLOCKS // (2 if skipped else 1)
    blocks.extend(pick_blocks([pick_option(b, today=today) for b in chosen]))
    if left_for_later:
        blocks.append(_section(f"{left_for_later} more can be approved with a second press of "
                               "Approve all after these."))
    if skipped:
        blocks.append({"type": "divider"})
        blocks.append(_section(f"*Left out ({len(skipped)}):*"))
        blocks.extend(line_sections(
            [bill_line(ln.bill, today=today, reason=ln.reason) for ln in skipped], budget))
    blocks.append(NOTE)
    view: Block = {"type": "modal", "callback_id": CALLBACK_APPROVE_ALL, "title": _plain(TITLE),
                   "close": _plain("Cancel"), "private_metadata": metadata,
                   "blocks": blocks[:MAX_VIEW_BLOCKS]}
    if chosen:
        view["submit"] = _plain("Approve")
    return view


def result_view(approved: Sequence[Bill], pending: Sequence[tuple[Bill, str]],
                refused: Sequence[tuple[Bill, str]], *, today: date) -> Block:
    """What happened to each confirmed bill."""
    blocks: list[Block] = []
    head = f":white_check_mark: *{len(approved)} approved*"
    if pending:
        head += f", *{len(pending)}* recorded and waiting for another approver"
    if refused:
        head += f", *{len(refused)} not approved*"
    sums: dict[str, Decimal] = {}
    for bill in approved:
        if bill.amount_due is not None:
            key = bill.currency.upper()
            sums[key] = sums.get(key, Decimal(0)) + bill.amount_due
    if sums:
        head += f".\n*Approved total:* {totals_line(sums, 0)}"
    blocks.append(_section(head + "."))
    groups = [(approved and "*Approved:*", [bill_line(b, today=today) for b in approved]),
              (pending and "*Waiting for another approver:*",
               [bill_line(b, today=today, reason=why) for b, why in pending]),
              (refused and "*Not approved:*",
               [bill_line(b, today=today, reason=why) for b, why in refused])]
    shown = [(title, lines) for title, lines in groups if title]
    for title, lines in shown:
        blocks.append(_section(str(title)))
        blocks.extend(line_sections(lines, MAX_LIST_BLOCKS // max(1, len(shown)) - 1))
    return {"type": "modal", "title": _plain(TITLE), "close": _plain("Close"),
            "blocks": blocks[:MAX_VIEW_BLOCKS]}


__all__ = ["CALLBACK_APPROVE_ALL", "bill_line", "confirmation_view", "line_sections",
           "result_view", "totals_line"]
