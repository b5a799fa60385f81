"""Re-rendering many bills' rows at once (after Approve all): one chat.update per message that
shows any of them, rather than one per bill and copy, so a batch stays within Slack's
chat.update pacing (Tier 3) however many rows of a message changed.

Each message is re-rendered as `rows.refresh_row` does it: states read in the transaction
that stores the new blocks (compare-and-set on the message's version), digest headers from
what their rows show, one lock per message in this process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from billbot.codat.models import Bill
from billbot.domain.copies import shown_of, summarise_shown
from billbot.runtime import Billbot
from billbot.services.bindings import Binding
from billbot.slackapp.blocks import replace_bill_row
from billbot.slackapp.digest_header import replace_summary
from billbot.slackapp.rows import fallback_text, row_states_for
from billbot.storage import bill_copies, slack_messages

logger = logging.getLogger("billbot.rows")

Place = tuple[str, str]


async def refresh_rows(bot: Billbot, *, binding: Binding, bills: Sequence[Bill]) -> None:
    """Every copy of these bills' rows, and the header of each digest holding one."""
    by_id = {b.id: b for b in bills}

    def places(session: Session) -> dict[Place, list[str]]:
        found: dict[Place, list[str]] = {}
        for bill_id in by_id:
            for p in bill_copies.places_of(session, company_id=binding.company_id,
                                           connection_id=binding.connection_id,
                                           bill_id=bill_id):
                found.setdefault((p.channel_id, p.ts), []).append(bill_id)
                if p.digest_ts:
                    found.setdefault((p.channel_id, p.digest_ts), [])
        return found

    for (channel, ts), ids in (await bot.db(places, read_only=True)).items():
        try:
            await _refresh_message(bot, channel, ts, [by_id[i] for i in ids], binding)
        except Exception:
            # One copy (deleted, channel archived) must not stop the others.
            logger.warning("a message showing approved bills could not be refreshed")


async def _refresh_message(bot: Billbot, channel_id: str, ts: str, bills: list[Bill],
                           binding: Binding) -> None:
    today = bot.today()

    def render(session: Session) -> tuple[list[dict[str, Any]] | None, int, bool]:
        stored = slack_messages.get_message(session, channel_id=channel_id, ts=ts)
        if stored is None:
            return None, 0, False
        blocks: list[dict[str, Any]] = list(stored.blocks)
        changed = False
        states = row_states_for(session, binding, bills, bot.policy)
        for bill in bills:
            new = replace_bill_row(blocks, bill, states[bill.id], today=today)
            if new is not None:
                blocks, changed = new, True
                bill_copies.update_shown(session, channel_id=channel_id, ts=ts,
                                         shown=shown_of(bill), at=bot.clock.now())
        shown = bill_copies.digest_shown(session, channel_id=channel_id, digest_ts=ts)
        if shown:
            summary = replace_summary(blocks, summarise_shown(shown, today=today),
                                      within_days=bot.settings.billbot_due_within_days)
            if summary is not None:
                blocks, changed = summary, True
        if not changed:
            return None, 0, False
        expected = stored.version  # read first: the ORM update refreshes `stored`
        written = slack_messages.update_message_blocks(
            session, channel_id=channel_id, ts=ts, expected_version=expected, blocks=blocks,
            at=bot.clock.now())
        return blocks, expected + 1, written

    lock = bot.row_locks.setdefault((channel_id, ts), asyncio.Lock())
    async with lock:
        for _ in range(5):
            blocks, version, written = await bot.db(render)
            if blocks is None:
                return
            if not written:
                continue  # another replica re-rendered this message first: redo on top
            await bot.slack.chat_update(channel=channel_id, ts=ts, text=fallback_text(blocks),
                                        blocks=blocks)
            await _resend_if_overtaken(bot, channel_id, ts, version)
            return
        logger.warning("rows refresh gave up after repeated conflicts")


async def _resend_if_overtaken(bot: Billbot, channel_id: str, ts: str, version: int) -> None:
    """A newer render stored by another replica may have reached Slack before ours: then the
    newest stored blocks are sent again, so they land last."""
    for _ in range(3):
        latest = await bot.db(lambda s: slack_messages.get_message(
            s, channel_id=channel_id, ts=ts), read_only=True)
        if latest is None or latest.version == version:
            return
        version = latest.version
        blocks = list(latest.blocks)
        await bot.slack.chat_update(channel=channel_id, ts=ts, text=fallback_text(blocks),
                                    blocks=blocks)


__all__ = ["refresh_rows"]
