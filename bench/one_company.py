"""One seeded Codat company and a Slack workspace served in this process, and the settings
that point billbot at them on a fresh SQLite file (bench/digest_build.py, bench/refresh.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from billbot.config import Settings
from billbot.sandbox.codat.app import create_app
from billbot.sandbox.codat.state import SandboxState
from billbot.sandbox.serving import ServedApp, serve_in_thread
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.sandbox.slack.workspace import SlackWorkspace

CHANNEL = "C0FINANCE"
API_KEY = "bench-codat-key"


@dataclass
class OneCompany:
    state: SandboxState
    workspace: SlackWorkspace
    settings: Settings
    _served: tuple[ServedApp, ...]

    def codat_requests(self) -> int:
        """API requests the sandbox answered (its own /_sandbox control calls left out)."""
        return sum(1 for r in self.state.requests if not r.path.startswith("/_sandbox"))

    def stop(self) -> None:
        for served in self._served:
            served.stop()


def serve_one_company(bills: int, database: Path) -> OneCompany:
    """`bills` Open bills, all due within the digest's window; Ann approves."""
    state = SandboxState.seeded(bills=bills, due_soon=bills)
    codat = serve_in_thread(create_app(state, api_key=API_KEY))
    workspace = SlackWorkspace(bot_tokens=["xoxb-bench"])
    workspace.add_user("U0ANN", "ann")
    workspace.add_channel(CHANNEL, "finance")
    slack = serve_slack_standin(workspace)
    settings = Settings(
        _env_file=None, slack_bot_token="xoxb-bench", slack_signing_secret="bench-secret",
        slack_api_url=workspace.api_url, codat_api_key=API_KEY, codat_base_url=codat.base_url,
        codat_company_id=state.main_company_id, codat_connection_id=state.main_connection_id,
        billbot_channel=CHANNEL, billbot_approvers=frozenset({"U0ANN"}),
        database_url=f"sqlite:///{database}")
    return OneCompany(state, workspace, settings, (slack, codat))


__all__ = ["API_KEY", "CHANNEL", "OneCompany", "serve_one_company"]
