"""The digest as at most three messages whatever the ledger size: the main message (header,
totals, a link to App Home, the most urgent rows), one thread reply with the rest of the rows
up to BILLBOT_DIGEST_MAX_ROWS, and the pointer "N more in App Home or `/bills due`" (in the
last message when it has room, else a third one). Render only."""

from __future__ import annotations

from datetime import date

from billbot.codat.models import Bill
from billbot.domain.digest import DigestSummary
from billbot.money import format_money
from billbot.slackapp.blocks import (
    MAX_MESSAGE_BLOCKS,
    Block,
    MessageSpec,
    bill_row,
    digest_messages,
)
from billbot.slackapp.digest_header import summary_block
from billbot.slackapp.row_model import RowState

BLOCKS_PER_ROW = 2
HOME_LINK_BLOCK = "digest-home"
POINTER_BLOCK = "digest-more"


def _context(block_id: str, text: str) -> Block:
    return {"type": "context", "block_id": block_id,
            "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def home_link_text(home_url: str | None) -> str:
    where = f"<{home_url}|App Home>" if home_url else "billbot's App Home"
    return f":house: Your own queue, with what waits on you, is in {where}."


def capped_digest_messages(bills: list[Bill], states: dict[str, RowState],
                           summary: DigestSummary, *, today: date, within_days: int,
                           max_rows: int, home_url: str | None = None,
                           header_extra: list[Block] | None = None) -> list[MessageSpec]:
    """`bills`: the most urgent of the `summary.count` due (at least the first `max_rows`),
    most urgent first; the rows show the first ones."""
    if not summary.count:
        return digest_messages([], states, summary, today=today, within_days=within_days)
    plural = "s" if summary.count != 1 else ""
    fallback = (f"{summary.count} bill{plural} due: "
                + ", ".join(format_money(a, c) for c, a in summary.totals.items()))[:300]
    head: list[Block] = [
        {"type": "header", "block_id": "digest-header", "text": {
            "type": "plain_text", "text": f"Bills due · {today.strftime('%A %d %B %Y')}",
            "emoji": True}},
        summary_block(summary, within_days=within_days),
        *(header_extra or []),
        _context(HOME_LINK_BLOCK, home_link_text(home_url)),
        {"type": "divider", "block_id": "digest-divider"},
    ]
    # One block of each message stays free for the continuation note or the pointer.
    in_main = max(0, (MAX_MESSAGE_BLOCKS - len(head) - 1) // BLOCKS_PER_ROW)
    in_reply = (MAX_MESSAGE_BLOCKS - 2) // BLOCKS_PER_ROW
    shown = bills[:min(max_rows, in_main + in_reply)]
    main_rows, reply_rows = shown[:in_main], shown[in_main:]
    hidden = summary.count - len(shown)

    def rows(chunk: list[Bill]) -> list[Block]:
        return [b for bill in chunk
                for b in bill_row(bill, states.get(bill.id, RowState()), today=today)]

    pointer = _context(POINTER_BLOCK, _pointer_text(hidden, home_url))
    main = head + rows(main_rows)
    messages = [MessageSpec(text=fallback, blocks=main, bill_ids=[b.id for b in main_rows])]
    if reply_rows:
        main.append(_context("digest-continued", (
            f"Rows {len(main_rows) + 1}–{len(shown)} of the {len(shown)} most urgent follow "
            "in this thread.")))
        label = f"Bills {len(main_rows) + 1}–{len(shown)} of {summary.count}"
        reply = [_context("digest-part", label), *rows(reply_rows)]
        messages.append(MessageSpec(text=label, blocks=reply,
                                    bill_ids=[b.id for b in reply_rows]))
    if hidden:
        last = messages[-1].blocks
        if len(last) < MAX_MESSAGE_BLOCKS:
            last.append(pointer)
        else:
            messages.append(MessageSpec(text=_pointer_text(hidden, None), blocks=[pointer],
                                        bill_ids=[]))
    return messages


def _pointer_text(hidden: int, home_url: str | None) -> str:
    where = f"<{home_url}|App Home>" if home_url else "App Home"
    return f":arrow_right: {hidden} more in {where} or `/bills due`."


__all__ = ["HOME_LINK_BLOCK", "POINTER_BLOCK", "capped_digest_messages", "home_link_text"]
