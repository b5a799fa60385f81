"""Opening a modal from a click, and what the person is told when Slack refuses the trigger.

A trigger id is good for 3 s and one use: a click that waited (a busy server, a slow network)
comes back `expired_trigger_id`. Nothing was done yet, so the person is asked to click again.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from billbot.runtime import Billbot
from billbot.slackapp.interactions import ephemeral

logger = logging.getLogger("billbot.slackapp")

EXPIRED_TRIGGER_ERRORS = frozenset({"expired_trigger_id", "trigger_expired",
                                    "exchanged_trigger_id"})
CLICK_AGAIN = ("Slack did not open the form in time (the click expired before billbot could "
               "answer it). Nothing was recorded: please click the button again.")


async def open_modal(bot: Billbot, *, trigger_id: str, channel_id: str, user_id: str,
                     view: dict[str, Any]) -> AsyncSlackResponse | None:
    """views.open; None (and an ephemeral "click again") when the trigger had expired."""
    try:
        return await bot.slack.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        if error not in EXPIRED_TRIGGER_ERRORS:
            raise
    logger.info("views.open refused: the trigger had expired")
    await ephemeral(bot, channel_id, user_id, CLICK_AGAIN)
    return None
