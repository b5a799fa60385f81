"""The View invoice claim: one winner per attachment, the permalink for later clicks, a failed
claim given back, a dead replica's claim taken over after a while."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from billbot.storage.db import session_scope
from billbot.storage.invoice_uploads import (
    UploadKey,
    claim,
    mark_shared,
    release,
    shared_permalinks,
)

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
KEY = UploadKey("company", "connection", "7110700008", "attachment-1")
STALE = T0 - timedelta(minutes=10)


def test_one_claim_wins_and_later_ones_get_the_permalink(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert claim(session, KEY, user_id="U1", at=T0, stale_before=STALE).won
    with session_scope(engine) as session:
        second = claim(session, KEY, user_id="U2", at=T0, stale_before=STALE)
        assert not second.won and second.permalink is None and second.claimed_by == "U1"
        mark_shared(session, KEY, channel_id="C1", thread_ts="1.000001", file_id="F1",
                    permalink="https://x.slack.com/files/U/F1/a.pdf", at=T0)
    with session_scope(engine) as session:
        third = claim(session, KEY, user_id="U3", at=T0, stale_before=STALE)
        assert not third.won and third.permalink == "https://x.slack.com/files/U/F1/a.pdf"
        release(session, KEY)  # a shared file is never given back
        assert shared_permalinks(session, company_id="company", connection_id="connection",
                                 bill_id="7110700008") == {"attachment-1": third.permalink}


def test_a_failed_claim_is_given_back_and_a_dead_ones_taken_over(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert claim(session, KEY, user_id="U1", at=T0, stale_before=STALE).won
        release(session, KEY)
    with session_scope(engine) as session:
        assert claim(session, KEY, user_id="U2", at=T0, stale_before=STALE).won
    later = T0 + timedelta(minutes=11)
    with session_scope(engine) as session:
        assert not claim(session, KEY, user_id="U3", at=T0 + timedelta(minutes=5),
                         stale_before=T0 - timedelta(minutes=5)).won
        assert claim(session, KEY, user_id="U3", at=later,
                     stale_before=later - timedelta(minutes=10)).won
