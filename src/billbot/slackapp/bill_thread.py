"""The bill's thread: which channel message carries a bill's row, and posting into its thread.

Slack threads do not nest, so a bill's thread is the thread of the newest message showing
its row in a channel bound to its company (for a digest row, the digest's thread, even when
the row sits in a reply); people's DM cards are not threads of the bill. Other
features post there through `post_in_thread` (or find it with `find_thread`).

The history: every decision the audit log records on a bill (HISTORY_ACTIONS) becomes one
entry in its thread. The entry is claimed in `bill_thread_post` by the audit entry's id
before it is posted, so double clicks, Slack's retries and several replicas post it once
(a crash between Slack accepting a post and billbot marking it may post it twice, after
the claim's lease). Flows publish right after they re-render the row; the recovery tick
(`history_tick`) posts what they left: events not yet claimed, failed posts, dead claims.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from billbot.runtime import Billbot
from billbot.services.bindings import Binding
from billbot.slackapp.blocks import row_label
from billbot.slackapp.history_text import CONVERSATION, HISTORY_ACTIONS, history_line
from billbot.storage import bill_copies, bill_thread_posts, slack_messages
from billbot.storage.tables import AuditLog, ChannelBinding

logger = logging.getLogger("billbot.thread")

# A claim left `posting` this long (its worker died) is taken over.
POSTING_LEASE = timedelta(minutes=2)
# The recovery tick looks this far back for decisions no flow published (a crash between the
# decision and its post, a pay run's payments): enough for those, and no backlog of old
# decisions posted when billbot is upgraded to a version with the history.
LOOKBACK = timedelta(hours=1)
BATCH = 100
# Posts per recovery tick: Slack paces a channel's posts to about one a second, and the tick's
# other steps (payments) must not wait long behind a backlog (a pay run's many bills).
TICK_POSTS = 20


@dataclass(frozen=True)
class BillThread:
    channel_id: str
    thread_ts: str  # the thread's parent: the digest's main message, or the row's own
    message_ts: str  # the message carrying the row (a digest's reply, or the parent)
    label: str  # the row's first line, "*INV-1* · Supplier", naming the bill


def thread_of(session: Session, *, company_id: str, connection_id: str, bill_id: str,
              channel_id: str | None = None, message_ts: str | None = None
              ) -> BillThread | None:
    """The bill's thread: that of the newest message showing its row; None if none does.
    `channel_id`: in that channel only, the copy `message_ts` (a click's) first."""
    # Channels bound to the bill's company only: a person's DM card is not the bill's thread.
    bound = {channel_id} if channel_id else set(session.exec(
        select(ChannelBinding.channel_id).where(
            col(ChannelBinding.company_id) == company_id,
            col(ChannelBinding.connection_id) == connection_id)).all())
    places = [p for p in bill_copies.places_of(session, company_id=company_id,
                                               connection_id=connection_id, bill_id=bill_id)
              if p.channel_id in bound]
    if not places:
        return None
    place = next((p for p in places if p.ts == message_ts), places[-1])
    stored = slack_messages.get_message(session, channel_id=place.channel_id, ts=place.ts)
    label = row_label(list(stored.blocks) if stored else [], bill_id)
    return BillThread(place.channel_id, place.digest_ts or place.ts, place.ts, label)


async def find_thread(bot: Billbot, binding: Binding, bill_id: str, *,
                      channel_id: str | None = None,
                      message_ts: str | None = None) -> BillThread | None:
    return await bot.db(lambda s: thread_of(s, company_id=binding.company_id,
                                            connection_id=binding.connection_id,
                                            bill_id=bill_id, channel_id=channel_id,
                                            message_ts=message_ts), read_only=True)


async def post_in_thread(bot: Billbot, binding: Binding, bill_id: str, text: str, *,
                         event_id: str | None = None) -> str | None:
    """Post `text`, prefixed with the bill's name, into the bill's thread; the reply's ts, or
    None (no thread, or Slack refused). With `event_id` (unique per bill) it is posted once
    across clicks, retries and replicas, and retried by the recovery tick if Slack fails."""
    found = await find_thread(bot, binding, bill_id)
    if found is None:
        return None
    body = f"{found.label}: {text}"
    if event_id is None:
        answer = await bot.slack.chat_postMessage(channel=found.channel_id,
                                                  thread_ts=found.thread_ts, text=body,
                                                  unfurl_links=False, unfurl_media=False)
        return str(answer["ts"])
    await bot.db(lambda s: bill_thread_posts.enqueue(
        s, company_id=binding.company_id, connection_id=binding.connection_id,
        bill_id=bill_id, event_id=event_id, text=body, at=bot.clock.now()))
    await _post_waiting(bot, binding=binding, bill_id=bill_id)
    return None


def _note_events(session: Session, *, history_on: bool, now: datetime,
                 binding: Binding | None = None, bill_id: str | None = None) -> None:
    """Claim an entry for each decision recorded since LOOKBACK that has none yet."""
    scope = {} if binding is None else {"company_id": binding.company_id,
                                        "connection_id": binding.connection_id,
                                        "bill_id": bill_id}
    entries = bill_thread_posts.unclaimed_audit(session, actions=HISTORY_ACTIONS,
                                                since=now - LOOKBACK, limit=BATCH, **scope)
    for entry in entries:
        _note(session, entry, history_on=history_on, now=now)


def _note(session: Session, entry: AuditLog, *, history_on: bool, now: datetime) -> None:
    assert entry.company_id and entry.connection_id and entry.bill_id
    where = {"company_id": entry.company_id, "connection_id": entry.connection_id,
             "bill_id": entry.bill_id}
    line = history_line(entry.action, entry.actor, entry.detail, entry.bill_version)
    found = thread_of(session, **where) if line else None
    wanted = history_on or entry.action in CONVERSATION
    text = f"{found.label}: {line}" if found and line else ""
    bill_thread_posts.enqueue(session, **where, event_id=f"audit:{entry.id}", audit_id=entry.id,
                              text=text, at=now, skipped=not (wanted and text))


async def publish_history(bot: Billbot, binding: Binding, bill_id: str) -> None:
    """Post the bill's new history entries into its thread (called after a row re-render)."""
    on = bot.settings.billbot_thread_history
    await bot.db(lambda s: _note_events(s, history_on=on, now=bot.clock.now(),
                                        binding=binding, bill_id=bill_id))
    await _post_waiting(bot, binding=binding, bill_id=bill_id)


async def history_tick(bot: Billbot) -> None:
    """The recovery step: decisions no flow published, failed posts, claims of dead workers."""
    on = bot.settings.billbot_thread_history
    await bot.db(lambda s: _note_events(s, history_on=on, now=bot.clock.now()))
    await _post_waiting(bot, limit=TICK_POSTS)


async def _post_waiting(bot: Billbot, *, binding: Binding | None = None,
                        bill_id: str | None = None, limit: int = BATCH) -> None:
    now = bot.clock.now()
    scope = {} if binding is None else {"company_id": binding.company_id,
                                        "connection_id": binding.connection_id,
                                        "bill_id": bill_id}
    waiting = await bot.db(lambda s: bill_thread_posts.takeable(
        s, stale_before=now - POSTING_LEASE, limit=limit, **scope), read_only=True)
    for post_id in waiting:
        await _post_one(bot, post_id)


async def _post_one(bot: Billbot, post_id: int) -> None:
    now = bot.clock.now()
    post = await bot.db(lambda s: bill_thread_posts.claim(
        s, post_id=post_id, at=now, stale_before=now - POSTING_LEASE))
    if post is None:
        return  # another worker has it, or it is done
    found = await bot.db(lambda s: thread_of(s, company_id=post.company_id,
                                             connection_id=post.connection_id,
                                             bill_id=post.bill_id), read_only=True)
    if found is None:
        await bot.db(lambda s: bill_thread_posts.mark_failed(s, post_id=post_id,
                                                            error="no message shows the bill"))
        return
    try:
        answer = await bot.slack.chat_postMessage(channel=found.channel_id,
                                                  thread_ts=found.thread_ts, text=post.text,
                                                  unfurl_links=False, unfurl_media=False)
    except Exception as exc:
        error = getattr(getattr(exc, "response", None), "data", None)
        reason = str(error.get("error")) if isinstance(error, dict) else exc.__class__.__name__
        logger.warning("thread post failed (%s); the recovery tick retries it", reason)
        await bot.db(lambda s: bill_thread_posts.mark_failed(s, post_id=post_id, error=reason))
        return
    await bot.db(lambda s: bill_thread_posts.mark_posted(
        s, post_id=post_id, channel_id=found.channel_id, thread_ts=found.thread_ts,
        posted_ts=str(answer["ts"]), at=bot.clock.now()))


__all__ = ["BillThread", "find_thread", "history_tick", "post_in_thread", "publish_history",
           "thread_of"]
