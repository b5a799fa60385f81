"""What billbot keeps of its Slack side: the messages it posted (a copy of their blocks), the
requests it processed, and the daily digest claims."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col

from .tables import ChannelNotice, DigestPost, ProcessedRequest, SlackMessage
from .upsert import insert_if_absent


def claim_request(session: Session, *, key: str, at: datetime) -> bool:
    """True the first time a Slack request key is seen; False for Slack's retries of it."""
    return insert_if_absent(session, ProcessedRequest, {"key": key, "at": at})


def save_message(
    session: Session,
    *,
    channel_id: str,
    ts: str,
    blocks: Sequence[dict[str, Any]],
    bill_ids: Sequence[str],
    at: datetime,
    thread_ts: str | None = None,
) -> SlackMessage:
    """Remember a message billbot posted (version 1); saving the same ts again replaces it."""
    existing = session.get(SlackMessage, (channel_id, ts))
    if existing is not None:
        existing.blocks = list(blocks)
        existing.bill_ids = list(bill_ids)
        existing.thread_ts = thread_ts
        existing.version += 1
        existing.updated_at = at
        session.add(existing)
        session.flush()
        return existing
    message = SlackMessage(
        channel_id=channel_id,
        ts=ts,
        thread_ts=thread_ts,
        blocks=list(blocks),
        version=1,
        bill_ids=list(bill_ids),
        created_at=at,
        updated_at=at,
    )
    session.add(message)
    session.flush()
    return message


def get_message(session: Session, *, channel_id: str, ts: str) -> SlackMessage | None:
    return session.get(SlackMessage, (channel_id, ts))


def update_message_blocks(
    session: Session,
    *,
    channel_id: str,
    ts: str,
    expected_version: int,
    blocks: Sequence[dict[str, Any]],
    at: datetime,
) -> bool:
    """Compare-and-set: replace the blocks only if nobody re-rendered since `expected_version`."""
    result = session.exec(
        update(SlackMessage)
        .where(
            col(SlackMessage.channel_id) == channel_id,
            col(SlackMessage.ts) == ts,
            col(SlackMessage.version) == expected_version,
        )
        .values(blocks=list(blocks), version=expected_version + 1, updated_at=at)
    )
    return bool(result.rowcount == 1)


def claim_digest(
    session: Session,
    *,
    channel_id: str,
    local_date: date,
    at: datetime,
    stale_before: datetime | None = None,
) -> bool:
    """Claim the right to post a channel's digest for a local day; only one caller wins.

    A claim still `posting` from before `stale_before` (a replica that died mid-post) may be
    taken over; a `posted` one never is. Without `stale_before`, a claim is never taken over.
    """
    values = {"channel_id": channel_id, "local_date": local_date, "state": "posting",
              "claimed_at": at}
    if insert_if_absent(session, DigestPost, values):
        return True
    if stale_before is None:
        return False
    result = session.exec(
        update(DigestPost)
        .where(
            col(DigestPost.channel_id) == channel_id,
            col(DigestPost.local_date) == local_date,
            col(DigestPost.state) == "posting",
            col(DigestPost.claimed_at) < stale_before,
        )
        .values(claimed_at=at)
    )
    return bool(result.rowcount == 1)


def mark_digest_posted(
    session: Session, *, channel_id: str, local_date: date, message_ts: str, at: datetime
) -> bool:
    result = session.exec(
        update(DigestPost)
        .where(col(DigestPost.channel_id) == channel_id, col(DigestPost.local_date) == local_date)
        .values(state="posted", message_ts=message_ts, posted_at=at)
    )
    return bool(result.rowcount == 1)


def release_digest(session: Session, *, channel_id: str, local_date: date) -> bool:
    """Give up an unposted claim (posting failed before Slack accepted it) so a retry can run."""
    result = session.exec(
        delete(DigestPost).where(
            col(DigestPost.channel_id) == channel_id,
            col(DigestPost.local_date) == local_date,
            col(DigestPost.state) == "posting",
        )
    )
    return bool(result.rowcount == 1)


def get_digest(session: Session, *, channel_id: str, local_date: date) -> DigestPost | None:
    return session.get(DigestPost, (channel_id, local_date))


__all__ = [
    "claim_digest",
    "claim_request",
    "get_digest",
    "get_message",
    "mark_digest_posted",
    "release_digest",
    "save_message",
    "update_message_blocks",
]


def claim_channel_notice(session: Session, *, channel_id: str, error: str, at: datetime) -> bool:
    """True for the one caller who should tell the admins that this channel refuses posts."""
    return insert_if_absent(session, ChannelNotice,
                            {"channel_id": channel_id, "error": error, "told_at": at})


def clear_channel_notices(session: Session, *, channel_id: str) -> None:
    """Posting works again: a later refusal is news worth telling."""
    session.exec(delete(ChannelNotice).where(col(ChannelNotice.channel_id) == channel_id))
