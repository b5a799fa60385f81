"""Paying through the pay form's review step, as a person does: submit the form, see the
review ("you are about to pay X to Y from Z"), confirm it. Every test that pays a bill goes
through `submit_pay`, so the contract's "submitting (and confirming the review step that
follows it) records exactly one bill payment" is driven the same way everywhere."""

from __future__ import annotations

from typing import Any

from billbot.sandbox.slack.driver import BotResponse, SlackDriver
from billbot.sandbox.slack.model import View
from billbot.slackapp.pay_form import CALLBACK_PAY_REVIEW


def review_of(driver: SlackDriver, user: str) -> View | None:
    """The user's review step, when it is the modal on top."""
    view = driver.open_view(user)
    if view is not None and view.definition.get("callback_id") == CALLBACK_PAY_REVIEW:
        return view
    return None


async def submit_pay(driver: SlackDriver, user: str, values: dict[str, dict[str, Any]],
                     review: dict[str, dict[str, Any]] | None = None,
                     **kwargs: Any) -> BotResponse:
    """Submit the pay form and confirm its review (with `review`'s inputs, such as the
    duplicate checkbox); the form's own answer when it was refused inline (no review
    followed), else the confirmation's."""
    answer = await driver.submit_view(user, values, **kwargs)
    if answer.outcome != "updated" or review_of(driver, user) is None:
        return answer
    return await driver.submit_view(user, review or {})
