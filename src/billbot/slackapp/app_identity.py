"""Links into billbot's App Home: `slack://app?team=T…&id=A…&tab=home` needs the workspace id
(auth.test) and the app id (auth.test when it says, else bots.info with the bot id)."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from billbot.runtime import Billbot

logger = logging.getLogger("billbot.app_identity")


async def app_home_url(bot: Billbot) -> str | None:
    """The deep link to the app's Home tab; None when Slack would not say who we are."""
    ids = bot.app_identity
    if "app_id" not in ids:
        try:
            me = await bot.slack.auth_test()
            team, app, bot_id = me.get("team_id"), me.get("app_id"), me.get("bot_id")
            if not app and bot_id:
                app = (await bot.slack.bots_info(bot=str(bot_id)))["bot"]["app_id"]
        except Exception:
            logger.warning("the app id could not be read: no App Home link")
            return None
        if not (team and app):
            return None
        ids.update(team_id=str(team), app_id=str(app))
    return "slack://app?" + urlencode({"team": ids["team_id"], "id": ids["app_id"],
                                       "tab": "home"})


__all__ = ["app_home_url"]
