"""Installing with OAuth v2 (authorize page, then oauth.v2.access through slack_sdk), and the
token-only methods: auth.test and views.publish (App Home)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from billbot.sandbox.slack import SlackWorkspace
from tests.sandbox.slack.standin import ALICE, BOB, BOT_TOKEN, served_workspace

REDIRECT = "https://billbot.example/slack/oauth_redirect"
# slack_sdk's own oauth_v2_access still uses aiohttp's deprecated BasicAuth.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
def ws() -> Iterator[SlackWorkspace]:
    yield from served_workspace()


async def refused(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return str(caught.value.response["error"])


async def install(ws: SlackWorkspace, **query: str) -> dict[str, list[str]]:
    """The installer's browser: the authorize page redirects back with a code."""
    base = ws.api_url.removesuffix("/api/")
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{base}/oauth/v2/authorize", params={
            "client_id": ws.oauth.client_id, "scope": "chat:write,commands",
            "redirect_uri": REDIRECT, "state": "s-1", **query})
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlparse(location).query)


async def test_install_exchanges_a_code_for_a_working_bot_token(ws: SlackWorkspace) -> None:
    back = await install(ws, user=BOB, user_scope="users:read")
    assert back["state"] == ["s-1"]
    oauth = AsyncWebClient(base_url=ws.api_url)
    answer = (await oauth.oauth_v2_access(
        client_id=ws.oauth.client_id, client_secret=ws.oauth.client_secret,
        code=back["code"][0], redirect_uri=REDIRECT)).data
    assert isinstance(answer, dict)
    assert answer["token_type"] == "bot" and answer["access_token"].startswith("xoxb-")
    assert answer["scope"] == "chat:write,commands"
    assert (answer["bot_user_id"], answer["app_id"]) == (ws.bot_user_id, ws.app_id)
    assert answer["team"] == {"name": ws.team_name, "id": ws.team_id}
    assert answer["is_enterprise_install"] is False and answer["enterprise"] is None
    assert answer["authed_user"]["id"] == BOB
    assert answer["authed_user"]["access_token"].startswith("xoxp-")

    installed = AsyncWebClient(token=answer["access_token"], base_url=ws.api_url)
    assert (await installed.auth_test())["user_id"] == ws.bot_user_id
    # The code is spent.
    assert await refused(oauth.oauth_v2_access(
        client_id=ws.oauth.client_id, client_secret=ws.oauth.client_secret,
        code=back["code"][0])) == "invalid_code"


async def test_oauth_v2_access_refuses_what_slack_refuses(ws: SlackWorkspace) -> None:
    oauth = AsyncWebClient(base_url=ws.api_url)
    cid, secret = ws.oauth.client_id, ws.oauth.client_secret
    code = (await install(ws))["code"][0]
    assert await refused(oauth.oauth_v2_access(client_id="1.2", client_secret=secret,
                                               code=code)) == "invalid_client_id"
    assert await refused(oauth.oauth_v2_access(client_id=cid, client_secret="nope",
                                               code=code)) == "bad_client_secret"
    assert await refused(oauth.oauth_v2_access(client_id=cid, client_secret=secret,
                                               code="nope")) == "invalid_code"
    assert await refused(oauth.oauth_v2_access(
        client_id=cid, client_secret=secret, code=code,
        redirect_uri="https://elsewhere.example/")) == "bad_redirect_uri"
    assert await refused(oauth.oauth_v2_access(client_id=cid, client_secret=secret,
                                               code=code, grant_type="password")) == \
        "invalid_grant_type"
    # Client credentials as parameters work as well as Basic auth.
    params = await oauth.api_call("oauth.v2.access", params={
        "client_id": cid, "client_secret": secret, "code": code})
    assert params["ok"] is True and params["authed_user"] == {"id": ALICE}


async def test_the_authorize_page_checks_the_client(ws: SlackWorkspace) -> None:
    base = ws.api_url.removesuffix("/api/")
    async with httpx.AsyncClient() as http:
        wrong = await http.get(f"{base}/oauth/v2/authorize",
                               params={"client_id": "1.2", "redirect_uri": REDIRECT})
    assert (wrong.status_code, wrong.text) == (400, "invalid_client_id")


async def test_auth_test_describes_the_bot(ws: SlackWorkspace) -> None:
    answer = await AsyncWebClient(token=BOT_TOKEN, base_url=ws.api_url).auth_test()
    assert (answer["team_id"], answer["user_id"], answer["bot_id"]) == (
        ws.team_id, ws.bot_user_id, ws.bot_id)
    assert answer["url"] == f"https://{ws.team_domain}.slack.com/"
    assert await refused(AsyncWebClient(token="xoxb-forged", base_url=ws.api_url)
                         .auth_test()) == "invalid_auth"


def home(blocks: int) -> dict[str, Any]:
    return {"type": "home", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"line {i}"}}
        for i in range(blocks)]}


async def test_views_publish_sets_a_home_tab_of_at_most_100_blocks(ws: SlackWorkspace) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=ws.api_url)
    published = (await client.views_publish(user_id=ALICE, view=home(100)))["view"]
    assert published["type"] == "home" and len(published["blocks"]) == 100
    again = await client.views_publish(user_id=ALICE, view=home(1), hash=published["hash"])
    assert again["view"]["id"] == published["id"]
    assert await refused(client.views_publish(user_id=ALICE, view=home(2),
                                              hash=published["hash"])) == "hash_conflict"
    assert await refused(client.views_publish(user_id=ALICE, view=home(101))) == \
        "invalid_arguments"
    assert await refused(client.views_publish(user_id="U0NOBODY", view=home(1))) == \
        "user_not_found"
    assert any("100" in v.problem for v in ws.violations)
