"""Holding and releasing a bill as a person does, and reading the bill's thread, for the
e2e and browser tests of holds and the thread history."""

from __future__ import annotations

from typing import Any

from billbot.sandbox.slack.driver import BotResponse, SlackDriver
from billbot.sandbox.slack.model import Message
from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.slackapp.blocks import actions_block_id
from billbot.slackapp.hold_blocks import ACTION_HOLD, ACTION_RELEASE, CALLBACK_HOLD


def question_values(question: str) -> dict[str, Any]:
    return {"question": {"question": {"type": "plain_text_input", "value": question}}}


def hold_modal_open(workspace: SlackWorkspace, user: str) -> bool:
    view = workspace.open_view(user)
    return view is not None and view.definition.get("callback_id") == CALLBACK_HOLD


async def press_hold(driver: SlackDriver, user: str, channel: str, message: Message,
                     bill_id: str) -> BotResponse:
    return await driver.click(user, channel, message.ts, ACTION_HOLD,
                              block_id=actions_block_id(bill_id))


async def press_release(driver: SlackDriver, user: str, channel: str, message: Message,
                        bill_id: str) -> BotResponse:
    return await driver.click(user, channel, message.ts, ACTION_RELEASE,
                              block_id=actions_block_id(bill_id))


def thread_texts(workspace: SlackWorkspace, channel: str, parent_ts: str) -> list[str]:
    """The bot's replies in a thread that are history entries (not digest continuations)."""
    return [m.text for m in workspace.thread(channel, parent_ts) if m.bot_id and not m.blocks]
