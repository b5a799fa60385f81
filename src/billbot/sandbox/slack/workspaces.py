"""Several workspaces on one stand-in, as one Slack app installed in several teams: each has
its own people, channels, bot user and tokens, and shares the app (its id, its OAuth client
and the server). Events from a workspace carry its `team_id`; a Web API call acts in the
workspace whose token it carries."""

from __future__ import annotations

from billbot.sandbox.slack.model import JsonDict
from billbot.sandbox.slack.workspace import SlackWorkspace


def add_workspace(primary: SlackWorkspace, *, team_id: str, team_domain: str | None = None,
                  team_name: str | None = None, bot_user_id: str | None = None,
                  installed: bool = True) -> SlackWorkspace:
    """Another team served beside `primary`. `installed=False`: the app holds no working token
    there until someone installs it (`/oauth/v2/authorize?team=...`)."""
    suffix = team_id.removeprefix("T")
    other = SlackWorkspace(clock=primary.clock, team_id=team_id,
                           team_domain=team_domain or team_id.lower(),
                           team_name=team_name or team_id,
                           bot_user_id=bot_user_id or f"UBOT{suffix}", bot_id=f"BBOT{suffix}",
                           app_id=primary.app_id, scopes=primary.credentials.scopes)
    other.oauth, other.teams = primary.oauth, primary.teams
    other.ids.share(primary.ids)
    other.base_url = primary.base_url
    primary.teams.add(other)
    if not installed:
        other.credentials.revoke_bot_tokens()
    return other


def uninstall(workspace: SlackWorkspace) -> list[JsonDict]:
    """Someone removes the app from the workspace: every bot token it held stops working, and
    Slack sends `tokens_revoked` then `app_uninstalled` (returned for a driver to deliver)."""
    with workspace.lock:
        workspace.credentials.revoke_bot_tokens()
    workspace.oauth.forget_team(workspace.team_id)
    return [{"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [workspace.bot_user_id]}},
            {"type": "app_uninstalled"}]
