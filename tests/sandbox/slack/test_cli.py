"""`billbot sandbox slack` as a real process, checked with the official slack_sdk WebClient:
it refuses what Slack refuses."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billbot.sandbox.serving import free_port
from billbot.sandbox.slack.manifest_scopes import manifest_bot_scopes
from tests.support.billbot_command import billbot_command


@pytest.fixture
def slack_process() -> Iterator[dict[str, Any]]:
    """Start the CLI on a free port; yield the JSON line it printed."""
    port = free_port()
    process = subprocess.Popen([*billbot_command(), "sandbox", "slack", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        info: dict[str, Any] = json.loads(process.stdout.readline())
        client = WebClient(token=info["bot_token"], base_url=info["api_url"])
        deadline = time.monotonic() + 20  # a startup allowance, not a timing assertion
        while True:
            try:
                client.api_test()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the Slack stand-in did not start") from None
                time.sleep(0.05)
        yield info
    finally:
        process.terminate()
        process.wait(timeout=10)


def _error(call: Any) -> str:
    with pytest.raises(SlackApiError) as refused:
        call()
    return str(refused.value.response["error"])


def test_the_cli_prints_its_wiring_and_refuses_what_slack_refuses(
        slack_process: dict[str, Any]) -> None:
    info = slack_process
    assert info["api_url"].endswith("/api/") and info["signing_secret"]
    assert info["bot_token"].startswith("xoxb-") and info["app_token"].startswith("xapp-")
    channels = info["channels"]
    client = WebClient(token=info["bot_token"], base_url=info["api_url"])
    posted = client.chat_postMessage(channel=channels["member"], text="hello")
    granted = ",".join(manifest_bot_scopes())
    assert posted["ok"] and posted.headers["x-oauth-scopes"] == granted
    assert _error(lambda: client.chat_postMessage(channel=channels["not_member"],
                                                  text="hi")) == "not_in_channel"
    assert _error(lambda: client.chat_postMessage(channel=channels["archived"],
                                                  text="hi")) == "is_archived"
    stranger = WebClient(token="xoxb-1-not-issued", base_url=info["api_url"])
    assert _error(lambda: stranger.auth_test()) == "invalid_auth"
    # usergroups:read is granted (policies name user groups); this group does not exist.
    assert _error(lambda: client.usergroups_users_list(usergroup="S0FINANCE")) == \
        "no_such_subteam"
