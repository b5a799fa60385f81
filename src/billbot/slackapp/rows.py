"""A bill's row: what it shows (read from the services' approval state) and its re-render in
place in the message that shows it (chat.update), moving forward only."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from billbot.codat.models import Bill
from billbot.domain.copies import shown_of, summarise_shown
from billbot.runtime import Billbot
from billbot.services.bindings import Binding
from billbot.slackapp import direct_messages, home
from billbot.slackapp.bill_thread import publish_history
from billbot.slackapp.blocks import replace_bill_row
from billbot.slackapp.digest_header import replace_summary
from billbot.slackapp.row_model import RowState
from billbot.slackapp.row_states import UndoClock, row_state_for, row_states_for
from billbot.storage import bill_copies, slack_messages

logger = logging.getLogger("billbot.rows")

__all__ = ["fallback_text", "refresh_row", "row_state_for", "row_states", "row_states_for",
           "undo_clock"]

def undo_clock(bot: Billbot) -> UndoClock:
    """Now and the undo window: rows drawn with them offer Undo payment and Delete bill."""
    return bot.clock.now(), timedelta(hours=bot.settings.billbot_undo_window_hours)


async def row_states(bot: Billbot, binding: Binding, bills: Sequence[Bill]) -> dict[str, RowState]:
    return await bot.db(lambda s: row_states_for(s, binding, bills, bot.policy,
                                                 undo_clock=undo_clock(bot)), read_only=True)


async def refresh_row(bot: Billbot, *, channel_id: str, ts: str, bill: Bill, binding: Binding,
                      clicked_blocks: list[dict[str, Any]] | None = None) -> None:
    """Re-render the bill's row in the message clicked and in every other message that shows
    it (older digests, thread replies), then the header of each digest that holds it."""
    places = await bot.db(lambda s: bill_copies.places_of(
        s, company_id=binding.company_id, connection_id=binding.connection_id,
        bill_id=bill.id), read_only=True)
    targets = [(channel_id, ts)] + [(p.channel_id, p.ts) for p in places]
    headers = [(p.channel_id, p.digest_ts) for p in places if p.digest_ts]
    done: set[tuple[str, str]] = set()
    for channel, message_ts in [*targets, *headers]:
        if (channel, message_ts) in done:
            continue
        done.add((channel, message_ts))
        try:
            await _refresh_message(bot, channel_id=channel, ts=message_ts, bill=bill,
                                   binding=binding,
                                   clicked_blocks=clicked_blocks if message_ts == ts else None)
        except Exception:
            if message_ts == ts and channel == channel_id:
                raise
            # Another copy (deleted, channel archived) must not stop the others.
            logger.warning("a copy of the bill could not be refreshed")
    await personal_copies(bot, binding, bill)
    try:
        await publish_history(bot, binding, bill.id)
    except Exception:
        # The recovery tick posts what is left (bill_thread.history_tick).
        logger.warning("the bill's thread history could not be posted now")


async def personal_copies(bot: Billbot, binding: Binding, bill: Bill) -> None:
    """The bill changed: a DM card to whoever it now waits on (dm/both), and the Home views
    that show it (or should now) re-published. Never fails the action that changed it."""
    try:
        await direct_messages.notify_waiting(bot, binding, [bill])
        await home.bill_changed(bot, binding, bill)
    except Exception:
        logger.warning("personal copies of the bill could not be brought up to date")


async def _refresh_message(bot: Billbot, *, channel_id: str, ts: str, bill: Bill,
                           binding: Binding,
                           clicked_blocks: list[dict[str, Any]] | None = None) -> None:
    """Re-render one bill's row in place in the message that shows it (chat.update), and the
    message's digest summary when it has one.

    The approval and payment state is read in the same transaction that stores the new
    blocks (compare-and-set on the message's version), so a render made from a state read
    earlier can never overwrite one made from a later state: the stored row only moves
    forward. The stored blocks are the source of truth (a concurrent update to another bill
    of the same message is not lost); the clicked message's blocks serve for messages
    billbot did not store. One lock per message keeps this process's updates in order.
    """
    today = bot.today()

    def render(session: Session) -> tuple[list[dict[str, Any]] | None, int | None, bool]:
        """(blocks to show, their stored version, written); (None, ..) when the row is
        not in this message."""
        stored = slack_messages.get_message(session, channel_id=channel_id, ts=ts)
        blocks = list(stored.blocks) if stored else list(clicked_blocks or [])
        state = row_state_for(session, binding, bill, bot.policy, undo_clock=undo_clock(bot))
        new = replace_bill_row(blocks, bill, state, today=today)
        # A digest indexes the bills it counts but has no room to show under its main
        # message too: their figures follow the bill as well, so its totals stay right.
        bill_copies.update_shown(session, channel_id=channel_id, ts=ts, shown=shown_of(bill),
                                 at=bot.clock.now())
        shown = bill_copies.digest_shown(session, channel_id=channel_id, digest_ts=ts)
        if shown:  # a digest's main message: its totals follow what its rows show now
            new = replace_summary(new if new is not None else blocks,
                                  summarise_shown(shown, today=today),
                                  within_days=bot.settings.billbot_due_within_days) or new
        if new is None or stored is None:
            return new, None, True
        expected = stored.version  # read first: the ORM update refreshes `stored`
        written = slack_messages.update_message_blocks(
            session, channel_id=channel_id, ts=ts, expected_version=expected,
            blocks=new, at=bot.clock.now())
        return new, expected + 1, written

    lock = bot.row_locks.setdefault((channel_id, ts), asyncio.Lock())
    async with lock:
        for _ in range(5):
            new, version, written = await bot.db(render)
            if new is None:
                return
            if not written:
                continue  # another replica re-rendered this message first: redo on top
            await bot.slack.chat_update(channel=channel_id, ts=ts, text=fallback_text(new),
                                         blocks=new)
            if version is not None:
                await _resend_if_overtaken(bot, channel_id, ts, version)
            return
        logger.warning("row refresh gave up after repeated conflicts")


async def _resend_if_overtaken(bot: Billbot, channel_id: str, ts: str, version: int) -> None:
    """Another replica may have stored a newer render whose chat.update reached Slack
    before ours: then the newest stored blocks are sent again, so they land last."""
    for _ in range(3):
        latest = await bot.db(lambda s: slack_messages.get_message(s, channel_id=channel_id,
                                                                 ts=ts), read_only=True)
        if latest is None or latest.version == version:
            return
        version = latest.version
        blocks = list(latest.blocks)
        await bot.slack.chat_update(channel=channel_id, ts=ts, text=fallback_text(blocks),
                                     blocks=blocks)


def fallback_text(blocks: list[dict[str, Any]]) -> str:
    for block in blocks:
        if block.get("type") in ("header", "section") and isinstance(block.get("text"), dict):
            return str(block["text"]["text"])[:300]
    return "billbot"


