"""views.open/push/update/publish: trigger_ids are single use and live 3 seconds on the
workspace's clock; modals stack at most 3 deep; updates may be guarded by the view's hash."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from billbot.clock import FixedClock
from billbot.sandbox.slack import SlackWorkspace
from tests.sandbox.slack.conftest import ALICE, BOB


def modal(title: str = "Pay", **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "callback_id": "pay", "title": {"type": "plain_text", "text": title},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Sure?"}}], **extra}


async def refusal(call: Any) -> str:
    with pytest.raises(SlackApiError) as refused:
        await call
    return str(refused.value.response["error"])


class TestTriggers:
    async def test_open_with_a_fresh_trigger(self, client: AsyncWebClient,
                                             workspace: SlackWorkspace) -> None:
        trigger = workspace.issue_trigger(BOB)
        answer = await client.views_open(trigger_id=trigger, view=modal(private_metadata="m"))
        view = answer["view"]
        assert view["id"].startswith("V") and view["hash"] and view["root_view_id"] == view["id"]
        assert view["private_metadata"] == "m" and view["state"] == {"values": {}}
        opened = workspace.open_view(BOB)
        assert opened is not None and opened.id == view["id"]
        assert workspace.open_view(ALICE) is None

    async def test_a_trigger_lives_three_seconds(self, client: AsyncWebClient,
                                                 workspace: SlackWorkspace,
                                                 clock: FixedClock) -> None:
        on_time, late = workspace.issue_trigger(BOB), workspace.issue_trigger(BOB)
        clock.set(clock.now() + timedelta(seconds=3))
        assert (await client.views_open(trigger_id=on_time, view=modal()))["ok"]
        clock.set(clock.now() + timedelta(milliseconds=1))
        assert await refusal(client.views_open(trigger_id=late, view=modal())) == (
            "expired_trigger_id")

    async def test_a_trigger_is_single_use_and_must_exist(self, client: AsyncWebClient,
                                                          workspace: SlackWorkspace) -> None:
        trigger = workspace.issue_trigger(BOB)
        await client.views_open(trigger_id=trigger, view=modal())
        assert await refusal(client.views_open(trigger_id=trigger, view=modal())) == (
            "exchanged_trigger_id")
        assert await refusal(client.views_open(trigger_id="1.2.forged", view=modal())) == (
            "invalid_trigger_id")

    async def test_an_invalid_view_does_not_spend_the_trigger(
            self, client: AsyncWebClient, workspace: SlackWorkspace) -> None:
        trigger = workspace.issue_trigger(BOB)
        assert await refusal(client.views_open(trigger_id=trigger, view=modal("x" * 25))) == (
            "invalid_arguments")
        assert (await client.views_open(trigger_id=trigger, view=modal()))["ok"]


class TestStack:
    async def test_push_stacks_up_to_three(self, client: AsyncWebClient,
                                           workspace: SlackWorkspace) -> None:
        root = (await client.views_open(trigger_id=workspace.issue_trigger(BOB),
                                        view=modal()))["view"]
        second = (await client.views_push(trigger_id=workspace.issue_trigger(BOB),
                                          view=modal("Second")))["view"]
        assert second["previous_view_id"] == root["id"] and second["root_view_id"] == root["id"]
        await client.views_push(trigger_id=workspace.issue_trigger(BOB), view=modal("Third"))
        assert await refusal(client.views_push(trigger_id=workspace.issue_trigger(BOB),
                                               view=modal("Fourth"))) == "push_limit_reached"
        assert [v.definition["title"]["text"] for v in workspace.views.stack(BOB)] == [
            "Pay", "Second", "Third"]

    async def test_update_by_id_with_a_hash_guard(self, client: AsyncWebClient,
                                                  workspace: SlackWorkspace) -> None:
        view = (await client.views_open(trigger_id=workspace.issue_trigger(BOB),
                                        view=modal()))["view"]
        updated = (await client.views_update(view_id=view["id"], hash=view["hash"],
                                             view=modal("Paying…")))["view"]
        assert updated["id"] == view["id"] and updated["hash"] != view["hash"]
        assert await refusal(client.views_update(view_id=view["id"], hash=view["hash"],
                                                 view=modal("Stale"))) == "hash_conflict"
        assert await refusal(client.views_update(view_id="V0GONE", view=modal())) == (
            "not_found")
        opened = workspace.open_view(BOB)
        assert opened is not None and opened.definition["title"]["text"] == "Paying…"

    async def test_update_by_external_id(self, client: AsyncWebClient,
                                         workspace: SlackWorkspace) -> None:
        await client.views_open(trigger_id=workspace.issue_trigger(BOB),
                                view=modal(external_id="pay-bill-1"))
        await client.views_update(external_id="pay-bill-1", view=modal("Done"))
        opened = workspace.open_view(BOB)
        assert opened is not None and opened.definition["title"]["text"] == "Done"

    async def test_publish_a_home_tab(self, client: AsyncWebClient,
                                      workspace: SlackWorkspace) -> None:
        home = {"type": "home", "blocks": [{"type": "section",
                                            "text": {"type": "mrkdwn", "text": "Hi"}}]}
        first = (await client.views_publish(user_id=ALICE, view=home))["view"]
        again = (await client.views_publish(user_id=ALICE, view=home))["view"]
        assert first["id"] == again["id"] and first["hash"] != again["hash"]
        assert workspace.views.home(ALICE) is not None
