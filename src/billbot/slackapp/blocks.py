"""Block Kit for messages and modals: pure functions from bills and row state to JSON.

Limits that Slack enforces (50 blocks a message, 100 a view, 3000 characters a section,
75 a button label, unique block_ids) are respected here by construction; the Slack
stand-in checks every payload against them in the tests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from billbot.codat.models import BankAccountOption, Bill
from billbot.domain.bill_handles import carried
from billbot.domain.copies import nothing_due
from billbot.domain.digest import DigestSummary, due_in_words
from billbot.money import format_money, quantize
from billbot.slack_web.block_revisions import base_block_id
from billbot.slackapp.digest_actions import digest_actions_block
from billbot.slackapp.digest_header import summary_block
from billbot.slackapp.edit_blocks import edit_button
from billbot.slackapp.hold_blocks import hold_button, hold_line
from billbot.slackapp.mrkdwn import clip_mrkdwn, escape, user_text
from billbot.slackapp.paid_text import paid_line
from billbot.slackapp.row_model import PaymentState, RowState
from billbot.slackapp.undo_blocks import undo_line, with_undo_buttons

Block = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
# A row's buttons: five at most, so they fit one line on desktop and stay usable on mobile.
MAX_ROW_BUTTONS = 5
BLOCKS_PER_BILL = 2
# Characters of a supplier name or reference on a row (before escaping), so the row's other
# lines always fit in a section's 3000.
FIELD_LIMIT = 120
# Main message: header, summary, actions, divider and a "continued in thread" note.
BILLS_IN_MAIN = (MAX_MESSAGE_BLOCKS - 5) // BLOCKS_PER_BILL  # 22
# Thread replies: one context line then bills.
BILLS_PER_REPLY = (MAX_MESSAGE_BLOCKS - 1) // BLOCKS_PER_BILL  # 24

ACTION_APPROVE = "bill_approve"
ACTION_REJECT = "bill_reject"
ACTION_PAY = "bill_pay"
ACTION_WITHDRAW_REJECTION = "bill_withdraw_rejection"
ACTION_DETAILS = "bill_details"
ACTION_CREDIT = "bill_credit_note"  # Apply credit note (async API; slackapp/credit_flow.py)
CALLBACK_PAY = "pay_bill"
CALLBACK_REJECT = "reject_bill"
CALLBACK_OVERRIDE_REJECTION = "override_rejection"


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip_mrkdwn(text, 3000)}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def bill_key(bill_id: str) -> str:
    """A short, stable, block_id-safe key for a bill (ids are free strings of any length)."""
    return hashlib.sha256(bill_id.encode()).hexdigest()[:16]


def section_block_id(bill_id: str) -> str:
    return f"bill:{bill_key(bill_id)}"


def actions_block_id(bill_id: str) -> str:
    return f"bill-actions:{bill_key(bill_id)}"


def amount_due_text(bill: Bill) -> str:
    if bill.amount_due is None:
        return "amount due unknown"
    return format_money(bill.amount_due, bill.currency)


def payable_now(bill: Bill) -> bool:
    return bill.status.payable and bill.amount_due is not None and bill.amount_due > 0


def _status_line(bill: Bill, state: RowState) -> str:
    if state.deleted:
        return undo_line(state) or ""
    lines: list[str] = []
    last = state.last_payment
    paid = paid_line(state, remains=amount_due_text(bill) if payable_now(bill) else None)
    if paid:
        lines.append(paid)
    if last and last.state is PaymentState.IN_PROGRESS and last.recording:
        lines.append(f":hourglass_flowing_sand: Recording… payment of {last.shown}"
                     f" by {mention(last.payer_id)}, waiting for the books to confirm it")
    elif last and last.state is PaymentState.IN_PROGRESS:
        lines.append(f":hourglass_flowing_sand: Payment of {last.shown}"
                     f" by {mention(last.payer_id)} in progress")
    elif last and last.state is PaymentState.FAILED:
        # Codat's words go to the payer only (the form and a private message), never the row.
        lines.append(f":warning: Payment by {mention(last.payer_id)} failed — see the payer; "
                     "nothing was recorded")
    held = hold_line(state)
    if held:
        lines.append(held)
    undone = undo_line(state)
    if undone:
        lines.append(undone)
    if state.rejected_by:
        reason = user_text(state.reject_reason or "", 300)
        lines.append(f":x: Rejected by {mention(state.rejected_by)}: “{reason}”")
    elif state.chain_lines:
        lines.extend(state.chain_lines)
    elif state.approvers:
        who = ", ".join(mention(u) for u in state.approvers)
        if state.approved:
            lines.append(f":white_check_mark: Approved by {who}")
        else:
            more = state.needed - len(state.approvers)
            lines.append(f":ballot_box_with_check: Approved by {who} · {more} more approval needed")
    elif payable_now(bill) or bill.amount_due is None:
        need = " (2 approvers needed)" if state.needed > 1 else ""
        lines.append(f":grey_question: Awaiting approval{need}")
    return "\n".join(lines)


def bill_row(bill: Bill, state: RowState, *, today: date) -> list[Block]:
    """A bill's section and its buttons: reference, supplier, amount due, due date, state.
    Each field is clipped on its own, so amount, due date and status always show."""
    supplier = user_text(bill.supplier_ref.supplier_name or bill.supplier_ref.id, FIELD_LIMIT)
    reference = user_text(bill.reference or bill.id, FIELD_LIMIT)
    on = bill.due_date.strftime('%a %d %b %Y')
    if nothing_due(bill):  # paid or void: never shown overdue
        icon, when = ":white_check_mark:", f"was due {on}"
    else:
        icon = (":red_circle:" if bill.due_date < today else
                ":large_orange_circle:" if bill.due_date == today else ":white_circle:")
        when = f"{due_in_words(bill.due_date, today)} ({on})"
    text = (f"*{reference}* · {supplier}\n"
            f"*{amount_due_text(bill)}* due · {icon} {when}")
    status = _status_line(bill, state)
    if status:
        text += "\n" + status
    if state.warnings and bill.status.payable:  # the controls Pay will ask about
        text += "\n:warning: " + user_text(" · ".join(state.warnings), 300)
    blocks: list[Block] = [{"type": "section", "block_id": section_block_id(bill.id),
                            "text": _mrkdwn(text)}]
    if state.deleted:  # gone from the books: nothing left to press
        return blocks
    buttons = with_undo_buttons([*_row_buttons(bill, state), details_button(bill)], bill.id,
                                state, max_buttons=MAX_ROW_BUTTONS)
    if state.editable and bill.status.payable and len(buttons) < MAX_ROW_BUTTONS:
        # Edit only where the row has room: not beside Pay or Withdraw rejection (an approved
        # or rejected bill is changed in the books, or once those are settled).
        buttons.insert(len(buttons) - 1, edit_button(bill.id))
    if buttons:
        blocks.append({"type": "actions", "block_id": actions_block_id(bill.id),
                       "elements": buttons})
    return blocks


def details_button(bill: Bill) -> Block:
    """`Details` (slackapp/details_flow.py): on every row, whatever the bill's state."""
    return {"type": "button", "action_id": ACTION_DETAILS, "text": _plain("Details", 75),
            "value": carried(bill.id)}


def _row_buttons(bill: Bill, state: RowState) -> list[Block]:
    if not bill.status.payable:
        return []  # paid, void or draft: nothing left to decide
    buttons: list[Block] = []
    if not state.approved and not state.rejected_by and not state.held_by:  # no call to act
        buttons.append({"type": "button", "action_id": ACTION_APPROVE, "text": _plain("Approve", 75),
                        "style": "primary", "value": carried(bill.id)})
    else:
        buttons.append({"type": "button", "action_id": ACTION_APPROVE, "text": _plain("Approve", 75),
                        "value": carried(bill.id)})
    buttons.append({"type": "button", "action_id": ACTION_REJECT, "text": _plain("Reject", 75),
                    "style": "danger", "value": carried(bill.id)})
    if state.rejected_by:
        buttons.append({
            "type": "button", "action_id": ACTION_WITHDRAW_REJECTION,
            "text": _plain("Withdraw rejection", 75), "value": carried(bill.id),
            "confirm": {"title": _plain("Withdraw the rejection?", 100),
                        "text": _mrkdwn("The bill can then be approved again. An admin lifting "
                                        "someone else's rejection is asked for a reason."),
                        "confirm": _plain("Withdraw", 30), "deny": _plain("Keep it", 30)}})
    if not state.payment_in_progress:  # a payment decided before any question runs its course
        buttons.append(hold_button(bill.id, state))
    if state.approved and payable_now(bill) and not state.payment_in_progress \
            and not state.held_by:
        supplier = bill.supplier_ref.supplier_name or bill.supplier_ref.id
        buttons.append({
            "type": "button", "action_id": ACTION_PAY, "text": _plain("Pay", 75),
            "style": "primary", "value": carried(bill.id),
            "confirm": {
                "title": _plain("Record a payment?", 100),
                "text": _mrkdwn(_clip(
                    f"Pay *{user_text(supplier, 80)}* for bill "
                    f"*{user_text(bill.reference or bill.id, 60)}*: "
                    f"*{amount_due_text(bill)}* due. You pick the account and amount next; "
                    "nothing is recorded until you submit.", 300)),
                "confirm": _plain("Continue", 30),
                "deny": _plain("Cancel", 30),
            },
        })
        if state.credit_notes:  # in place of Approve, which an approved bill no longer needs
            buttons = [b for b in buttons if b["action_id"] != ACTION_APPROVE]
            buttons.append({"type": "button", "action_id": ACTION_CREDIT,
                            "text": _plain("Apply credit note", 75), "value": carried(bill.id)})
    return buttons


# --- the digest -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageSpec:
    text: str  # notification fallback
    blocks: list[Block]
    bill_ids: list[str]


def digest_messages(bills: list[Bill], states: dict[str, RowState], summary: DigestSummary, *,
                    today: date, within_days: int) -> list[MessageSpec]:
    """The digest as a main message plus thread replies: every due bill, 50 blocks a message."""
    if not bills:
        text = (f":sparkles: No bills are overdue or due in the next {within_days} days "
                f"({today.strftime('%a %d %b')}).")
        return [MessageSpec(text=text, blocks=[{"type": "section", "block_id": "digest-empty",
                                                "text": _mrkdwn(text)}], bill_ids=[])]
    plural = "s" if summary.count != 1 else ""
    header_text = f"Bills due · {today.strftime('%A %d %B %Y')}"
    fallback = _clip(f"{summary.count} bill{plural} due: "
                     + ", ".join(format_money(a, c) for c, a in summary.totals.items()), 300)
    head = bills[:BILLS_IN_MAIN]
    blocks: list[Block] = [
        {"type": "header", "block_id": "digest-header", "text": _plain(header_text, 150)},
        summary_block(summary, within_days=within_days),
        digest_actions_block(),
        {"type": "divider", "block_id": "digest-divider"},
    ]
    for bill in head:
        blocks.extend(bill_row(bill, states.get(bill.id, RowState()), today=today))
    messages = [MessageSpec(text=fallback, blocks=blocks, bill_ids=[b.id for b in head])]
    rest = bills[BILLS_IN_MAIN:]
    if rest:
        blocks.append({"type": "context", "block_id": "digest-continued", "elements": [
            _mrkdwn(f"Showing {len(head)} of {len(bills)} bills; the other {len(rest)} "
                    "follow in this thread.")]})
    for start in range(0, len(rest), BILLS_PER_REPLY):
        chunk = rest[start:start + BILLS_PER_REPLY]
        first = BILLS_IN_MAIN + start + 1
        label = f"Bills {first}–{first + len(chunk) - 1} of {len(bills)}"
        reply: list[Block] = [{"type": "context", "block_id": "digest-part",
                               "elements": [_mrkdwn(label)]}]
        for bill in chunk:
            reply.extend(bill_row(bill, states.get(bill.id, RowState()), today=today))
        messages.append(MessageSpec(text=label, blocks=reply, bill_ids=[b.id for b in chunk]))
    return messages


def replace_bill_row(blocks: list[Block], bill: Bill, state: RowState, *,
                     today: date) -> list[Block] | None:
    """The message's blocks with this bill's row re-rendered, or None if the bill is not there."""
    sid, aid = section_block_id(bill.id), actions_block_id(bill.id)
    index = next((i for i, b in enumerate(blocks) if base_block_id(b.get("block_id")) == sid), None)
    if index is None:
        return None
    end = index + 1
    if end < len(blocks) and base_block_id(blocks[end].get("block_id")) == aid:
        end += 1
    return blocks[:index] + bill_row(bill, state, today=today) + blocks[end:]


# --- /bills answers ----------------------------------------------------------------------------

HELP_TEXT = (
    "*billbot* — approve and pay supplier bills from Slack.\n"
    "• `/bills due [days]` — bills overdue or due within _days_ (default from settings), only to you\n"
    "• `/bills digest` — post the digest of due bills into this channel now\n"
    "• `/bills show <bill>` — a bill (reference, supplier or Codat id; paid ones too)\n"
    "• `/bills payrun` — pay approved bills in one run (payers)\n"
    "• `/bills new` — enter a bill (or run *Create bill* on a message with the invoice)\n"
    "• `/bills away <from> <to> @person` — someone acts for you while you are away; "
    "`/bills back` ends it\n"
    "• `/bills setup` — what is still missing before billbot can work here\n"
    "• `/bills policy` — the approval policy; `/bills policy check <bill>` — which rule applies\n"
    "• `/bills help` — this help"
)

ADMIN_HELP_TEXT = (
    "*Admin commands* (you are a billbot admin):\n"
    "• `/bills approvers add|remove @person` · `/bills approvers list` — who approves\n"
    "• `/bills payers add|remove @person` · `/bills payers list` — who pays\n"
    "• `/bills admins add|remove @person` · `/bills admins list` — who administers billbot\n"
    "• `/bills connect` — connect a Codat company (create it, link its platform) to this channel\n"
    "• `/bills connect <companyId> <connectionId>` — bind this channel to a Codat company\n"
    "• `/bills audit [bill]` — the audit trail, or one bill's\n"
    "• `/bills away list` · `/bills away end @person` — delegations running or planned\n"
    "• `/bills accounts add` — add a bank account to the books (offered in pay forms)\n"
    "• `/bills policy edit` — edit the approval policy in a form (when no BILLBOT_POLICY_FILE keeps it)\n"
    "• `/bills policy reload` — re-read BILLBOT_POLICY_FILE (the running policy stays if it is broken)"
)


def bill_detail_blocks(bill: Bill, attachment_names: list[str], *, today: date) -> list[Block]:
    supplier = user_text(bill.supplier_ref.supplier_name or bill.supplier_ref.id, FIELD_LIMIT)
    total = format_money(bill.total_amount, bill.currency) if bill.total_amount is not None else "—"
    head = (f"*{user_text(bill.reference or bill.id, FIELD_LIMIT)}* · {supplier} · {bill.status.value}\n"
            f"Issued {bill.issue_date.isoformat()} · due {bill.due_date.isoformat()} "
            f"({due_in_words(bill.due_date, today)})\n"
            f"Total {total} · amount due *{amount_due_text(bill)}*")
    blocks: list[Block] = [{"type": "section", "text": _mrkdwn(head)}]
    items = bill.line_items or []
    lines = []
    for item in items[:40]:
        amount = item.total_amount if item.total_amount is not None else item.unit_amount
        lines.append(f"• {user_text(item.description or 'Item', FIELD_LIMIT)} — "
                     f"{quantize(item.quantity, 'XXX')}"
                     f" × {format_money(item.unit_amount, bill.currency)} ="
                     f" {format_money(amount, bill.currency)}")
    if len(items) > 40:
        lines.append(f"…and {len(items) - 40} more lines")
    blocks.append({"type": "section", "text": _mrkdwn(
        "*Line items*\n" + ("\n".join(lines) if lines else "_none recorded_"))})
    names = ", ".join(user_text(n, FIELD_LIMIT) for n in attachment_names) if attachment_names else "_none_"
    blocks.append({"type": "context", "elements": [_mrkdwn(f":paperclip: Attachments: {names}")]})
    blocks.append({"type": "actions", "block_id": actions_block_id(bill.id),
                   "elements": [details_button(bill)]})
    return blocks


# --- modals ------------------------------------------------------------------------------------


def loading_modal(title: str, text: str) -> Block:
    return {"type": "modal", "title": _plain(title, 24), "close": _plain("Close", 24),
            "blocks": [{"type": "section", "text": _mrkdwn(text)}]}


def message_modal(title: str, text: str) -> Block:
    return loading_modal(title, text)


def account_label(account: BankAccountOption) -> str:
    name = account.name or account.id
    extra = f" ({account.currency})" if account.currency else ""
    if account.account_number:
        extra += f" ···{account.account_number[-4:]}"
    return _clip(name + extra, 75)




def row_label(blocks: list[Block], bill_id: str) -> str:
    """The first line of the bill's row in a message ("*INV-1* · Supplier"), else its id."""
    sid = section_block_id(bill_id)
    for block in blocks:
        text = block.get("text") if base_block_id(block.get("block_id")) == sid else None
        if isinstance(text, dict) and isinstance(text.get("text"), str):
            return str(text["text"]).split("\n", 1)[0]
    return f"bill *{escape(bill_id)}*"
