"""A channel the bot was never invited to: Slack refuses its posts (`not_in_channel`), so
billbot tells the person who asked and the admins (once) to invite it, and does not retry."""

from __future__ import annotations

from datetime import date

from billbot.slackapp.digests import scheduled_digest
from tests.e2e.conftest import ADA, ANN, CHANNEL, Stack, eventually


def _admin_dms(stack: Stack) -> list[str]:
    return [m.text for m in stack.workspace.messages(f"D{ADA}")]


async def test_a_manual_digest_tells_the_asker_and_the_admins_once(stack: Stack) -> None:
    stack.workspace.set_bot_member(CHANNEL, False)
    for _ in range(2):
        response = await stack.driver.slash_command(ANN, CHANNEL, "digest")
        assert response.status == 200
    await eventually(lambda: len([e for e in stack.workspace.ephemerals(CHANNEL, ANN)
                                  if "/invite @billbot" in e.text]) == 2)
    await eventually(lambda: _admin_dms(stack))
    assert len(_admin_dms(stack)) == 1, "the admins are told once, not on every try"
    assert "/invite @billbot" in _admin_dms(stack)[0]
    assert stack.workspace.messages(CHANNEL) == []
    refused = [c for c in stack.workspace.calls("chat.postMessage")
               if c.answer.get("error") == "not_in_channel"]
    assert len(refused) == 2


async def test_a_scheduled_digest_is_not_retried_into_a_refusing_channel(stack: Stack) -> None:
    stack.workspace.set_bot_member(CHANNEL, False)
    binding = await stack.bot.binding_for(CHANNEL)
    assert binding is not None
    day = date(2026, 12, 1)
    assert await scheduled_digest(stack.bot, binding, day) is False
    # The claim is kept: the next tick does not try (and is not refused) again.
    assert await scheduled_digest(stack.bot, binding, day) is False
    assert len(stack.workspace.calls("chat.postMessage")) == 2  # one refusal + one admin DM
    assert len(_admin_dms(stack)) == 1


async def test_the_admins_are_told_again_once_posting_worked_in_between(stack: Stack) -> None:
    stack.workspace.set_bot_member(CHANNEL, False)
    await stack.driver.slash_command(ANN, CHANNEL, "digest")
    await eventually(lambda: len(_admin_dms(stack)) == 1)
    stack.workspace.set_bot_member(CHANNEL, True)  # someone invited the bot
    await stack.driver.slash_command(ANN, CHANNEL, "digest")
    await eventually(lambda: stack.workspace.messages(CHANNEL) != [])
    stack.workspace.set_bot_member(CHANNEL, False)  # and later removed it again
    await stack.driver.slash_command(ANN, CHANNEL, "digest")
    await eventually(lambda: len(_admin_dms(stack)) == 2)
