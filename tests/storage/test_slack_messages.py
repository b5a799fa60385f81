"""Slack retries, message versions and one digest per channel per day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from billbot.storage.db import session_scope
from billbot.storage.slack_messages import (
    claim_digest,
    claim_request,
    get_digest,
    get_message,
    mark_digest_posted,
    release_digest,
    save_message,
    update_message_blocks,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
DAY = date(2026, 11, 22)


def test_a_request_key_is_claimed_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert claim_request(session, key="req-1", at=T0)
        assert not claim_request(session, key="req-1", at=T0)
    with session_scope(engine) as session:
        assert not claim_request(session, key="req-1", at=T0)
        assert claim_request(session, key="req-2", at=T0)


def test_message_blocks_are_compare_and_set(engine: Engine) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Bill 1"}}]
    with session_scope(engine) as session:
        saved = save_message(session, channel_id="C1", ts="1.000100", blocks=blocks,
                             bill_ids=["b1"], at=T0, thread_ts=None)
        assert saved.version == 1
    new_blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Bill 1 approved"}}]
    with session_scope(engine) as session:
        assert update_message_blocks(session, channel_id="C1", ts="1.000100",
                                     expected_version=1, blocks=new_blocks, at=T0)
        # A second renderer that read version 1 loses and must re-read.
        assert not update_message_blocks(session, channel_id="C1", ts="1.000100",
                                         expected_version=1, blocks=blocks, at=T0)
    with session_scope(engine, read_only=True) as session:
        message = get_message(session, channel_id="C1", ts="1.000100")
        assert message is not None
        assert (message.version, message.blocks, message.bill_ids) == (2, new_blocks, ["b1"])
        assert get_message(session, channel_id="C1", ts="nope") is None


def test_one_digest_per_channel_per_day(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert claim_digest(session, channel_id="C1", local_date=DAY, at=T0)
        assert not claim_digest(session, channel_id="C1", local_date=DAY, at=T0)
        assert claim_digest(session, channel_id="C2", local_date=DAY, at=T0)
        assert claim_digest(session, channel_id="C1", local_date=DAY + timedelta(1), at=T0)
        assert mark_digest_posted(session, channel_id="C1", local_date=DAY,
                                  message_ts="1.1", at=T0)
    later = T0 + timedelta(hours=3)
    with session_scope(engine) as session:
        # A posted digest is never taken over, however old.
        assert not claim_digest(session, channel_id="C1", local_date=DAY, at=later,
                                stale_before=later)
        # An abandoned `posting` claim is, when the caller says it is stale.
        assert not claim_digest(session, channel_id="C2", local_date=DAY, at=later)
        assert claim_digest(session, channel_id="C2", local_date=DAY, at=later,
                            stale_before=later - timedelta(minutes=10))
        posted = get_digest(session, channel_id="C1", local_date=DAY)
        assert posted is not None and posted.message_ts == "1.1" and posted.state == "posted"


def test_release_lets_a_failed_post_be_retried(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert claim_digest(session, channel_id="C1", local_date=DAY, at=T0)
        assert release_digest(session, channel_id="C1", local_date=DAY)
        assert claim_digest(session, channel_id="C1", local_date=DAY, at=T0)
        assert mark_digest_posted(session, channel_id="C1", local_date=DAY,
                                  message_ts="1.1", at=T0)
        assert not release_digest(session, channel_id="C1", local_date=DAY)
