"""A local Slack: a Web API stand-in that records every call and checks Block Kit limits,
and a driver that sends an app signed requests exactly as Slack does.

    workspace = SlackWorkspace()
    workspace.add_user("U1", "alice"); workspace.add_channel("C1", "finance")
    served = serve_slack_standin(workspace)          # SLACK_API_URL = workspace.api_url
    driver = SlackDriver(workspace, bot_url, signing_secret, httpx.AsyncClient())
    await driver.slash_command("U1", "C1", "digest")

Over Socket Mode the app connects with `workspace.socket_mode.issue_app_token()` (as
SLACK_APP_TOKEN) and the driver delivers through `httpx.AsyncClient(transport=
socket_transport.SocketModeTransport(workspace.socket_mode))`.

More workspaces share the server and the app: `add_workspace(workspace, team_id="T2")`; a
driver per workspace sends that team's requests (OAuth installs: oauth.py, workspaces.py).
"""

from billbot.sandbox.slack.buttons import Button, buttons, find_button
from billbot.sandbox.slack.driver import BotResponse, RejectedBySlackClient, SlackDriver
from billbot.sandbox.slack.element_states import (
    SubmissionError,
    datepicker,
    number_input,
    plain_text_input,
    radio_buttons,
    static_select,
)
from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.faults import Fault, Faults
from billbot.sandbox.slack.model import (
    ApiCall,
    Channel,
    Ephemeral,
    Message,
    User,
    View,
    Violation,
)
from billbot.sandbox.slack.payloads import signature
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.sandbox.slack.webapi import create_slack_api_app
from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.sandbox.slack.workspaces import add_workspace, uninstall

__all__ = [
    "ApiCall",
    "BotResponse",
    "Button",
    "Channel",
    "Ephemeral",
    "Fault",
    "Faults",
    "Message",
    "RejectedBySlackClient",
    "SlackApiRefusal",
    "SlackDriver",
    "SlackWorkspace",
    "SubmissionError",
    "User",
    "View",
    "Violation",
    "add_workspace",
    "buttons",
    "create_slack_api_app",
    "datepicker",
    "find_button",
    "number_input",
    "plain_text_input",
    "radio_buttons",
    "serve_slack_standin",
    "signature",
    "static_select",
    "uninstall",
]
