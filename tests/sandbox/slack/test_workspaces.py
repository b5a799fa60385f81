"""Several workspaces on one stand-in: installs into a chosen team, tokens that act only in the
team that issued them, token rotation (expiry, refresh grants) and uninstalls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from billbot.clock import FixedClock
from billbot.sandbox.slack import SlackWorkspace, add_workspace, uninstall
from billbot.sandbox.slack.payloads import event_callback
from tests.sandbox.slack.standin import FINANCE, served_workspace

REDIRECT = "https://billbot.example/slack/oauth_redirect"
OTHER_TEAM, OTHER_CHANNEL, CAROL = "T0OTHER", "C0OTHERFIN", "U0CAROL"
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
def ws() -> Iterator[SlackWorkspace]:
    yield from served_workspace()


def other_team(ws: SlackWorkspace) -> SlackWorkspace:
    other = add_workspace(ws, team_id=OTHER_TEAM, team_name="Other Co", installed=False)
    other.add_user(CAROL, "carol")
    other.add_channel(OTHER_CHANNEL, "finance")
    return other


async def install(ws: SlackWorkspace, team: str) -> dict[str, Any]:
    base = ws.api_url.removesuffix("/api/")
    async with httpx.AsyncClient() as http:
        back = await http.get(f"{base}/oauth/v2/authorize", params={
            "client_id": ws.oauth.client_id, "scope": "chat:write,commands",
            "redirect_uri": REDIRECT, "state": "s", "team": team})
    assert back.status_code == 302, back.text
    code = parse_qs(urlparse(back.headers["location"]).query)["code"][0]
    oauth = AsyncWebClient(base_url=ws.api_url)
    answer = (await oauth.oauth_v2_access(client_id=ws.oauth.client_id,
                                          client_secret=ws.oauth.client_secret, code=code,
                                          redirect_uri=REDIRECT)).data
    assert isinstance(answer, dict)
    return answer


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return str(caught.value.response["error"])


async def test_an_install_into_a_chosen_team_gives_a_token_that_acts_only_there(
        ws: SlackWorkspace) -> None:
    other = other_team(ws)
    answer = await install(ws, OTHER_TEAM)
    assert answer["team"] == {"id": OTHER_TEAM, "name": "Other Co"}
    assert answer["authed_user"]["id"] == CAROL  # the person of that team who approved it
    assert answer["bot_user_id"] == other.bot_user_id != ws.bot_user_id
    assert "refresh_token" not in answer  # no rotation unless the app turned it on
    client = AsyncWebClient(token=answer["access_token"], base_url=ws.api_url)
    assert (await client.auth_test())["team_id"] == OTHER_TEAM
    posted = await client.chat_postMessage(channel=OTHER_CHANNEL, text="hello")
    assert other.message(OTHER_CHANNEL, posted["ts"]) is not None
    # The first team's channel does not exist for this token, nor its people.
    assert await error_of(client.chat_postMessage(channel=FINANCE, text="x")) \
        == "channel_not_found"
    assert ws.messages(FINANCE) == []
    # Each team's own calls are recorded there.
    assert [c.method for c in other.calls()] == ["auth.test", "chat.postMessage",
                                                 "chat.postMessage"]
    # Events from the second team carry its id.
    delivered = event_callback(other, event={"type": "app_home_opened"}, event_id="Ev1",
                               event_time=0)
    assert delivered["team_id"] == OTHER_TEAM
    assert delivered["authorizations"][0]["team_id"] == OTHER_TEAM


async def test_an_unknown_team_is_refused_on_the_authorize_page(ws: SlackWorkspace) -> None:
    base = ws.api_url.removesuffix("/api/")
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{base}/oauth/v2/authorize", params={
            "client_id": ws.oauth.client_id, "redirect_uri": REDIRECT, "team": "T0NOPE"})
    assert (answer.status_code, answer.text) == (400, "team_not_found")


async def test_rotating_tokens_expire_and_a_refresh_grant_issues_a_working_one(
        ws: SlackWorkspace) -> None:
    assert isinstance(ws.clock, FixedClock)
    other = other_team(ws)
    ws.oauth.rotate_tokens = True
    answer = await install(ws, OTHER_TEAM)
    assert answer["access_token"].startswith("xoxe.xoxb-")
    assert answer["expires_in"] == 12 * 3600 and answer["refresh_token"].startswith("xoxe-1-")
    client = AsyncWebClient(token=answer["access_token"], base_url=ws.api_url)
    assert (await client.auth_test())["ok"]
    ws.clock.set(ws.clock.now() + timedelta(hours=12))
    assert await error_of(client.auth_test()) == "token_expired"

    oauth = AsyncWebClient(base_url=ws.api_url)
    cid, secret = ws.oauth.client_id, ws.oauth.client_secret
    assert await error_of(oauth.oauth_v2_access(
        client_id=cid, client_secret=secret, grant_type="refresh_token",
        refresh_token="xoxe-1-made-up")) == "invalid_refresh_token"
    fresh = (await oauth.oauth_v2_access(client_id=cid, client_secret=secret,
                                         grant_type="refresh_token",
                                         refresh_token=answer["refresh_token"])).data
    assert isinstance(fresh, dict)
    assert fresh["token_type"] == "bot" and fresh["team"]["id"] == OTHER_TEAM
    assert fresh["access_token"] != answer["access_token"]
    renewed = AsyncWebClient(token=fresh["access_token"], base_url=ws.api_url)
    assert (await renewed.auth_test())["team_id"] == other.team_id


async def test_an_uninstall_revokes_the_teams_tokens_and_tells_the_app(
        ws: SlackWorkspace) -> None:
    other = other_team(ws)
    ws.oauth.rotate_tokens = True
    answer = await install(ws, OTHER_TEAM)
    events = uninstall(other)
    assert [e["type"] for e in events] == ["tokens_revoked", "app_uninstalled"]
    assert events[0]["tokens"]["bot"] == [other.bot_user_id]
    client = AsyncWebClient(token=answer["access_token"], base_url=ws.api_url)
    assert await error_of(client.auth_test()) == "invalid_auth"
    oauth = AsyncWebClient(base_url=ws.api_url)
    assert await error_of(oauth.oauth_v2_access(
        client_id=ws.oauth.client_id, client_secret=ws.oauth.client_secret,
        grant_type="refresh_token", refresh_token=answer["refresh_token"])) \
        == "invalid_refresh_token"
    # The first team keeps working.
    first = AsyncWebClient(token=ws.bot_token, base_url=ws.api_url)
    assert (await first.auth_test())["team_id"] == ws.team_id
