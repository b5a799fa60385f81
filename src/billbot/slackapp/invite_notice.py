"""When Slack will not take billbot's posts in a channel (`not_in_channel`: nobody invited the
bot; `is_archived`), retrying cannot help until a person acts. So billbot tells the person who
asked, and the admins once per channel, what to do, instead of retrying."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from billbot.domain.policy import Role
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import roles
from billbot.storage import slack_messages

logger = logging.getLogger("billbot.slack")
UNPOSTABLE = frozenset({"not_in_channel", "is_archived"})


def unpostable_error(exc: BaseException) -> str | None:
    """Slack's error when it refused a post because of the channel itself, else None."""
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error")
        if isinstance(error, str) and error in UNPOSTABLE:
            return error
    return None


def what_to_do(channel_id: str, error: str) -> str:
    if error == "is_archived":
        return (f"<#{channel_id}> is archived, so billbot cannot post there. Unarchive it, or "
                "bind billbot to another channel with `/bills connect` there.")
    return (f"billbot is not a member of <#{channel_id}>, so it cannot post there. Invite it "
            "with `/invite @billbot` in that channel, then try again.")


async def tell_admins_once(bot: Billbot, channel_id: str, error: str) -> None:
    """A direct message to each admin, the first time this channel refuses this way (across
    replicas and restarts; told again only after a post there has worked since)."""
    first = await bot.db(lambda s: slack_messages.claim_channel_notice(
        s, channel_id=channel_id, error=error, at=bot.clock.now()))
    if not first:
        return
    admins = await bot.db(lambda s: roles.members(s, bot.policy, Role.ADMIN), read_only=True)
    event(logger, "channel refuses posts", channel_id=channel_id, error=error,
          admins=len(admins))
    for admin in sorted(admins):
        try:
            await bot.slack.chat_postMessage(channel=admin, text=what_to_do(channel_id, error))
        except SlackApiError as exc:
            logger.warning("could not tell admin %s: %s", admin, exc.response.get("error"))
