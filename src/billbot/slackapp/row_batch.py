"""Many bills' rows at once (a pay run, Approve all): every message showing any of them
re-rendered ONCE, with all its changed rows and its digest summary, instead of one
chat.update per bill.

chat.update is Tier 3 (about 50 a minute): a 200-bill run touches ~9 digest messages, not 200
updates. Each message is rendered under the same compare-and-set on its stored version as
`rows.refresh_row` (a render never overwrites a newer one) and its per-message lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence

from sqlmodel import Session

from billbot.codat.errors import CodatError
from billbot.codat.models import Bill
from billbot.domain.copies import shown_of, summarise_shown
from billbot.runtime import Billbot
from billbot.services.bill_search import bills_by_id
from billbot.services.bindings import Binding
from billbot.slackapp.blocks import replace_bill_row
from billbot.slackapp.digest_header import replace_summary
from billbot.slackapp.rows import fallback_text, row_states_for, undo_clock
from billbot.storage import bill_copies, slack_messages

logger = logging.getLogger("billbot.rows")


async def refresh_rows(bot: Billbot, binding: Binding, bill_ids: Iterable[str]) -> int:
    """Re-read the bills (any status) and re-render them wherever shown; messages updated."""
    wanted = list(dict.fromkeys(bill_ids))
    try:
        bills = await bills_by_id(bot.codat, binding.company_id, binding.connection_id, wanted)
    except CodatError as exc:
        logger.warning("pay-run rows not refreshed: %s", exc.__class__.__name__)
        return 0
    return await refresh_read_rows(bot, binding, list(bills.values()))


async def refresh_read_rows(bot: Billbot, binding: Binding, bills: Sequence[Bill]) -> int:
    """Re-render bills just read from Codat wherever shown (Approve all); messages updated."""
    by_id = {bill.id: bill for bill in bills}

    def places(session: Session) -> dict[tuple[str, str], set[str]]:
        found: dict[tuple[str, str], set[str]] = {}
        for bill_id in by_id:
            for place in bill_copies.places_of(session, company_id=binding.company_id,
                                               connection_id=binding.connection_id,
                                               bill_id=bill_id):
                found.setdefault((place.channel_id, place.ts), set()).add(bill_id)
                if place.digest_ts:
                    found.setdefault((place.channel_id, place.digest_ts), set())
        return found

    updated = 0
    for (channel, ts), ids in (await bot.db(places, read_only=True)).items():
        try:
            if await _refresh_message(bot, binding, channel, ts, [by_id[i] for i in ids]):
                updated += 1
        except Exception:
            # One copy (deleted, channel archived) must not stop the others.
            logger.warning("a message showing these bills could not be refreshed")
    return updated


async def _refresh_message(bot: Billbot, binding: Binding, channel_id: str, ts: str,
                           bills: list[Bill]) -> bool:
    today = bot.today()

    def render(session: Session) -> tuple[list[dict[str, object]] | None, bool]:
        stored = slack_messages.get_message(session, channel_id=channel_id, ts=ts)
        if stored is None:
            return None, True
        blocks = list(stored.blocks)
        states = row_states_for(session, binding, bills, bot.policy, undo_clock=undo_clock(bot))
        changed = False
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
            return None, True
        written = slack_messages.update_message_blocks(
            session, channel_id=channel_id, ts=ts, expected_version=stored.version,
            blocks=blocks, at=bot.clock.now())
        return blocks, written

    lock = bot.row_locks.setdefault((channel_id, ts), asyncio.Lock())
    async with lock:
        for _ in range(5):
            blocks, written = await bot.db(render)
            if blocks is None:
                return False
            if written:
                await bot.slack.chat_update(channel=channel_id, ts=ts,
                                            text=fallback_text(blocks), blocks=blocks)
                return True
    logger.warning("pay-run row refresh gave up after repeated conflicts")
    return False


__all__ = ["refresh_read_rows", "refresh_rows"]
