"""App Home's Block Kit (render only): the Home tab of someone with a finance role ("Waiting
for you", "On hold", "Rejected", "Paid in the last 7 days", each a page at a time, most urgent
first) and of someone without one (what billbot is and who the admins are).

A bill's buttons are the channel row's (same action ids and values), so every server check
applies to a click from Home. A Home click carries no channel: the actions block's id names
the channel bound to the bill's company (`home-actions|<channel>|<key>`), which billbot itself
wrote into the view; Slack signs the payload that carries it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from billbot.codat.models import Bill
from billbot.money import format_money
from billbot.slack_web.block_revisions import base_block_id
from billbot.slackapp.blocks import Block, actions_block_id, bill_key, bill_row, mention
from billbot.slackapp.mrkdwn import clip_mrkdwn, user_text
from billbot.slackapp.row_model import RowState
from billbot.storage import personal

HOME_ACTIONS_PREFIX = "home-actions|"
# A Home click's stand-in for a message ts: no message shows it, so none is re-rendered.
HOME_TS = personal.HOME_TS
ACTION_HOME_PAGE = "home_page"
# `Pay approved bills` in Home: no channel, so the payer picks the company if several.
ACTION_HOME_PAYRUN = "home_payrun_open"
ACTION_HOME_APPROVE_ALL = "home_approve_all"
MAX_HOME_BLOCKS = 100  # Slack's limit for a Home view

# Section name → rows a page shows (2 blocks a row; 4 sections stay under 100 blocks).
WAITING, HELD, REJECTED, PAID = "waiting", "held", "rejected", "paid"
PAGE_SIZE = {WAITING: 12, HELD: 5, REJECTED: 5, PAID: 10}
TITLES = {WAITING: "Waiting for you", HELD: "On hold", REJECTED: "Rejected",
          PAID: "Paid in the last 7 days"}


@dataclass(frozen=True)
class HomeRow:
    """A bill in a Home section, with the channel bound to its company."""

    bill: Bill
    state: RowState
    channel_id: str


@dataclass(frozen=True)
class PaidLine:
    reference: str
    supplier: str
    amount: Decimal
    currency: str
    payer_id: str
    at: datetime


@dataclass
class HomeContent:
    roles: list[str]
    sections: dict[str, list[HomeRow]] = field(default_factory=dict)
    paid: list[PaidLine] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)
    # Blocks another feature adds under the title (e.g. `Pay approved bills`, `Approve all`).
    extra_actions: list[Block] = field(default_factory=list)


def home_actions_block_id(channel_id: str, bill_id: str) -> str:
    return f"{HOME_ACTIONS_PREFIX}{channel_id}|{bill_key(bill_id)}"


def channel_of_home_block(block_id: str | None) -> str | None:
    """The bound channel a Home actions block names, or None for any other block."""
    base = base_block_id(block_id) if block_id else ""
    if not base or not base.startswith(HOME_ACTIONS_PREFIX):
        return None
    parts = base.split("|")
    return parts[1] if len(parts) == 3 and 0 < len(parts[1]) <= 64 else None


def _text(text: str) -> Block:
    return {"type": "mrkdwn", "text": clip_mrkdwn(text, 3000)}


def _title(text: str, block_id: str) -> Block:
    return {"type": "header", "block_id": block_id,
            "text": {"type": "plain_text", "text": text[:150], "emoji": True}}


def no_role_view(admins: list[str]) -> Block:
    who = ", ".join(mention(a) for a in admins[:20]) if admins else "nobody yet"
    blocks: list[Block] = [
        _title("billbot", "home-title"),
        {"type": "section", "block_id": "home-about", "text": _text(
            "billbot posts a daily digest of the supplier bills that are overdue or due soon; "
            "approvers approve or reject them, payers record payments in the company's "
            "accounting software, and every decision lands in an audit trail.")},
        {"type": "section", "block_id": "home-no-role", "text": _text(
            "You have no finance role in billbot, so no bills wait on you. "
            f"To get one, ask an admin: {who}.")},
    ]
    return {"type": "home", "blocks": blocks}


def page_of(rows_total: int, section: str, pages: dict[str, int]) -> tuple[int, int]:
    """(page shown, number of pages), the page clamped to what exists."""
    size = PAGE_SIZE[section]
    count = max(1, -(-rows_total // size))
    return min(max(pages.get(section, 0), 0), count - 1), count


def _pager(section: str, page: int, count: int) -> list[Block]:
    if count <= 1:
        return []
    buttons: list[Block] = []
    if page > 0:
        buttons.append({"type": "button", "action_id": f"{ACTION_HOME_PAGE}:prev",
                        "text": {"type": "plain_text", "text": "Previous"},
                        "value": f"{section}:{page - 1}"})
    if page < count - 1:
        buttons.append({"type": "button", "action_id": f"{ACTION_HOME_PAGE}:next",
                        "text": {"type": "plain_text", "text": "Next"},
                        "value": f"{section}:{page + 1}"})
    return [{"type": "context", "block_id": f"home-page-{section}",
             "elements": [_text(f"Page {page + 1} of {count}")]},
            {"type": "actions", "block_id": f"home-pager-{section}", "elements": buttons}]


def _row(row: HomeRow, today: date) -> list[Block]:
    blocks = bill_row(row.bill, row.state, today=today)
    aid = actions_block_id(row.bill.id)
    for block in blocks:
        if block.get("block_id") == aid:
            block["block_id"] = home_actions_block_id(row.channel_id, row.bill.id)
    return blocks


def _section(section: str, rows: list[HomeRow], pages: dict[str, int],
             today: date) -> list[Block]:
    page, count = page_of(len(rows), section, pages)
    size = PAGE_SIZE[section]
    blocks: list[Block] = [_title(f"{TITLES[section]} ({len(rows)})", f"home-{section}")]
    if not rows:
        blocks.append({"type": "context", "block_id": f"home-{section}-none",
                       "elements": [_text("Nothing here.")]})
        return blocks
    for row in rows[page * size:(page + 1) * size]:
        blocks.extend(_row(row, today))
    return blocks + _pager(section, page, count)


def _paid(lines: list[PaidLine], pages: dict[str, int]) -> list[Block]:
    page, count = page_of(len(lines), PAID, pages)
    size = PAGE_SIZE[PAID]
    blocks: list[Block] = [_title(f"{TITLES[PAID]} ({len(lines)})", f"home-{PAID}")]
    if not lines:
        return [*blocks, {"type": "context", "block_id": f"home-{PAID}-none",
                          "elements": [_text("Nothing here.")]}]
    text = "\n".join(
        f"• *{user_text(p.reference, 80)}* · {user_text(p.supplier, 80)} · "
        f"{format_money(p.amount, p.currency)} by {mention(p.payer_id)} on "
        f"{p.at.strftime('%a %d %b')}" for p in lines[page * size:(page + 1) * size])
    blocks.append({"type": "section", "block_id": f"home-{PAID}-list", "text": _text(text)})
    return blocks + _pager(PAID, page, count)


def home_view(content: HomeContent, *, today: date) -> Block:
    """The Home tab of a person with a role: four sections, each one page, under 100 blocks."""
    roles = ", ".join(content.roles)
    blocks: list[Block] = [
        _title("Bills", "home-title"),
        {"type": "context", "block_id": "home-roles", "elements": [_text(
            f"You are {roles} in billbot · {today.strftime('%a %d %b %Y')}")]},
        *content.extra_actions,
    ]
    for section in (WAITING, HELD, REJECTED):
        blocks.extend(_section(section, content.sections.get(section, []), content.pages,
                               today))
    blocks.extend(_paid(content.paid, content.pages))
    return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}


def rows_sorted(rows: list[HomeRow]) -> list[HomeRow]:
    """Most urgent first: the earliest due date, then the largest amount due."""
    return sorted(rows, key=lambda r: (r.bill.due_date, -(r.bill.amount_due or 0), r.bill.id))


__all__ = ["ACTION_HOME_APPROVE_ALL", "ACTION_HOME_PAGE", "ACTION_HOME_PAYRUN", "HELD",
           "HOME_ACTIONS_PREFIX", "HOME_TS",
           "PAGE_SIZE", "PAID",
           "REJECTED", "WAITING",
           "HomeContent", "HomeRow", "PaidLine", "channel_of_home_block",
           "home_actions_block_id", "home_view", "no_role_view", "page_of", "rows_sorted"]
