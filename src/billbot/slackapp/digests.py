"""Publishing the digest: the scheduled tick, the once-a-day claim, and the chat.postMessage
of the main message and its thread replies (each stored so its rows can be re-rendered)."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta

from sqlmodel import Session

from billbot import metrics
from billbot.domain.bill_handles import handles_of
from billbot.domain.copies import shown_of
from billbot.domain.schedule import DigestSchedule
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import bindings as bindings_service
from billbot.services import connect_watch
from billbot.services.bindings import Binding
from billbot.services.open_bills import RefreshDeferred
from billbot.slackapp.app_identity import app_home_url
from billbot.slackapp.blocks import MessageSpec
from billbot.slackapp.digest_actions import digest_actions_block
from billbot.slackapp.digest_blocks import capped_digest_messages
from billbot.slackapp.direct_messages import notify_waiting
from billbot.slackapp.invite_notice import tell_admins_once, unpostable_error
from billbot.slackapp.row_controls import check_rows
from billbot.slackapp.rows import row_states
from billbot.slackapp.usergroups_flow import ensure_policy_groups
from billbot.storage import bill_copies, bill_handles, slack_messages
from billbot.storage.bill_copies import ShownBill

logger = logging.getLogger("billbot.digests")

# A digest claim left "posting" this long (a replica died mid-post) may be taken over.
STALE_DIGEST_CLAIM = timedelta(minutes=10)


async def post_digest(bot: Billbot, channel_id: str, binding: Binding, *,
                      background: bool = False) -> list[str]:
    """Post the digest (main message, then thread replies); returns the messages' ts.
    A `background` (scheduled) digest leaves Codat's last allowance to people's clicks."""
    within = bot.settings.billbot_due_within_days
    max_rows = bot.settings.billbot_digest_max_rows
    # Rows are drawn for at most `max_rows` bills; the rest are only counted and indexed.
    due = await bot.due_digest(binding, within_days=within, rows=max_rows,
                               background=background)
    bills = due.top
    await ensure_policy_groups(bot)  # rows name who is asked next, group members included
    await check_rows(bot, binding, bills, background=background)
    states = await row_states(bot, binding, bills)
    today = bot.today()
    home_url = await app_home_url(bot)

    def build() -> tuple[list[MessageSpec], list[ShownBill]]:
        specs = capped_digest_messages(bills, states, due.summary,
                                       today=today, within_days=within, max_rows=max_rows,
                                       home_url=home_url, header_extra=[digest_actions_block()])
        shown = {bill_id for spec in specs for bill_id in spec.bill_ids}
        # The bills counted in the header but not shown: indexed under the main message, so
        # its totals follow them when they change.
        return specs, [*(shown_of(b) for b in bills if b.id not in shown), *due.rest]

    specs, unshown = await asyncio.to_thread(build)
    by_id = {b.id: b for b in bills}
    shown_ids = [bill_id for spec in specs for bill_id in spec.bill_ids]
    # Handles first: a click on a row posted a moment ago must find its bill.
    handles = handles_of(shown_ids)
    if handles:
        await bot.db(lambda s: bill_handles.remember(
            s, company_id=binding.company_id, connection_id=binding.connection_id,
            handles=handles, at=bot.clock.now()))
    posted: list[str] = []
    thread_ts: str | None = None
    for spec in specs:
        answer = await bot.slack.chat_postMessage(channel=channel_id, text=spec.text,
                                                  blocks=spec.blocks, thread_ts=thread_ts,
                                                  unfurl_links=False, unfurl_media=False)
        ts = str(answer["ts"])
        posted.append(ts)
        thread_ts = thread_ts or ts
        parent = None if ts == thread_ts else thread_ts
        shown = [shown_of(by_id[b]) for b in spec.bill_ids]
        if ts == thread_ts:
            shown += unshown

        def save(session: Session, ts: str = ts, parent: str | None = parent,
                 spec: MessageSpec = spec, shown: list[ShownBill] = shown) -> None:
            now = bot.clock.now()
            slack_messages.save_message(session, channel_id=channel_id, ts=ts,
                                        blocks=spec.blocks, bill_ids=spec.bill_ids, at=now,
                                        thread_ts=parent)
            bill_copies.remember_new(session, channel_id=channel_id, ts=ts,
                                     company_id=binding.company_id,
                                     connection_id=binding.connection_id,
                                     digest_ts=parent or ts, shown=shown, at=now)

        await bot.db(save)
    await bot.db(lambda s: slack_messages.clear_channel_notices(s, channel_id=channel_id))
    event(logger, "digest posted", channel_id=channel_id, bills=due.count, messages=len(posted))
    metrics.digest_posted()
    # The rows shown also go, in dm/both mode, to the people they wait on: in the background,
    # as the posts are paced per DM and the digest's claim is marked posted meanwhile.
    if bot.settings.billbot_notify != "channel":
        shown_bills = [by_id[b] for b in shown_ids]

        async def send() -> None:
            await notify_waiting(bot, binding, shown_bills)
        bot.later.request(f"digest-dms:{channel_id}:{posted[0]}", send)
    return posted


def due_digest_day(bot: Billbot) -> date | None:
    """The local day whose digest is due now, if any (the job engine's sweep asks too)."""
    s = bot.settings
    schedule = DigestSchedule(at=s.billbot_digest_at, days=s.billbot_digest_days,
                              tz=s.billbot_timezone)
    return schedule.due_day(bot.clock.now())


async def digest_tick(bot: Billbot) -> None:
    """Post today's digest in every bound channel that has not had it yet."""
    day = due_digest_day(bot)
    if day is None:
        return
    bound = await bot.db(lambda session: bindings_service.list_bindings(session), read_only=True)
    for binding in bound:
        # Paused: its workspace uninstalled billbot. OAuth mode: posted with its own token.
        if not binding.paused and await bot.enter_workspace(binding.workspace):
            await scheduled_digest(bot, binding, day)


async def scheduled_digest(bot: Billbot, binding: Binding, day: date) -> bool:
    """Claim the (channel, local day) row, post, mark posted; False if another won."""
    channel = binding.channel_id
    now = bot.clock.now()
    if await bot.db(lambda s: connect_watch.paused(
            s, channel_id=channel, company_id=binding.company_id,
            connection_id=binding.connection_id), read_only=True):
        return False  # its connection is disconnected: told when it happened and when resumed
    claimed = await bot.db(lambda s: slack_messages.claim_digest(
        s, channel_id=channel, local_date=day, at=now, stale_before=now - STALE_DIGEST_CLAIM))
    if not claimed:
        return False
    try:
        posted = await post_digest(bot, channel, binding, background=True)
    except RefreshDeferred:
        # Codat's allowance is nearly spent and nothing is cached: a later tick tries again.
        await bot.db(lambda s: slack_messages.release_digest(s, channel_id=channel, local_date=day))
        event(logger, "digest deferred", channel_id=channel)
        return False
    except Exception as exc:
        refused = unpostable_error(exc)
        if refused is not None:
            # Retrying every tick cannot help until someone invites the bot: keep the claim
            # (a stale claim is retried after STALE_DIGEST_CLAIM) and tell the admins.
            await tell_admins_once(bot, channel, refused)
            return False
        # Nothing reached Slack (or we cannot tell): give the claim back so a later tick
        # inside the window retries, rather than silently skipping the day.
        await bot.db(lambda s: slack_messages.release_digest(s, channel_id=channel, local_date=day))
        raise
    await bot.db(lambda s: slack_messages.mark_digest_posted(
        s, channel_id=channel, local_date=day, message_ts=posted[0], at=bot.clock.now()))
    return True
