"""What each Web API method demands before it runs: the kind of token, the scopes (any one of
them grants the call), and the rate-limit tier. One table, so a new method is one new row.

Sources: Slack's method reference pages (docs.slack.dev/reference/methods/<method>) and
rate-limit tiers (guide slack.md section 4). Rows marked `confirmed=False` could not be checked
here: they take Tier 3 and the scopes Slack's scope reference names; docs/slack-fidelity.md
lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["bot", "app", "none"]
# Calls per minute of Slack's tiers: a full bucket allows that many at once, then it refills.
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
# chat.postMessage: "about one message per second per channel", short bursts allowed.
POST_PER_SECOND = 1.0
POST_BURST = 4


@dataclass(frozen=True)
class MethodRule:
    scopes: tuple[str, ...] = ()  # empty: no scope needed; else any one grants the call
    tier: int | None = 3  # None: the special per-channel limit of chat.postMessage
    token: TokenKind = "bot"
    confirmed: bool = True


METHOD_RULES: dict[str, MethodRule] = {
    "api.test": MethodRule(tier=3, token="none", confirmed=False),
    "auth.test": MethodRule(tier=4),  # Slack: "Special"; Bolt calls it once per client
    "chat.postMessage": MethodRule(("chat:write",), tier=None),
    "chat.update": MethodRule(("chat:write",), tier=3),
    "chat.postEphemeral": MethodRule(("chat:write",), tier=4),
    "chat.delete": MethodRule(("chat:write",), tier=3),
    # Slack: no scope required; rate limit "Special" (generous), modelled as Tier 4.
    "chat.getPermalink": MethodRule(tier=4),
    "views.open": MethodRule(tier=4),
    "views.push": MethodRule(tier=4),
    "views.update": MethodRule(tier=4),
    "views.publish": MethodRule(tier=4),
    "users.info": MethodRule(("users:read",), tier=4),
    "bots.info": MethodRule(("users:read",), tier=3),
    "conversations.info": MethodRule(("channels:read", "groups:read", "im:read", "mpim:read"),
                                     tier=3),
    "conversations.members": MethodRule(("channels:read", "groups:read", "im:read",
                                         "mpim:read"), tier=4),
    "conversations.open": MethodRule(("im:write", "mpim:write", "channels:manage",
                                      "groups:write"), tier=3),
    "files.getUploadURLExternal": MethodRule(("files:write",), tier=4),
    "files.completeUploadExternal": MethodRule(("files:write",), tier=3, confirmed=False),
    "files.info": MethodRule(("files:read",), tier=3, confirmed=False),
    "usergroups.users.list": MethodRule(("usergroups:read",), tier=2),
    "apps.connections.open": MethodRule(("connections:write",), tier=1, token="app"),
    "oauth.v2.access": MethodRule(tier=3, token="none", confirmed=False),
}


def rule_for(method: str) -> MethodRule:
    """A method missing from the table gets the cautious default: a bot token and Tier 3."""
    return METHOD_RULES.get(method, MethodRule(confirmed=False))
