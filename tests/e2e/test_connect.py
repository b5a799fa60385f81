"""`/bills connect`: from nothing to the first digest (a company created, its connection
linked on Codat's link page, the channel bound, the digest posted), and a connection that
is disconnected: told once, digests paused, and resumed when it is linked again."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from sqlmodel import select

from billbot.clock import FixedClock
from billbot.sandbox.serving import serve_in_thread
from billbot.server import build_web_app
from billbot.slackapp.connect_watcher import connect_tick
from billbot.slackapp.digests import scheduled_digest
from billbot.storage.connect_tables import ConnectWatch
from billbot.storage.db import session_scope
from tests.e2e.conftest import (
    ADA,
    BEN,
    CHANNEL,
    CODAT_KEY,
    OTHER_CHANNEL,
    UNSET,
    Stack,
    eventually,
    no_slack_violations,
)

T = TypeVar("T")
_LINK = re.compile(r"/companies/([^/]+)/connections/([^/]+)/start$")


def _texts(stack: Stack, channel: str) -> list[str]:
    return [m.text for m in stack.workspace.messages(channel) if m.bot_id]


def _set_status(stack: Stack, company: str, connection: str, status: str) -> None:
    url = f"{stack.settings.codat_base_url}/_sandbox/companies/{company}/connections/" \
          f"{connection}/status"
    assert httpx.post(url, json={"status": status}).status_code == 200


def _values(name: str | None, platform: str, company: str | None = None,
            api: str | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {"platform": {"platform": {"type": "static_select",
                                                        "selected_option": {"value": platform}}}}
    if api is not None:
        values["codat_api"] = {"codat_api": {"type": "radio_buttons",
                                             "selected_option": {"value": api}}}
    values["new_company"] = {"name": {"type": "plain_text_input", "value": name}}
    if company is not None:
        values["company"] = {"company": {"type": "static_select",
                                         "selected_option": {"value": company}}}
    return values


async def _tick(stack: Stack, clock: FixedClock, after: timedelta) -> None:
    clock.set(clock.now() + after)
    await _on_server(stack, connect_tick(stack.bot))


async def _on_server(stack: Stack, work: Coroutine[Any, Any, T]) -> T:
    """Run on the bot's own loop, where its HTTP clients live (as its scheduler does)."""
    return await asyncio.to_thread(stack.bot_server.run, work)


async def test_from_nothing_to_the_first_digest(stack_factory: Callable[..., Stack]) -> None:
    clock = FixedClock(datetime.now(UTC).replace(hour=10, minute=0))
    stack = stack_factory(clock=clock, codat_company_id=UNSET, codat_connection_id=UNSET,
                          billbot_channel=UNSET)
    assert await stack.bot.binding_for(OTHER_CHANNEL) is None
    await stack.driver.slash_command(BEN, OTHER_CHANNEL, "connect")  # not an admin
    await eventually(lambda: any("Only billbot admins" in e.text
                                 for e in stack.workspace.ephemerals(OTHER_CHANNEL, BEN)))
    assert stack.workspace.open_view(BEN) is None

    await stack.driver.slash_command(ADA, OTHER_CHANNEL, "connect")
    view = await eventually(lambda: stack.workspace.open_view(ADA))
    assert view is not None
    blocks = view.definition["blocks"]
    assert [b["block_id"] for b in blocks] == ["new_company", "platform", "codat_api"]
    assert blocks[2]["element"]["initial_option"]["value"] == "sync"  # CODAT_API's default
    answer = await stack.driver.submit_view(ADA, _values("Acme Trading", "gbol"))
    assert answer.outcome == "updated", answer.text
    shown = await eventually(lambda: (v := stack.workspace.open_view(ADA)) is not None
                             and "accessory" in v.definition["blocks"][0] and v)
    assert shown
    button = shown.definition["blocks"][0]["accessory"]
    match = _LINK.search(button["url"])
    assert match, button
    company, connection = match[1], match[2]
    assert stack.sandbox.companies[company]["name"] == "Acme Trading"
    assert stack.sandbox.connections[company][connection]["status"] == "PendingAuth"
    assert stack.sandbox.connections[company][connection]["integrationKey"] == "gbol"

    await _tick(stack, clock, timedelta(minutes=1))  # not linked yet: nothing happens
    assert await stack.bot.binding_for(OTHER_CHANNEL) is None
    assert _texts(stack, OTHER_CHANNEL) == []

    _set_status(stack, company, connection, "Linked")  # the business authorises
    await _tick(stack, clock, timedelta(seconds=1))  # inside the backoff: not asked yet
    assert await stack.bot.binding_for(OTHER_CHANNEL) is None
    await _tick(stack, clock, timedelta(minutes=5))
    binding = await stack.bot.binding_for(OTHER_CHANNEL)
    assert binding is not None
    assert (binding.company_id, binding.connection_id, binding.bound_by,
            binding.codat_api) == (company, connection, ADA, "sync")
    texts = _texts(stack, OTHER_CHANNEL)
    assert len(texts) == 2, texts
    assert "Linked" in texts[0] and "first digest" in texts[0]
    await _tick(stack, clock, timedelta(minutes=10))  # checked again: nothing new to say
    assert len(_texts(stack, OTHER_CHANNEL)) == 2

    # The next form offers the company billbot created (and only it; not the seeded ones).
    await stack.driver.slash_command(ADA, CHANNEL, "connect")
    again = await eventually(lambda: (v := stack.workspace.open_view(ADA)) is not None
                             and v.definition.get("callback_id") == "connect_submit" and v)
    assert again
    options = again.definition["blocks"][0]["element"]["options"]
    assert [o["value"] for o in options] == [company]
    no_slack_violations(stack)


async def test_disconnection_is_told_once_and_pauses_digests(
        stack_factory: Callable[..., Stack]) -> None:
    clock = FixedClock(datetime.now(UTC).replace(hour=10, minute=0))
    stack = stack_factory(clock=clock)
    company, connection = stack.company_id, stack.connection_id
    await stack.driver.slash_command(ADA, CHANNEL, f"connect {company} {connection}")
    await eventually(lambda: any("now bound" in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, ADA)))
    binding = await stack.bot.binding_for(CHANNEL)
    assert binding is not None

    _set_status(stack, company, connection, "Deauthorized")
    await _tick(stack, clock, timedelta(minutes=6))
    texts = _texts(stack, CHANNEL)
    assert len(texts) == 1 and "Deauthorized" in texts[0] and "paused" in texts[0]
    admin_dms = [m.text for m in stack.workspace.messages(f"D{ADA}")]
    assert len(admin_dms) == 1 and "paused" in admin_dms[0]
    await _tick(stack, clock, timedelta(minutes=10))  # still disconnected: told once
    await _tick(stack, clock, timedelta(minutes=10))
    assert len(_texts(stack, CHANNEL)) == 1
    day = clock.now().date()
    assert await _on_server(stack, scheduled_digest(stack.bot, binding, day)) is False
    assert len(_texts(stack, CHANNEL)) == 1, "no digest while disconnected"
    await stack.driver.slash_command(ADA, CHANNEL, "digest")
    await eventually(lambda: any("Digests are paused" in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, ADA)))

    _set_status(stack, company, connection, "Linked")
    await _tick(stack, clock, timedelta(minutes=10))
    texts = _texts(stack, CHANNEL)
    assert len(texts) == 2 and "digests resume" in texts[1]
    assert await _on_server(stack, scheduled_digest(stack.bot, binding, day)) is True
    assert len(_texts(stack, CHANNEL)) >= 3
    no_slack_violations(stack)


async def test_double_submit_and_two_replicas_connect_once(
        stack_factory: Callable[..., Stack]) -> None:
    clock = FixedClock(datetime.now(UTC).replace(hour=10, minute=0))
    stack = stack_factory(clock=clock, codat_company_id=UNSET, codat_connection_id=UNSET,
                          billbot_channel=UNSET)
    companies_before = set(stack.sandbox.companies)
    await stack.driver.slash_command(ADA, OTHER_CHANNEL, "connect")
    await eventually(lambda: stack.workspace.open_view(ADA))
    values = _values("Globex Trading", "qhyg")
    answers = await asyncio.gather(stack.driver.submit_view(ADA, values),
                                   stack.driver.submit_view(ADA, values))
    assert "updated" in [a.outcome for a in answers], [a.text for a in answers]
    await eventually(lambda: (v := stack.workspace.open_view(ADA)) is not None
                     and "accessory" in v.definition["blocks"][0])
    created = set(stack.sandbox.companies) - companies_before
    assert len(created) == 1, "one company for one form, however often it is submitted"
    company = created.pop()
    assert len(stack.sandbox.connections[company]) == 1
    connection = next(iter(stack.sandbox.connections[company]))

    # A second `billbot run` on the same database (or the first one restarted): the watch is
    # a row, and whichever replica leases it binds the channel and posts the digest, once.
    app, other_bot = build_web_app(stack.settings, run_scheduler=False, clock=clock)
    other = serve_in_thread(app)
    try:
        _set_status(stack, company, connection, "Linked")
        clock.set(clock.now() + timedelta(minutes=10))
        await asyncio.gather(*(asyncio.to_thread(server.run, connect_tick(bot))
                               for server, bot in ((stack.bot_server, stack.bot),
                                                   (other, other_bot)) for _ in range(3)))
    finally:
        other.stop()
    binding = await stack.bot.binding_for(OTHER_CHANNEL)
    assert binding is not None and binding.company_id == company
    texts = _texts(stack, OTHER_CHANNEL)
    assert len(texts) == 2 and "Linked" in texts[0], texts
    no_slack_violations(stack)


async def test_the_configured_binding_is_watched_too(stack_factory: Callable[..., Stack]) -> None:
    clock = FixedClock(datetime.now(UTC).replace(hour=10, minute=0))
    stack = stack_factory(clock=clock)
    company, connection = stack.company_id, stack.connection_id
    key = base64.b64encode(CODAT_KEY.encode()).decode()
    url = f"{stack.settings.codat_base_url}/companies/{company}/connections/{connection}"
    async with httpx.AsyncClient() as http:  # Codat's unlink-connection
        unlinked = await http.patch(url, json={"status": "Unlinked"},
                                    headers={"Authorization": f"Basic {key}"})
    assert unlinked.status_code == 200, unlinked.text
    await _tick(stack, clock, timedelta(minutes=6))
    texts = _texts(stack, CHANNEL)
    assert len(texts) == 1 and "Unlinked" in texts[0], texts
    assert len(stack.workspace.messages(f"D{ADA}")) == 1
    no_slack_violations(stack)


async def test_a_link_nobody_completes_is_given_up(stack_factory: Callable[..., Stack]) -> None:
    clock = FixedClock(datetime.now(UTC).replace(hour=10, minute=0))
    stack = stack_factory(clock=clock, codat_company_id=UNSET, codat_connection_id=UNSET,
                          billbot_channel=UNSET)
    await stack.driver.slash_command(ADA, OTHER_CHANNEL, "connect")
    await eventually(lambda: stack.workspace.open_view(ADA))
    await stack.driver.submit_view(ADA, _values("Initech", "fbrh"))
    await eventually(lambda: (v := stack.workspace.open_view(ADA)) is not None
                     and "accessory" in v.definition["blocks"][0])
    await _tick(stack, clock, timedelta(days=8))
    dms = [m.text for m in stack.workspace.messages(f"D{ADA}")]
    assert len(dms) == 1 and "not linked within 7 days" in dms[0], dms
    await _tick(stack, clock, timedelta(days=1))  # no longer watched
    assert len(stack.workspace.messages(f"D{ADA}")) == 1
    assert await stack.bot.binding_for(OTHER_CHANNEL) is None
    no_slack_violations(stack)


async def test_the_form_picks_the_codat_api_of_the_binding(
        stack_factory: Callable[..., Stack]) -> None:
    """CODAT_API is the form's default; the other API picked there is what the watch binds."""
    stack = stack_factory(codat_company_id=UNSET, codat_connection_id=UNSET,
                          billbot_channel=UNSET, codat_api="async")
    await stack.driver.slash_command(ADA, OTHER_CHANNEL, "connect")
    view = await eventually(lambda: stack.workspace.open_view(ADA))
    assert view is not None
    assert view.definition["blocks"][2]["element"]["initial_option"]["value"] == "async"
    answer = await stack.driver.submit_view(ADA, _values("Sync Co", "gbol", api="sync"))
    assert answer.outcome == "updated", answer.text
    assert await eventually(lambda: _watch_apis(stack)) == ["sync"]
    no_slack_violations(stack)


def _watch_apis(stack: Stack) -> list[str]:
    with session_scope(stack.bot.engine, read_only=True) as session:
        return [w.codat_api for w in session.exec(select(ConnectWatch)).all()
                if w.company_id is not None]
