"""The reminder tick: in working hours, remind approvers of unapproved bills that are due soon
and escalate late ones to the admins, each once per bill, recipient and local day.

Where they go follows BILLBOT_NOTIFY (contract): `dm` sends direct messages only; `both` sends
them and posts in the bill's thread; `channel`, which sends no direct messages, posts in the
bill's thread only (mentioning the people it is for). The bills reminded in one thread at one
tick share one post, a line each (a digest's thread would otherwise get a post per row, each
waiting its turn under Slack's one post a second per channel); it carries no link, the rows
being in that thread. A DM links to the row (chat.getPermalink, Tier 4: asked once per
message in a round). A claim row is written per
bill and recipient before each send (`storage/reminders.py`), so replicas, double fires and
restarts send it once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from functools import partial

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from billbot.domain.reminders import working_day
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import bindings as bindings_service
from billbot.services import reminders as plans
from billbot.services.bindings import Binding
from billbot.services.open_bills import RefreshDeferred
from billbot.services.reminders import Notice
from billbot.slackapp.bill_thread import BillThread, find_thread
from billbot.slackapp.direct_messages import send_dm
from billbot.slackapp.invite_notice import unpostable_error
from billbot.slackapp.reminder_text import direct_text, thread_text
from billbot.storage import bill_copies
from billbot.storage import reminders as claims
from billbot.storage.reminders import ReminderKey

logger = logging.getLogger("billbot.reminders")

# A claim left unsent this long (its replica died before sending) may be taken over.
STALE_CLAIM = timedelta(minutes=10)
# Bills named by one post in a thread (well inside Slack's 40,000 characters of text).
THREAD_LINES = 50


async def reminder_tick(bot: Billbot) -> int:
    """Send today's due reminders and escalations in every bound channel; how many went out."""
    s = bot.settings
    now = bot.clock.now()
    day = working_day(now, s.billbot_timezone, s.billbot_digest_days)
    if day is None:
        return 0
    bound = await bot.db(lambda session: bindings_service.list_bindings(session), read_only=True)
    sent = 0
    for binding in bound:
        # Paused: its workspace uninstalled billbot. OAuth mode: sent with its own token.
        if not binding.paused and await bot.enter_workspace(binding.workspace):
            sent += await remind_binding(bot, binding, day, now)
    return sent


async def remind_binding(bot: Billbot, binding: Binding, day: date, now: datetime) -> int:
    s = bot.settings
    mode = s.billbot_notify
    # `channel` mode reminds only in the threads of messages showing bills: the other bills
    # (most of a 5,000-bill ledger) are neither planned nor held.
    shown = None if mode in ("dm", "both") else await bot.db(
        lambda session: bill_copies.shown_bill_ids(session, company_id=binding.company_id,
                                                   connection_id=binding.connection_id),
        read_only=True)
    try:
        bills = await bot.due_bills(binding, within_days=s.billbot_remind_days_before,
                                    background=True, only=shown)
    except RefreshDeferred:  # Codat's allowance is nearly spent, nothing cached: a later tick
        event(logger, "reminders deferred", channel_id=binding.channel_id)
        return 0
    notices = await bot.db(lambda session: plans.plan(
        session, bot.policy, binding=binding, bills=bills, now=now, tz=s.billbot_timezone,
        escalate_after_hours=s.billbot_escalate_after_hours), read_only=True)
    links = Permalinks(bot)
    threads: dict[tuple[str, str, str], list[Notice]] = {}
    sent = 0
    for notice in notices:
        place = await find_thread(bot, binding, notice.bill.id)  # the bill's thread (holds')
        if mode in ("dm", "both"):  # a DM links to the row; a thread post sits beside it
            sent += await to_people(bot, binding, notice, day, await links.of(place))
        if mode in ("channel", "both") and place is not None:
            # Only into the thread of a message showing the bill: a bill no message shows yet
            # (the day's digest not posted) is reminded at a later tick, never by a top-level
            # post per bill burying the channel. Not claimed, so that tick sends it.
            threads.setdefault((place.channel_id, place.thread_ts, notice.kind), []).append(
                notice)
    # One post per thread and kind names all its bills: a digest's forty rows are one
    # message, not forty posts paced at one a second per channel.
    for (channel, thread_ts, _), waiting in threads.items():
        for start in range(0, len(waiting), THREAD_LINES):
            sent += await to_thread(bot, binding, channel, thread_ts,
                                    waiting[start:start + THREAD_LINES], day)
    if sent:
        event(logger, "reminders sent", channel_id=binding.channel_id, sent=sent)
    return sent


def _key(binding: Binding, notice: Notice, recipient: str, day: date) -> ReminderKey:
    return ReminderKey(binding.company_id, binding.connection_id, notice.bill.id, recipient,
                       day, notice.kind)


async def to_people(bot: Billbot, binding: Binding, notice: Notice, day: date,
                    link: str | None) -> int:
    """A DM to each person the notice is for, each at most once a day."""
    sent = 0
    for person in notice.recipients:
        text = direct_text(notice, person, today=day, link=link)
        sent += await send_once(bot, _key(binding, notice, person, day),
                                partial(_to_person, bot, person, text))
    return sent


async def to_thread(bot: Billbot, binding: Binding, channel: str, thread_ts: str,
                    notices: list[Notice], day: date) -> int:
    """One post in a thread naming every bill of `notices` not yet reminded there today (one
    kind); each bill is claimed as before, keyed by the thread's channel, so two channels
    bound to one company, or two replicas, post it once."""
    now = bot.clock.now()
    keys = [_key(binding, notice, channel, day) for notice in notices]

    def claim_all(session: Session) -> set[str]:
        # In one order (the bills' ids) whoever claims: two replicas never wait on each other.
        return {key.bill_id for key in sorted(keys, key=lambda k: k.bill_id)
                if claims.claim(session, key, at=now, stale_before=now - STALE_CLAIM)}
    won = await bot.db(claim_all)
    mine = [(notice, key) for notice, key in zip(notices, keys, strict=True)
            if key.bill_id in won]
    if not mine:
        return 0
    text = thread_text([notice for notice, _ in mine], today=day)
    try:
        ts = await _to_thread(bot, channel, thread_ts, text)
    except SlackApiError as exc:
        logger.warning("reminder not delivered: %s", exc.response.get("error"))
        if unpostable_error(exc) is None:  # Slack did not take it: a later tick tries again
            def give_back(session: Session) -> None:
                for _, key in mine:
                    claims.release(session, key)
            await bot.db(give_back)
        return 0

    def sent(session: Session) -> None:
        for _, key in mine:
            claims.mark_sent(session, key, message_ts=ts, at=bot.clock.now())
    await bot.db(sent)
    return len(mine)


async def _to_person(bot: Billbot, person: str, text: str) -> str:
    _, ts = await send_dm(bot, person, text=text)  # the one DM sender (direct_messages)
    return ts


async def _to_thread(bot: Billbot, channel: str, thread_ts: str, text: str) -> str:
    """Into the thread of the message carrying the bill's row."""
    answer = await bot.slack.chat_postMessage(channel=channel, text=text, thread_ts=thread_ts,
                                              unfurl_links=False, unfurl_media=False)
    return str(answer["ts"])


class Permalinks:
    """Links to the messages carrying bills' rows (chat.getPermalink), asked once per message
    in one channel's round: a digest's rows share a handful of messages."""

    def __init__(self, bot: Billbot) -> None:
        self._bot = bot
        self._known: dict[tuple[str, str], str | None] = {}

    async def of(self, place: BillThread | None) -> str | None:
        if place is None:
            return None
        where = (place.channel_id, place.message_ts)
        if where not in self._known:
            self._known[where] = await permalink(self._bot, place)
        return self._known[where]


async def permalink(bot: Billbot, place: BillThread) -> str | None:
    """The link to the message carrying the bill's row (chat.getPermalink)."""
    try:
        answer = await bot.slack.chat_getPermalink(channel=place.channel_id,
                                                   message_ts=place.message_ts)
    except SlackApiError as exc:
        logger.warning("no permalink for a bill's row: %s", exc.response.get("error"))
        return None
    link = answer.get("permalink")
    return link if isinstance(link, str) else None


async def send_once(bot: Billbot, key: ReminderKey, post: Callable[[], Awaitable[str]]) -> int:
    """Claim, post, mark sent: 1 when this call sent it, 0 when another had (or it failed)."""
    now = bot.clock.now()
    claimed = await bot.db(lambda s: claims.claim(s, key, at=now, stale_before=now - STALE_CLAIM))
    if not claimed:
        return 0
    try:
        ts = await post()
    except SlackApiError as exc:
        logger.warning("reminder not delivered: %s", exc.response.get("error"))
        if unpostable_error(exc) is None:
            # Slack did not take it: give the claim back so a later tick today tries again.
            await bot.db(lambda s: claims.release(s, key))
        return 0
    await bot.db(lambda s: claims.mark_sent(s, key, message_ts=ts, at=bot.clock.now()))
    return 1


__all__ = ["Permalinks", "permalink", "remind_binding", "reminder_tick", "send_once",
           "to_people", "to_thread"]
