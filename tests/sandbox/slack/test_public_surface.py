"""The package's public names, pinned, and serve_slack_standin wiring SLACK_API_URL."""

from __future__ import annotations

from slack_sdk import WebClient

import billbot.sandbox.slack as slack_standin
from billbot.sandbox.slack import SlackWorkspace, serve_slack_standin


def test_exported_names() -> None:
    assert set(slack_standin.__all__) == {
        "ApiCall", "BotResponse", "Button", "Channel", "Ephemeral", "Fault", "Faults",
        "Message", "RejectedBySlackClient", "SlackApiRefusal", "SlackDriver", "SlackWorkspace",
        "SubmissionError", "User", "View", "Violation", "buttons", "create_slack_api_app",
        "datepicker", "find_button", "number_input", "plain_text_input", "radio_buttons",
        "serve_slack_standin", "signature", "static_select", "add_workspace", "uninstall",
    }
    for name in slack_standin.__all__:
        assert getattr(slack_standin, name) is not None


def test_serve_slack_standin_sets_the_api_url_with_its_trailing_slash() -> None:
    workspace = SlackWorkspace()
    with serve_slack_standin(workspace) as served:
        assert workspace.api_url == f"{served.base_url}/api/"
        assert WebClient(token=workspace.bot_token, base_url=workspace.api_url).auth_test()["ok"]
        assert workspace.issue_response_url("C1", "U1").startswith(f"{served.base_url}/response/")
