"""`billbot sandbox slack`: serve the local Slack workspace alone, so any Slack client can be
pointed at it and checked. It prints one JSON line at start: the Web API URL, the tokens the
workspace issued, a signing secret, and three channels: one the bot is in, one it is not in
and an archived one."""

from __future__ import annotations

import json
import secrets
import sys

import uvicorn

from billbot.sandbox.slack.webapi import create_slack_api_app
from billbot.sandbox.slack.workspace import SlackWorkspace

CHANNELS = {"member": ("C0MEMBER", "finance"), "not_member": ("C0NOTMEMBER", "random"),
            "archived": ("C0ARCHIVED", "old-bills")}
PEOPLE = (("U0ANN", "ann", "Ann Approver"), ("U0PAT", "pat", "Pat Payer"))


def sandbox_workspace() -> SlackWorkspace:
    workspace = SlackWorkspace()
    for user_id, name, real_name in PEOPLE:
        workspace.add_user(user_id, name, real_name)
    workspace.add_channel(*CHANNELS["member"])
    workspace.add_channel(*CHANNELS["not_member"], bot_member=False)
    workspace.add_channel(*CHANNELS["archived"], archived=True)
    return workspace


def serve(host: str = "127.0.0.1", port: int = 8766) -> int:
    workspace = sandbox_workspace()
    workspace.base_url = f"http://{host}:{port}"
    sys.stdout.write(json.dumps({
        "api_url": workspace.api_url, "bot_token": workspace.bot_token,
        "app_token": workspace.app_token, "signing_secret": secrets.token_hex(16),
        "channels": {role: channel_id for role, (channel_id, _) in CHANNELS.items()},
        # For an app in OAuth mode: its client credentials and where installs start.
        "client_id": workspace.oauth.client_id, "client_secret": workspace.oauth.client_secret,
        "authorize_url": f"{workspace.base_url}/oauth/v2/authorize",
    }) + "\n")
    sys.stdout.flush()
    uvicorn.run(create_slack_api_app(workspace), host=host, port=port, log_level="warning",
                access_log=False)
    return 0
