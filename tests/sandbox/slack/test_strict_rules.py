"""One test per rule where Slack refuses (or flags) what a lenient stand-in would accept
(issue 13): membership, scopes, rate limits, tokens, view size, archived channels and
block_id reuse. The acknowledgement deadline is in test_ack_deadline.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billbot.sandbox.serving import ServedApp
from billbot.sandbox.slack import SlackWorkspace
from billbot.sandbox.slack.manifest_scopes import find_manifest, manifest_bot_scopes
from billbot.sandbox.slack.method_rules import POST_BURST, TIER_PER_MINUTE
from billbot.sandbox.slack.ratelimits import RateLimits
from tests.sandbox.slack.conftest import ALICE, BOT_TOKEN, FINANCE

LOBBY, ATTIC = "C0LOBBY", "C0ATTIC"


@pytest.fixture
def sync_client(workspace: SlackWorkspace, standin: ServedApp) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=workspace.api_url)


def refused(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as error:
        call()
    answer: dict[str, Any] = dict(error.value.response.data)
    answer["_status"] = error.value.response.status_code
    answer["_headers"] = error.value.response.headers
    return answer


class TestMembership:
    def test_the_bot_posts_only_where_it_is_a_member(self, sync_client: WebClient,
                                                     workspace: SlackWorkspace) -> None:
        workspace.add_channel(LOBBY, "lobby", bot_member=False)
        assert refused(lambda: sync_client.chat_postMessage(
            channel=LOBBY, text="hi"))["error"] == "not_in_channel"
        workspace.set_bot_member(LOBBY, True)
        ts = sync_client.chat_postMessage(channel=LOBBY, text="hi")["ts"]
        workspace.set_bot_member(LOBBY, False)
        assert refused(lambda: sync_client.chat_update(
            channel=LOBBY, ts=ts, text="edited"))["error"] == "not_in_channel"
        assert workspace.channel(LOBBY).to_slack(0)["is_member"] is False  # type: ignore[union-attr]

    def test_chat_write_public_lets_the_bot_post_without_joining(
            self, sync_client: WebClient, workspace: SlackWorkspace) -> None:
        workspace.credentials.scopes = ("chat:write", "chat:write.public")
        workspace.add_channel(LOBBY, "lobby", bot_member=False)
        assert sync_client.chat_postMessage(channel=LOBBY, text="hi")["ok"]


class TestArchived:
    def test_an_archived_channel_refuses_posts(self, sync_client: WebClient,
                                               workspace: SlackWorkspace) -> None:
        workspace.add_channel(ATTIC, "attic", archived=True)
        assert refused(lambda: sync_client.chat_postMessage(
            channel=ATTIC, text="hi"))["error"] == "is_archived"
        assert workspace.channel(ATTIC).to_slack(0)["is_archived"] is True  # type: ignore[union-attr]


class TestScopes:
    def test_the_scopes_are_exactly_the_manifests(self, sync_client: WebClient) -> None:
        assert find_manifest().name == "manifest.yml"
        assert manifest_bot_scopes() == ("chat:write", "commands", "im:write", "users:read",
                                         "files:write", "files:read", "channels:read",
                                         "groups:read", "usergroups:read")
        answer = sync_client.auth_test()
        assert answer.headers["x-oauth-scopes"] == ",".join(manifest_bot_scopes())

    def test_a_method_the_scopes_do_not_grant_is_missing_scope(
            self, sync_client: WebClient, workspace: SlackWorkspace) -> None:
        # Every method billbot calls is granted by the manifest; an install without one of
        # its scopes shows the refusal.
        granted = tuple(s for s in manifest_bot_scopes() if s != "usergroups:read")
        workspace.credentials.scopes = granted
        answer = refused(lambda: sync_client.usergroups_users_list(usergroup="S0FINANCE"))
        assert (answer["error"], answer["needed"], answer["provided"]) == (
            "missing_scope", "usergroups:read", ",".join(granted))
        assert answer["_headers"]["x-accepted-oauth-scopes"] == "usergroups:read"
        # channels:read is granted (/bills setup asks whether billbot is in the channel).
        assert sync_client.conversations_info(channel=FINANCE)["channel"]["is_member"] is True

    def test_a_test_may_grant_its_own_scopes(self, standin: ServedApp) -> None:
        ws = SlackWorkspace(bot_tokens=[BOT_TOKEN], scopes=["chat:write"])
        assert ws.credentials.scopes == ("chat:write",)


class TestTokens:
    def test_only_issued_tokens_of_the_right_kind_are_accepted(
            self, workspace: SlackWorkspace, standin: ServedApp) -> None:
        url = workspace.api_url
        assert refused(lambda: WebClient(token="xoxb-made-up", base_url=url).auth_test(
        ))["error"] == "invalid_auth"
        app = WebClient(token=workspace.app_token, base_url=url)
        assert workspace.app_token.startswith("xapp-")
        assert refused(lambda: app.chat_postMessage(channel=FINANCE, text="hi"))["error"] \
            == "not_allowed_token_type"
        bot = WebClient(token=BOT_TOKEN, base_url=url)
        assert refused(lambda: bot.apps_connections_open(app_token=BOT_TOKEN))["error"] in (
            "not_allowed_token_type", "invalid_auth")

    def test_a_fresh_workspace_issues_its_own_bot_token(self) -> None:
        first, second = SlackWorkspace(), SlackWorkspace()
        assert first.bot_token.startswith("xoxb-") and first.bot_token != second.bot_token


class TestRateLimits:
    def test_posts_to_one_channel_are_limited_to_a_short_burst(
            self, sync_client: WebClient, workspace: SlackWorkspace) -> None:
        workspace.add_channel(LOBBY, "lobby")
        outcomes = []
        for n in range(POST_BURST + 2):
            try:
                sync_client.chat_postMessage(channel=FINANCE, text=f"post {n}")
                outcomes.append("ok")
            except SlackApiError as error:
                assert error.response.status_code == 429
                assert int(error.response.headers["Retry-After"]) >= 1
                outcomes.append(error.response["error"])
        assert outcomes == ["ok"] * POST_BURST + ["ratelimited"] * 2
        assert sync_client.chat_postMessage(channel=LOBBY, text="another channel")["ok"]

    def test_a_bucket_refills_with_time(self) -> None:
        now = [0.0]
        limits = RateLimits(monotonic=lambda: now[0])
        for _ in range(TIER_PER_MINUTE[3]):
            assert limits.retry_after("chat.update", None) is None
        assert limits.retry_after("chat.update", None) == 2  # 50/min: one every 1.2 s
        now[0] += 1.2
        assert limits.retry_after("chat.update", None) is None
        assert limits.retry_after("chat.postMessage", "C1") is None

    def test_limits_can_be_switched_off(self, sync_client: WebClient,
                                        workspace: SlackWorkspace) -> None:
        workspace.rate_limits.enabled = False  # this test shows the switch itself
        for n in range(POST_BURST * 3):
            assert sync_client.chat_postMessage(channel=FINANCE, text=f"post {n}")["ok"]


class TestViewSize:
    def test_a_view_over_250_kb_is_view_too_large(self, sync_client: WebClient,
                                                  workspace: SlackWorkspace) -> None:
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}
                  for _ in range(90)]
        view = {"type": "modal", "title": {"type": "plain_text", "text": "Big"},
                "blocks": blocks}
        answer = refused(lambda: sync_client.views_open(
            trigger_id=workspace.issue_trigger(ALICE), view=view))
        assert answer["error"] == "view_too_large"


class TestBlockIdReuse:
    def test_an_update_reusing_a_block_id_is_a_violation(self, sync_client: WebClient,
                                                         workspace: SlackWorkspace) -> None:
        def section(block_id: str, text: str) -> list[dict[str, Any]]:
            return [{"type": "section", "block_id": block_id,
                     "text": {"type": "mrkdwn", "text": text}}]

        ts = sync_client.chat_postMessage(channel=FINANCE, text="v1",
                                          blocks=section("row-1", "v1"))["ts"]
        sync_client.chat_update(channel=FINANCE, ts=ts, text="v2", blocks=section("row-2", "v2"))
        assert workspace.violations == []
        sync_client.chat_update(channel=FINANCE, ts=ts, text="v3", blocks=section("row-1", "v3"))
        (violation,) = workspace.violations
        assert violation.method == "chat.update" and "row-1" in violation.problem
