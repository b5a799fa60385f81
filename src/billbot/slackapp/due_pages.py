"""`/bills due` a page at a time: a long list (thousands of due bills) shows PAGE_LINES lines
and Previous/Next buttons; a click re-reads the bills and replaces the person's ephemeral list
through its response_url. The page is the button's value, never trusted beyond a number."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from billbot.codat.errors import CodatError
from billbot.codat.models import Bill
from billbot.domain.digest import DigestSummary, due_in_words, summarise
from billbot.runtime import Billbot
from billbot.slackapp.blocks import FIELD_LIMIT, Block, amount_due_text
from billbot.slackapp.digest_header import totals_text
from billbot.slackapp.mrkdwn import clip_mrkdwn, user_text
from billbot.slackapp.payload import text_at

logger = logging.getLogger("billbot.due_pages")

ACTION_DUE_PAGE = "due_page"
PAGE_LINES = 100
# A section holds 3000 characters: lines are packed into sections below that.
SECTION_CHARS = 2900


def _text(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip_mrkdwn(text, 3000)}


def due_page_blocks(bills: list[Bill], summary: DigestSummary, *, today: date, days: int,
                    page: int = 0) -> list[Block]:
    """One page of the compact, button-free list (at most PAGE_LINES bills), with paging."""
    if not bills:
        return [{"type": "section", "text": _text(
            f"No bills are overdue or due in the next {days} days.")}]
    pages = -(-len(bills) // PAGE_LINES)
    page = min(max(page, 0), pages - 1)
    blocks: list[Block] = [{"type": "section", "text": _text(
        f"*{summary.count} bill{'s' if summary.count != 1 else ''}* overdue or due within "
        f"{days} days. *Total due:* {totals_text(summary)}")}]
    chunk: list[str] = []
    for b in bills[page * PAGE_LINES:(page + 1) * PAGE_LINES]:
        line = (f"• *{user_text(b.reference or b.id, FIELD_LIMIT)}* · "
                f"{user_text(b.supplier_ref.supplier_name or b.supplier_ref.id, FIELD_LIMIT)} · "
                f"{amount_due_text(b)} · {due_in_words(b.due_date, today)}")
        if chunk and sum(len(x) + 1 for x in chunk) + len(line) > SECTION_CHARS:
            blocks.append({"type": "section", "text": _text("\n".join(chunk))})
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append({"type": "section", "text": _text("\n".join(chunk))})
    if pages > 1:
        first = page * PAGE_LINES + 1
        last = min(len(bills), (page + 1) * PAGE_LINES)
        blocks.append({"type": "context", "elements": [_text(
            f"Bills {first}–{last} of {len(bills)} · page {page + 1} of {pages}")]})
        buttons = []
        if page > 0:
            buttons.append({"type": "button", "action_id": f"{ACTION_DUE_PAGE}:prev",
                            "text": {"type": "plain_text", "text": "Previous"},
                            "value": f"{days}:{page - 1}"})
        if page < pages - 1:
            buttons.append({"type": "button", "action_id": f"{ACTION_DUE_PAGE}:next",
                            "text": {"type": "plain_text", "text": "Next"},
                            "value": f"{days}:{page + 1}"})
        blocks.append({"type": "actions", "block_id": "due-pager", "elements": buttons})
    return blocks


async def due_page_clicked(bot: Billbot, body: dict[str, Any], respond: Any) -> None:
    """Previous/Next on a `/bills due` list: the page asked for, read afresh, in its place."""
    channel = text_at(body, "channel", "id", limit=64) or text_at(
        body, "container", "channel_id", limit=64)
    value = text_at(body, "actions", 0, "value", limit=16) or ""
    days, _, page = value.partition(":")
    if not (channel and days.isdigit() and page.isdigit() and int(days) <= 365):
        return
    binding = await bot.binding_for(channel)
    if binding is None:
        return
    try:
        bills = await bot.due_bills(binding, within_days=int(days))
    except CodatError:
        logger.warning("due page could not be read")
        await respond(text="Codat did not answer just now. Try again shortly.",
                      response_type="ephemeral")
        return
    today = bot.today()
    blocks = due_page_blocks(bills, summarise(bills, today=today), today=today,
                             days=int(days), page=int(page))
    await respond(text=f"{len(bills)} bills due within {days} days", blocks=blocks,
                  replace_original=True)


__all__ = ["ACTION_DUE_PAGE", "PAGE_LINES", "due_page_blocks", "due_page_clicked"]
