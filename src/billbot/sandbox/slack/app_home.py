"""App Home as Slack drives it: opening the Home tab sends `app_home_opened` (only when the
manifest enables the tab and subscribes to the event), and a click in the published Home view
sends `block_actions` from a view container (no channel, no message, no response_url)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from billbot.sandbox.slack import payloads
from billbot.sandbox.slack.buttons import find_button
from billbot.sandbox.slack.manifest_scopes import find_manifest
from billbot.sandbox.slack.model import JsonDict

if TYPE_CHECKING:
    from billbot.sandbox.slack.driver import BotResponse, SlackDriver


def manifest_home(path: Any = None) -> tuple[bool, tuple[str, ...]]:
    """(Home tab enabled, bot events subscribed) as the manifest declares them."""
    data = yaml.safe_load((path or find_manifest()).read_text(encoding="utf-8")) or {}
    home = ((data.get("features") or {}).get("app_home") or {})
    events = ((data.get("settings") or {}).get("event_subscriptions") or {}).get("bot_events")
    return bool(home.get("home_tab_enabled")), tuple(e for e in events or [] if isinstance(e, str))


async def open_home(driver: SlackDriver, user_id: str) -> BotResponse | None:
    """The person opens the app's Home tab; None when Slack would send the app nothing."""
    ws = driver.workspace
    enabled, events = manifest_home()
    if not enabled or "app_home_opened" not in events:
        return None
    if ws.user(user_id) is None:
        raise LookupError(f"no user {user_id} in the workspace")
    dm = ws.open_dm(user_id)
    assert dm is not None
    event: JsonDict = {"type": "app_home_opened", "user": user_id, "channel": dm.id,
                       "tab": "home", "event_ts": ws.ids.ts()}
    home = ws.views.home(user_id)
    if home is not None:  # Slack includes the view last published, if any
        event["view"] = home.to_slack(ws.team_id, ws.app_id, ws.bot_id)
    return await driver.send_event(event)


async def click_home(driver: SlackDriver, user_id: str, action_id: str | None = None, *,
                     text: str | None = None, block_id: str | None = None,
                     row: str | None = None) -> BotResponse:
    """Click a button in the person's published Home view."""
    ws = driver.workspace
    user = ws.user(user_id)
    home = ws.views.home(user_id)
    if user is None or home is None:
        raise LookupError(f"{user_id} has no Home view to click in")
    button = find_button(home.blocks, action_id=action_id, text=text, block_id=block_id,
                         row=row)
    payload: JsonDict = {
        "type": "block_actions", "user": payloads.user_ref(ws, user), "api_app_id": ws.app_id,
        "token": ws.verification_token, "container": {"type": "view", "view_id": home.id},
        "trigger_id": ws.issue_trigger(user_id), "team": payloads.team_ref(ws),
        "enterprise": None, "is_enterprise_install": False,
        "view": home.to_slack(ws.team_id, ws.app_id, ws.bot_id),
        "state": {"values": {}},
        "actions": [payloads.button_action(button.block_id, button.element, ws.ids.ts())],
    }
    return await driver.post_signed(payloads.interaction_body(payload), payloads.FORM)


__all__ = ["click_home", "manifest_home", "open_home"]
