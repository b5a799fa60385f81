"""Serve a workspace's Web API on loopback and tell the workspace where it lives."""

from __future__ import annotations

from billbot.sandbox.serving import ServedApp, serve_in_thread
from billbot.sandbox.slack.page import WorkspacePage
from billbot.sandbox.slack.webapi import create_slack_api_app
from billbot.sandbox.slack.workspace import SlackWorkspace


def serve_slack_standin(workspace: SlackWorkspace, *, host: str = "127.0.0.1",
                        port: int = 0, page: WorkspacePage | None = None) -> ServedApp:
    """Start the stand-in in a thread. Afterwards `workspace.api_url` is the SLACK_API_URL
    (with its trailing slash) and response_urls point at this server; with a `page`, people
    use the workspace at its root URL."""
    served = serve_in_thread(create_slack_api_app(workspace, page), host=host, port=port)
    for each in workspace.teams.all():  # the workspaces served beside it (workspaces.py)
        each.base_url = served.base_url
    return served
