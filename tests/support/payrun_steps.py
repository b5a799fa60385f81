"""A pay run as a payer drives it: open it (digest header button or `/bills payrun`), untick
bills in the form, submit, read the review, confirm; and what the run shows afterwards."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from billbot.sandbox.slack.driver import BotResponse, SlackDriver
from billbot.sandbox.slack.model import Message, View
from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.services import approvals
from billbot.slack_web.block_revisions import base_block_id
from billbot.slackapp.digest_actions import ACTION_PAYRUN_OPEN, DIGEST_ACTIONS_BLOCK_ID
from billbot.slackapp.payrun_blocks import CALLBACK_PAYRUN_FORM, CALLBACK_PAYRUN_REVIEW

Values = dict[str, dict[str, dict[str, Any]]]


def top_view(driver: SlackDriver, user: str, callback: str) -> View | None:
    view = driver.open_view(user)
    if view is not None and view.definition.get("callback_id") == callback:
        return view
    return None


def form_of(driver: SlackDriver, user: str) -> View | None:
    return top_view(driver, user, CALLBACK_PAYRUN_FORM)


def review_of(driver: SlackDriver, user: str) -> View | None:
    return top_view(driver, user, CALLBACK_PAYRUN_REVIEW)


async def click_pay_approved(driver: SlackDriver, user: str, channel: str,
                             digest: Message) -> BotResponse:
    return await driver.click(user, channel, digest.ts, ACTION_PAYRUN_OPEN,
                              block_id=DIGEST_ACTIONS_BLOCK_ID)


def offered(view: View) -> dict[str, list[dict[str, Any]]]:
    """The form's checkbox groups: block_id -> its options."""
    return {b["block_id"]: b["element"]["options"] for b in view.definition["blocks"]
            if b.get("type") == "input" and b["element"]["type"] == "checkboxes"}


def offered_text(view: View) -> str:
    return " ".join(o["text"]["text"] + " " + o.get("description", {}).get("text", "")
                    for options in offered(view).values() for o in options)


def leave_out(view: View, references: set[str]) -> Values:
    """Form values that untick the bills whose reference is in `references`."""
    values: Values = {}
    for block_id, options in offered(view).items():
        kept = [o for o in options if o["text"]["text"].split(" · ")[0] not in references]
        values[block_id] = {"bills": {"type": "checkboxes", "selected_options": kept}}
    return values


async def through_the_pages(driver: SlackDriver, user: str,
                            first: Values | None = None) -> list[View]:
    """Submit every page of the form as shown (the first with `first`) until the review;
    the pages seen."""
    pages: list[View] = []
    values = first or {}
    while (page := form_of(driver, user)) is not None:
        pages.append(page)
        answer = await driver.submit_view(user, values)
        assert answer.outcome == "updated", (answer.outcome, answer.text)
        values = {}
    return pages


def view_text(view: View) -> str:
    return " ".join(str(b.get("text", {}).get("text", "")) for b in view.definition["blocks"])


def run_messages(workspace: SlackWorkspace, channel: str) -> list[Message]:
    return [m for m in workspace.messages(channel) if m.bot_id and any(
        base_block_id(b.get("block_id")) == "run-progress" for b in m.blocks)]


def run_text(message: Message) -> str:
    return " ".join(str(b.get("text", {}).get("text", "")) for b in message.blocks)


async def on_bot_loop(stack: Any, work: Any) -> Any:
    """Run a coroutine on the bot's own event loop (its Codat and Slack clients live there)."""
    return await asyncio.to_thread(stack.bot_server.run, work, timeout=600)


async def approve_all(stack: Any, bill_ids: list[str], user: str) -> None:
    """Approvals recorded through the approval service, as the Approve button records them
    (setting up hundreds of bills by clicks would only measure Slack's rate limits)."""
    await on_bot_loop(stack, _approve_all(stack, bill_ids, user))


async def _approve_all(stack: Any, bill_ids: list[str], user: str) -> None:
    bot = stack.bot
    binding = await bot.binding_for(stack.settings.billbot_channel)
    for bill_id in bill_ids:
        bill = await bot.codat.get_bill(binding.company_id, binding.connection_id, bill_id)
        result = await bot.db(lambda s, b=bill: approvals.approve(
            s, bill=b, binding=binding, user_id=user, request_id=None, policy=bot.policy,
            at=bot.clock.now()))
        assert result.state.is_approved, result.message


def amount(value: Any) -> Decimal:
    return Decimal(str(value))
