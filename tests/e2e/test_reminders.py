"""Reminders and escalation (issue 16 item 3): with the bot's clock moved through the day,
approvers are reminded of unapproved bills due within BILLBOT_REMIND_DAYS_BEFORE days (their
delegate when they are away), once per bill, person and day, in working hours only; bills
still unapproved BILLBOT_ESCALATE_AFTER_HOURS after the end of their due date go to the admins.
Two replicas ticking at once send each reminder once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from billbot.clock import FixedClock
from billbot.sandbox.serving import serve_in_thread
from billbot.server import build_web_app
from billbot.slackapp.reminders import reminder_tick
from billbot.storage import bill_copies
from billbot.storage.db import session_scope
from tests.e2e.conftest import (
    ADA,
    ANN,
    BEN,
    CHANNEL,
    OSCAR,
    Stack,
    approve,
    audit,
    due_bills,
    eventually,
    post_digest,
)
from tests.support.holds import hold_modal_open, press_hold, question_values

EVERY_DAY = "mon-sun"


def at(hour: int, minute: int = 0, *, days: int = 0) -> datetime:
    """Today's date as the sandbox sees it (plus `days`), at hour:minute UTC."""
    return datetime.combine(datetime.now(UTC).date() + timedelta(days=days), time(hour, minute),
                            tzinfo=UTC)


def dms(stack: Stack, user: str) -> list[str]:
    """The reminders and escalations in the person's DM (not App Home's bill cards)."""
    return [m.text for m in stack.workspace.messages(f"D{user}") if m.bot_id
            and m.text.startswith((":alarm_clock:", ":rotating_light:"))]


def unapproved_within(stack: Stack, days: int, approved: set[str]) -> list[dict[str, Any]]:
    """What the reminders must cover, from the sandbox's own books."""
    last = date.today() + timedelta(days=days)
    return [b for b in due_bills(stack, within=days) if b["id"] not in approved
            and date.fromisoformat(str(b["dueDate"])[:10]) <= last]


def overdue_by(stack: Stack, days: int) -> list[dict[str, Any]]:
    first = date.today() - timedelta(days=days)
    return [b for b in due_bills(stack) if date.fromisoformat(str(b["dueDate"])[:10]) <= first]


async def tick(stack: Stack, clock: FixedClock, when: datetime) -> int:
    clock.set(when)
    return int(await asyncio.to_thread(stack.bot_server.run, reminder_tick(stack.bot)))


async def digest_with_rows(stack: Stack) -> Any:
    """The digest, once its rows are saved (a moment after Slack shows it): a tick before
    then finds no message showing the bills and leaves them to the next tick."""
    main = await post_digest(stack)

    def rows_saved() -> bool:
        with session_scope(stack.bot.engine, read_only=True) as session:
            return bool(bill_copies.digest_shown(session, channel_id=CHANNEL, digest_ts=main.ts))
    await eventually(rows_saved)
    return main


async def test_reminders_and_escalations_by_dm_once_a_day_in_working_hours(
        stack_factory: Callable[..., Stack]) -> None:
    clock = FixedClock(at(8, 30))
    stack = stack_factory(clock=clock, billbot_notify="dm", billbot_digest_days=EVERY_DAY)
    main = await digest_with_rows(stack)
    approved, held = sorted(unapproved_within(stack, 2, set()), key=lambda b: b["dueDate"])[:2]
    await approve(stack, main, approved["id"], ANN)
    # A held bill waits on its release, not on approvers: it is neither reminded nor escalated.
    await press_hold(stack.driver, BEN, CHANNEL, main, held["id"])
    await eventually(lambda: hold_modal_open(stack.workspace, BEN))
    await stack.driver.submit_view(BEN, question_values("Which delivery is this invoice for?"))
    await eventually(lambda: audit(stack, "hold.placed"))
    skipped = {approved["id"], held["id"]}

    assert await tick(stack, clock, at(8, 30)) == 0  # before 09:00: nothing
    assert dms(stack, ANN) == dms(stack, BEN) == dms(stack, ADA) == []

    sent = await tick(stack, clock, at(10))
    waiting = unapproved_within(stack, 2, skipped)
    late = [b for b in overdue_by(stack, 2) if b["id"] not in skipped]
    assert waiting and late
    assert sent == 2 * len(waiting) + len(late)
    for person in (ANN, BEN):
        texts = dms(stack, person)
        assert len(texts) == len(waiting)
        assert all("waiting for your approval" in t and "Open its row" in t for t in texts)
        assert all(f"/archives/{CHANNEL}/p" in t for t in texts)
        assert not any(f"*{b['reference']}*" in t for t in texts for b in (approved, held))
    escalations = dms(stack, ADA)
    assert len(escalations) == len(late)
    assert {b["reference"] for b in late} == {
        next(r for r in (b["reference"] for b in late) if f"*{r}*" in t) for t in escalations}

    # Later ticks the same day send nothing again; after 17:00 nothing at all.
    assert await tick(stack, clock, at(10, 5)) == 0
    assert await tick(stack, clock, at(16, 55)) == 0
    assert await tick(stack, clock, at(17, 30, days=1)) == 0
    # The next working day, each is reminded once more (and a bill due a day later joins).
    assert await tick(stack, clock, at(9, 0, days=1)) > 0
    assert len(dms(stack, BEN)) == len(waiting) + len(unapproved_within(stack, 3, skipped))
    assert not stack.workspace.violations


async def test_both_posts_in_the_bills_thread_and_reminds_the_delegate(
        stack_factory: Callable[..., Stack]) -> None:
    clock = FixedClock(at(9, 5))
    stack = stack_factory(clock=clock, billbot_notify="both", billbot_digest_days=EVERY_DAY,
                          billbot_remind_days_before="0", billbot_escalate_after_hours="1000")
    main = await digest_with_rows(stack)
    today = datetime.now(UTC).date().isoformat()
    response = await stack.driver.slash_command(BEN, CHANNEL, f"away {today} {today} <@{OSCAR}|o>")
    assert response.status == 200
    await eventually(lambda: any("acts for you" in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, BEN)))

    sent = await tick(stack, clock, at(11))
    waiting = unapproved_within(stack, 0, set())
    assert sent == 3 * len(waiting)  # Ann's DM, Oscar's DM (for Ben), the thread post
    assert dms(stack, BEN) == []
    assert all(f"you cover for <@{BEN}>" in t for t in dms(stack, OSCAR))
    assert len(dms(stack, OSCAR)) == len(dms(stack, ANN)) == len(waiting)
    # One post in the digest's thread names every waiting bill, a line each; DMs link to rows.
    [post] = [m.text for m in stack.workspace.thread(CHANNEL, main.ts) if "Reminder" in m.text]
    assert f"{len(waiting)} bills are waiting for approval" in post
    assert all(post.count(f"*{bill['reference']}*") == 1 for bill in waiting)
    assert f"<@{ANN}>" in post and f"<@{OSCAR}>" in post and f"<@{BEN}>" not in post
    assert "|Open its row>" not in post  # the rows are in this thread
    assert all("|Open its row>" in t for t in dms(stack, ANN))
    # The rows' links are asked once per message carrying rows, not once per bill and person.
    assert 1 <= len(stack.workspace.calls("chat.getPermalink")) <= 2 < len(waiting)
    assert await tick(stack, clock, at(12)) == 0
    assert dms(stack, ADA) == []  # nothing is 1000 hours late


async def test_channel_mode_sends_no_direct_messages(stack_factory: Callable[..., Stack]) -> None:
    clock = FixedClock(at(9, 5))
    stack = stack_factory(clock=clock, billbot_digest_days=EVERY_DAY,
                          billbot_remind_days_before="0")
    main = await digest_with_rows(stack)
    sent = await tick(stack, clock, at(9, 30))
    assert sent > 0
    assert dms(stack, ANN) == dms(stack, BEN) == dms(stack, ADA) == []
    thread = [m.text for m in stack.workspace.thread(CHANNEL, main.ts)]
    assert any(t.startswith(":alarm_clock: Reminder for") for t in thread)
    assert any(t.startswith(":rotating_light: Escalated to") and f"<@{ADA}>" in t
               for t in thread)


async def test_channel_mode_waits_for_a_message_showing_the_bill(
        stack_factory: Callable[..., Stack]) -> None:
    """Before the day's digest no message shows the bills: no top-level post per bill (which
    would bury the channel); the tick after the digest reminds in its thread."""
    clock = FixedClock(at(9, 5))
    stack = stack_factory(clock=clock, billbot_digest_days=EVERY_DAY,
                          billbot_remind_days_before="0")
    assert await tick(stack, clock, at(9, 10)) == 0
    assert [m for m in stack.workspace.messages(CHANNEL) if m.bot_id] == []
    main = await digest_with_rows(stack)
    assert await tick(stack, clock, at(9, 30)) > 0
    top_level = [m for m in stack.workspace.messages(CHANNEL) if m.bot_id]
    assert [m.ts for m in top_level] == [main.ts]
    assert any(m.text.startswith(":alarm_clock: Reminder for")
               for m in stack.workspace.thread(CHANNEL, main.ts))


async def test_two_replicas_send_each_reminder_once(stack_factory: Callable[..., Stack]) -> None:
    clock = FixedClock(at(10))
    stack = stack_factory(clock=clock, billbot_notify="dm", billbot_digest_days=EVERY_DAY)
    # A second `billbot run` on the same database, Slack and Codat.
    app, other_bot = build_web_app(stack.settings, run_scheduler=False, clock=clock)
    other = serve_in_thread(app)
    try:
        ticks = [asyncio.to_thread(server.run, reminder_tick(bot))
                 for server, bot in ((stack.bot_server, stack.bot), (other, other_bot))
                 for _ in range(3)]
        counts = await asyncio.gather(*ticks)
    finally:
        other.stop()
    # Both replicas post into the same DMs: one Slack turned away (429 past its retries) gave
    # its claim back, and the next tick sends it.
    counts.append(await tick(stack, clock, at(10, 5)))
    waiting = unapproved_within(stack, 2, set())
    late = overdue_by(stack, 2)
    assert sum(counts) == 2 * len(waiting) + len(late), counts
    for person, expected in ((ANN, len(waiting)), (BEN, len(waiting)), (ADA, len(late))):
        texts = dms(stack, person)
        assert len(texts) == len(set(texts)) == expected
