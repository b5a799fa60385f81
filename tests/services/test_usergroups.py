"""User groups' members cache: first-use fetch from the local Slack, events applied in order,
repeats and stale events ignored, a fetch never overwriting a newer event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from billbot.clock import FixedClock
from billbot.sandbox.slack import SlackWorkspace, serve_slack_standin
from billbot.services import usergroups
from billbot.services.usergroups import MembersChanged
from billbot.storage.db import session_scope

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
TEAM = "T0BILLBOT"
ANN, BEN, CAL = "U0ANN", "U0BEN", "U0CAL"


@pytest.fixture
async def slack() -> AsyncIterator[tuple[SlackWorkspace, AsyncWebClient]]:
    ws = SlackWorkspace(clock=FixedClock(T0), team_id=TEAM)
    served = serve_slack_standin(ws)
    try:
        yield ws, AsyncWebClient(token=ws.bot_token, base_url=ws.api_url)
    finally:
        served.stop()


def members(engine: Engine, group: str) -> frozenset[str]:
    with session_scope(engine, read_only=True) as session:
        return usergroups.members_of_group(session, TEAM, group)


def apply(engine: Engine, change: MembersChanged) -> bool:
    with session_scope(engine) as session:
        return usergroups.apply_members_changed(session, change, at=T0)


def change(group: str, *, added: tuple[str, ...] = (), removed: tuple[str, ...] = (),
           previous: int, update: int) -> MembersChanged:
    return MembersChanged(TEAM, group, frozenset(added), frozenset(removed), update, previous)


def test_group_ids_are_told_from_user_ids() -> None:
    assert usergroups.is_group_id("S03GROUP")
    assert not usergroups.is_group_id("U01AAAA")
    assert not usergroups.is_group_id("S")
    assert not usergroups.is_group_id("s03group")


def test_a_group_never_fetched_has_no_members(engine: Engine) -> None:
    assert members(engine, "S0NEVER") == frozenset()


async def test_first_use_fetches_and_later_uses_read_the_cache(
        engine: Engine, slack: tuple[SlackWorkspace, AsyncWebClient]) -> None:
    ws, client = slack
    group = ws.usergroups.add("approvers", "Approvers", [ANN, BEN])
    clock = FixedClock(T0)
    await usergroups.ensure_groups(engine, client, clock, team_id=TEAM,
                                   group_ids=[group.id, ANN])
    assert members(engine, group.id) == {ANN, BEN}
    calls = len(ws.calls("usergroups.users.list"))
    ws.usergroups.set_members(group.id, [CAL])  # the event is not delivered here
    await usergroups.ensure_groups(engine, client, clock, team_id=TEAM, group_ids=[group.id])
    assert len(ws.calls("usergroups.users.list")) == calls  # cached: no second call
    assert members(engine, group.id) == {ANN, BEN}
    assert await usergroups.refresh_group(engine, client, clock, team_id=TEAM,
                                          group_id=group.id) == {CAL}


async def test_a_group_slack_no_longer_knows_has_no_members(
        engine: Engine, slack: tuple[SlackWorkspace, AsyncWebClient]) -> None:
    ws, client = slack
    group = ws.usergroups.add("approvers", "Approvers", [ANN])
    clock = FixedClock(T0)
    assert await usergroups.refresh_group(engine, client, clock, team_id=TEAM,
                                          group_id=group.id) == {ANN}
    ws.usergroups.disable(group.id)
    assert await usergroups.refresh_group(engine, client, clock, team_id=TEAM,
                                          group_id=group.id) == frozenset()


async def test_a_failed_call_keeps_the_cache(engine: Engine) -> None:
    with session_scope(engine) as session:
        usergroups.store_fetched(session, team_id=TEAM, group_id="S0G", users=[ANN], at=T0,
                                 seen_version=None)
    dead = AsyncWebClient(token="xoxb-x", base_url="http://127.0.0.1:9/api/", timeout=2)
    assert await usergroups.refresh_group(engine, dead, FixedClock(T0), team_id=TEAM,
                                          group_id="S0G") == {ANN}


def test_events_apply_in_order_and_repeats_change_nothing(engine: Engine) -> None:
    with session_scope(engine) as session:
        usergroups.store_fetched(session, team_id=TEAM, group_id="S0G", users=[ANN, BEN],
                                 at=T0, seen_version=None)
    # The first event after a fetch cannot be known to follow it: re-read asked for.
    assert apply(engine, change("S0G", removed=(ANN,), added=(CAL,), previous=100, update=110))
    assert members(engine, "S0G") == {BEN, CAL}
    # The next one follows on: applied, no re-read.
    assert not apply(engine, change("S0G", removed=(BEN,), previous=110, update=120))
    assert members(engine, "S0G") == {CAL}
    # An older event arriving late changes nothing; the same one again leaves the members.
    assert not apply(engine, change("S0G", added=(BEN,), previous=100, update=110))
    apply(engine, change("S0G", removed=(BEN,), previous=110, update=120))
    assert members(engine, "S0G") == {CAL}
    # Two changes in one second carry one stamp: both apply.
    assert not apply(engine, change("S0G", added=(ANN,), previous=120, update=120))
    assert not apply(engine, change("S0G", removed=(ANN,), previous=120, update=120))
    assert members(engine, "S0G") == {CAL}
    # A gap (an event was missed): applied, and a re-read asked for.
    assert apply(engine, change("S0G", added=(BEN,), previous=130, update=140))
    assert members(engine, "S0G") == {BEN, CAL}


def test_an_event_for_a_group_never_fetched_is_left_to_first_use(engine: Engine) -> None:
    assert not apply(engine, change("S0NEW", added=(ANN,), previous=1, update=2))
    with session_scope(engine, read_only=True) as session:
        assert not usergroups.is_cached(session, TEAM, "S0NEW")


def test_a_fetch_never_overwrites_an_event_applied_while_it_was_out(engine: Engine) -> None:
    with session_scope(engine) as session:
        usergroups.store_fetched(session, team_id=TEAM, group_id="S0G", users=[ANN, BEN],
                                 at=T0, seen_version=None)
    seen = 1  # a refresh read version 1, then asked Slack
    apply(engine, change("S0G", removed=(ANN,), previous=100, update=110))  # lands meanwhile
    with session_scope(engine) as session:
        stored = usergroups.store_fetched(session, team_id=TEAM, group_id="S0G",
                                          users=[ANN, BEN], at=T0, seen_version=seen)
    assert not stored
    assert members(engine, "S0G") == {BEN}
