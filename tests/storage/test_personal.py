"""dm_card and home_viewer: a card is claimed by one caller only (two replicas racing for it
on PostgreSQL included), given back when its post failed, and found again from its message;
Home viewers remember the bills their view shows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import Engine

from billbot.storage import personal
from billbot.storage.db import session_scope
from billbot.storage.personal import CardKey

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
KEY = CardKey(user_id="U0ANN", company_id="c1", connection_id="k1", bill_id="B" * 2048,
              kind="approve")


def claim(engine: Engine, key: CardKey = KEY) -> bool:
    with session_scope(engine) as session:
        return personal.claim_card(session, key, binding_channel="C0FIN", at=AT)


def test_one_claim_per_person_bill_and_kind(engine: Engine) -> None:
    assert claim(engine)
    assert not claim(engine)
    # Another kind of waiting, or another person, is another card.
    assert claim(engine, CardKey(**{**KEY.__dict__, "kind": "pay"}))
    assert claim(engine, CardKey(**{**KEY.__dict__, "user_id": "U0BEN"}))


def test_concurrent_claims_have_one_winner(engine: Engine) -> None:
    wins: list[bool] = []
    start = threading.Barrier(8)

    def racer() -> None:
        start.wait()
        wins.append(claim(engine))

    threads = [threading.Thread(target=racer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]


def test_a_failed_post_gives_the_card_back_and_a_posted_one_is_found(engine: Engine) -> None:
    assert claim(engine)
    with session_scope(engine) as session:
        personal.release_card(session, KEY)
    assert claim(engine)
    with session_scope(engine) as session:
        personal.card_posted(session, KEY, channel_id="DU0ANN", ts="1.000100")
        personal.release_card(session, KEY)  # posted: not given back
    assert not claim(engine)
    with session_scope(engine, read_only=True) as session:
        assert personal.card_binding_channel(session, channel_id="DU0ANN",
                                             ts="1.000100") == "C0FIN"
        assert personal.card_binding_channel(session, channel_id="DU0ANN", ts="2.0") is None


def test_home_viewers_and_the_bills_they_see(engine: Engine) -> None:
    key = personal.bill_key("c1", "k1", "B-1")
    with session_scope(engine) as session:
        personal.opened_home(session, user_id="U0ANN", at=AT)
        personal.home_published(session, user_id="U0ANN", keys=[key, key], at=AT)
        personal.opened_home(session, user_id="U0PAT", at=AT)
        personal.set_home_page(session, user_id="U0PAT", section="waiting", page=2, at=AT)
    with session_scope(engine, read_only=True) as session:
        assert personal.viewers_showing(session, key) == ["U0ANN"]
        assert personal.home_pages(session, user_id="U0PAT") == {"waiting": 2}
        assert personal.home_pages(session, user_id="U0NOBODY") == {}
