"""Running a pay run: its intents sent with bounded concurrency through the single payment's
runner (`PaymentRunner.execute`, same key on every retry), live progress in the pay-run modal
and the pay-run message (paced: one update every couple of seconds), and at the end every
bill's row, the run marked finished. `recover_pay_runs` (a recovery-tick step) finishes runs
whose process died: the intents themselves are finished by the payment recovery.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from functools import partial

from billbot.codat.pacing import in_background
from billbot.runtime import Billbot
from billbot.services import payruns
from billbot.services.bindings import Binding
from billbot.services.payruns import Progress
from billbot.slackapp.interactions import ephemeral
from billbot.slackapp.payment_outcomes import show_outcome
from billbot.slackapp.payrun_blocks import failures_text, progress_modal, run_message
from billbot.slackapp.row_batch import refresh_rows

logger = logging.getLogger("billbot.payruns")

CONCURRENCY = 4  # payments in flight at once per run
REPORT_EVERY = 2.0  # seconds between progress updates (chat.update is Tier 3: ~50/min)


def run_lease(bot: Billbot) -> timedelta:
    return bot.payments.settings.lease


async def read_progress(bot: Billbot, run_id: uuid.UUID) -> Progress | None:
    return await bot.db(lambda s: payruns.progress(s, run_id), read_only=True)


async def show_progress(bot: Billbot, p: Progress, *, modal: bool = True) -> None:
    """The run's message (posted the first time) and, while open, its modal."""
    text, blocks = run_message(p)
    try:
        if p.message_ts:
            await bot.slack.chat_update(channel=p.channel_id, ts=p.message_ts, text=text,
                                        blocks=blocks)
        else:
            answer = await bot.slack.chat_postMessage(channel=p.channel_id, text=text,
                                                      blocks=blocks, unfurl_links=False)
            ts = str(answer["ts"])
            await bot.db(lambda s: payruns.set_slack_places(s, p.run_id, message_ts=ts))
    except Exception:
        logger.warning("the pay-run message could not be posted or updated")
    if modal and p.view_id:
        try:
            await bot.slack.views_update(view_id=p.view_id, view=progress_modal(p))
        except Exception:
            logger.info("the pay-run modal could not be updated (closed?)")


class _Reporter:
    """Shows progress at most every REPORT_EVERY seconds while the run is driven, and keeps
    the run's lease (so recovery leaves a live run alone)."""

    def __init__(self, bot: Billbot, run_id: uuid.UUID) -> None:
        self._bot, self._run_id = bot, run_id
        self._changed = asyncio.Event()
        self._stopped = False

    def poke(self) -> None:
        self._changed.set()

    async def loop(self) -> None:
        bot = self._bot
        while not self._stopped:
            await asyncio.sleep(REPORT_EVERY)
            until = bot.clock.now() + run_lease(bot)
            await bot.db(partial(payruns.renew, run_id=self._run_id, until=until))
            if self._changed.is_set() and not self._stopped:
                self._changed.clear()
                p = await read_progress(bot, self._run_id)
                if p is not None:
                    await show_progress(bot, p)

    def stop(self) -> None:
        self._stopped = True


@in_background
async def drive(bot: Billbot, run_id: uuid.UUID, intent_ids: list[uuid.UUID],
                binding: Binding) -> None:
    """Send every intent of the run, then settle it (rows, message, modal, finished).

    Its Codat calls are paced as background work: a run of hundreds of bills would otherwise
    pass Codat's per-minute limit in seconds, and a person's single clicks keep going first."""
    reporter = _Reporter(bot, run_id)
    ticking = asyncio.create_task(reporter.loop())
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(intent_id: uuid.UUID) -> None:
        async with slots:
            try:
                outcome = await bot.payments.execute(intent_id, bot.payment_codat,
                                                     bot.payment_codat.push)
                await show_outcome(bot, outcome)  # no row of its own: recorded as shown
            except Exception:
                # Its intent stays open; the payment recovery finishes it with the same key.
                logger.exception("pay-run payment %s did not finish here", intent_id)
            reporter.poke()

    try:
        await asyncio.gather(*(one(i) for i in intent_ids))
    finally:
        reporter.stop()
        ticking.cancel()
    await settle(bot, run_id, binding)


async def settle(bot: Billbot, run_id: uuid.UUID, binding: Binding) -> None:
    """Every bill's row, then finished (when no intent is open) and the final progress."""
    p = await read_progress(bot, run_id)
    if p is None:
        return
    await refresh_rows(bot, binding, p.bill_ids)
    finished = await bot.db(lambda s: payruns.finish(s, run_id, at=bot.clock.now()))
    final = await read_progress(bot, run_id)
    if final is not None:
        await show_progress(bot, final)
        if finished and final.failures:  # once per attempt: only the finishing call tells
            await ephemeral(bot, final.channel_id, final.payer_id, failures_text(final))


async def recover_pay_runs(bot: Billbot) -> None:
    """Recovery-tick step: runs whose driver vanished (lease over) are shown and settled once
    their intents are final (the payment recovery finishes those with the same keys)."""
    now = bot.clock.now()
    stale = await bot.db(lambda s: payruns.stale_runs(s, now=now), read_only=True)
    for run_id in stale:
        until = now + run_lease(bot)
        if not await bot.db(partial(payruns.claim_stale, run_id=run_id, now=now,
                                    until=until)):
            continue
        try:
            p = await read_progress(bot, run_id)
            binding = await bot.binding_for(p.channel_id) if p is not None else None
            if p is None or binding is None:
                continue
            if p.settled:
                await settle(bot, run_id, binding)
            else:
                await show_progress(bot, p)
        except Exception:
            logger.exception("recovery of pay run %s failed", run_id)


__all__ = ["CONCURRENCY", "drive", "read_progress", "recover_pay_runs", "settle",
           "show_progress"]
