"""The stand-in answers slack_sdk's clients (aiohttp and urllib) as Slack does, and records
every call with its parameters."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ButtonElement, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from billbot.sandbox.serving import ServedApp
from billbot.sandbox.slack import SlackWorkspace
from tests.sandbox.slack.conftest import ALICE, BOB, BOT_TOKEN, FINANCE, OUTSIDER

SECTION = {"type": "section", "block_id": "s1", "text": {"type": "mrkdwn", "text": "*BILL-1*"}}


@pytest.fixture
def sync_client(workspace: SlackWorkspace, standin: ServedApp) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=workspace.api_url)


class TestAuth:
    async def test_auth_test_describes_the_bot(self, client: AsyncWebClient,
                                               workspace: SlackWorkspace) -> None:
        answer = await client.auth_test()
        assert answer["user_id"] == workspace.bot_user_id
        assert answer["bot_id"] == workspace.bot_id and answer["team_id"] == workspace.team_id
        assert "chat:write" in answer.headers["x-oauth-scopes"]

    async def test_a_token_that_is_not_a_bot_token_is_refused(
            self, workspace: SlackWorkspace, standin: ServedApp) -> None:
        for token in ("xoxp-user-token", "nonsense"):
            with pytest.raises(SlackApiError) as refused:
                await AsyncWebClient(token=token, base_url=workspace.api_url).auth_test()
            assert refused.value.response["error"] == "invalid_auth"
        with pytest.raises(SlackApiError) as missing:
            await AsyncWebClient(base_url=workspace.api_url).auth_test()
        assert missing.value.response["error"] == "not_authed"

    async def test_a_workspace_accepts_only_the_tokens_it_issued(
            self, standin: ServedApp, workspace: SlackWorkspace) -> None:
        with pytest.raises(SlackApiError, match="invalid_auth"):
            await AsyncWebClient(token="xoxb-made-up", base_url=workspace.api_url).auth_test()
        assert (await AsyncWebClient(token=BOT_TOKEN,
                                     base_url=workspace.api_url).auth_test())["ok"]

    async def test_unknown_methods_are_refused(self, client: AsyncWebClient) -> None:
        with pytest.raises(SlackApiError) as refused:
            await client.api_call("chat.scheduleMessage", json={"channel": FINANCE})
        assert refused.value.response["error"] == "unknown_method"


class TestMessages:
    async def test_post_answers_like_slack_and_keeps_ts_increasing(
            self, client: AsyncWebClient, workspace: SlackWorkspace) -> None:
        first = await client.chat_postMessage(channel=FINANCE, text="one", blocks=[SECTION])
        second = await client.chat_postMessage(channel="#finance", text="two")
        assert first["channel"] == FINANCE and first["message"]["blocks"] == [SECTION]
        assert first["message"]["bot_id"] == workspace.bot_id
        assert float(second["ts"]) > float(first["ts"])
        assert [m.text for m in workspace.messages(FINANCE)] == ["one", "two"]
        (call, _) = workspace.calls("chat.postMessage")
        assert call.token == BOT_TOKEN and call.params["blocks"] == [SECTION]

    async def test_sdk_block_models_arrive_as_json(self, client: AsyncWebClient,
                                                   workspace: SlackWorkspace) -> None:
        block = SectionBlock(block_id="b", text="Pay?", accessory=ButtonElement(
            text="Pay", action_id="pay", value="bill-1"))
        await client.chat_postMessage(channel=FINANCE, text="Pay?", blocks=[block])
        (message,) = workspace.messages(FINANCE)
        assert message.blocks[0]["accessory"]["action_id"] == "pay"

    def test_a_form_encoded_call_with_blocks_as_a_json_string(
            self, sync_client: WebClient, workspace: SlackWorkspace) -> None:
        answer = sync_client.api_call("chat.postMessage", params={
            "channel": FINANCE, "text": "form", "blocks": json.dumps([SECTION])})
        assert answer["message"]["blocks"] == [SECTION]
        assert workspace.calls("chat.postMessage")[0].params["blocks"] == [SECTION]

    def test_slack_fills_in_missing_block_and_action_ids(
            self, sync_client: WebClient, workspace: SlackWorkspace) -> None:
        sync_client.chat_postMessage(channel=FINANCE, text="x", blocks=[
            {"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Go"}}]}])
        (block,) = workspace.messages(FINANCE)[0].blocks
        assert block["block_id"] and block["elements"][0]["action_id"]

    @pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
    def test_thread_replies_update_delete(self, sync_client: WebClient,
                                          workspace: SlackWorkspace) -> None:
        parent = sync_client.chat_postMessage(channel=FINANCE, text="digest")["ts"]
        reply = sync_client.chat_postMessage(channel=FINANCE, text="row", thread_ts=parent)["ts"]
        nested = sync_client.chat_postMessage(channel=FINANCE, text="row2", thread_ts=reply)
        assert nested["message"]["thread_ts"] == parent
        assert [m.text for m in workspace.thread(FINANCE, parent)] == ["row", "row2"]
        assert workspace.messages(FINANCE)[0].reply_count == 2

        updated = sync_client.chat_update(channel=FINANCE, ts=reply, text="row, approved")
        assert updated["ts"] == reply and updated["text"] == "row, approved"
        sync_client.chat_update(channel=FINANCE, ts=parent, blocks=[SECTION])
        top = workspace.messages(FINANCE)[0]
        assert (top.text, top.blocks) == ("digest", [SECTION])  # text kept when left out

        sync_client.chat_delete(channel=FINANCE, ts=nested["ts"])
        assert [m.text for m in workspace.thread(FINANCE, parent)] == ["row, approved"]

    @pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
    def test_message_errors(self, sync_client: WebClient) -> None:
        cases: list[tuple[Callable[[], object], str]] = [
            (lambda: sync_client.chat_postMessage(channel="C0NOPE", text="x"),
             "channel_not_found"),
            (lambda: sync_client.chat_postMessage(channel=FINANCE), "no_text"),
            (lambda: sync_client.chat_update(channel=FINANCE, ts="1.000001", text="x"),
             "message_not_found"),
            (lambda: sync_client.chat_postMessage(channel=FINANCE, text="x",
                                                  thread_ts="1.000001"), "thread_not_found"),
            (lambda: sync_client.chat_postMessage(channel=FINANCE, text="x", blocks="[oops"),
             "invalid_blocks_format"),
        ]
        for call, error in cases:
            with pytest.raises(SlackApiError) as refused:
                call()
            assert refused.value.response["error"] == error

    def test_a_message_to_a_user_lands_in_their_dm(self, sync_client: WebClient,
                                                   workspace: SlackWorkspace) -> None:
        answer = sync_client.chat_postMessage(channel=ALICE, text="psst")
        assert [m.text for m in workspace.messages(answer["channel"])] == ["psst"]


class TestEphemerals:
    async def test_only_the_recipient_sees_it(self, client: AsyncWebClient,
                                              workspace: SlackWorkspace) -> None:
        answer = await client.chat_postEphemeral(channel=FINANCE, user=BOB, text="Only you",
                                                 blocks=[SECTION])
        (seen,) = workspace.ephemerals(FINANCE, BOB)
        assert seen.ts == answer["message_ts"] and seen.blocks == [SECTION]
        assert workspace.ephemerals(FINANCE, ALICE) == [] and workspace.messages(FINANCE) == []

    async def test_chat_update_cannot_edit_an_ephemeral(self, client: AsyncWebClient) -> None:
        answer = await client.chat_postEphemeral(channel=FINANCE, user=BOB, text="x")
        with pytest.raises(SlackApiError, match="message_not_found"):
            await client.chat_update(channel=FINANCE, ts=answer["message_ts"], text="y")

    async def test_the_user_must_be_in_the_channel(self, client: AsyncWebClient) -> None:
        with pytest.raises(SlackApiError, match="user_not_in_channel"):
            await client.chat_postEphemeral(channel=FINANCE, user=OUTSIDER, text="x")
        with pytest.raises(SlackApiError, match="user_not_found"):
            await client.chat_postEphemeral(channel=FINANCE, user="U0GHOST", text="x")


class TestInfo:
    def test_users_info_and_conversations_info_over_get(self, sync_client: WebClient,
                                                        workspace: SlackWorkspace) -> None:
        # The manifest asks for neither scope yet; this test grants them to read both methods.
        workspace.credentials.scopes = ("chat:write", "users:read", "channels:read")
        user = sync_client.users_info(user=ALICE)["user"]
        assert (user["id"], user["name"], user["real_name"]) == (ALICE, "alice", "Alice Approver")
        channel = sync_client.conversations_info(channel=FINANCE)["channel"]
        assert (channel["id"], channel["name"]) == (FINANCE, "finance")
        with pytest.raises(SlackApiError, match="user_not_found"):
            sync_client.users_info(user="U0GHOST")
        with pytest.raises(SlackApiError, match="channel_not_found"):
            sync_client.conversations_info(channel="C0GHOST")
        assert workspace.calls("users.info")[0].params == {"user": ALICE}

    def test_the_snapshot_holds_what_a_page_draws(self, sync_client: WebClient,
                                                  workspace: SlackWorkspace) -> None:
        sync_client.chat_postMessage(channel=FINANCE, text="hello")
        snapshot = httpx.get(f"{workspace.base_url}/_workspace").json()
        (finance,) = snapshot["channels"]
        assert finance["messages"][0]["text"] == "hello"
        assert {u["id"] for u in snapshot["users"]} >= {ALICE, BOB}
        assert snapshot["calls"][-1]["method"] == "chat.postMessage"
