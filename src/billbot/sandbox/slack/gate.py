"""What Slack checks before a Web API method runs, in Slack's order: the token (issued by this
workspace, of the kind the method takes), the scopes the manifest grants, then the rate limit.
Each refusal is Slack's answer: `not_authed`, `invalid_auth`, `not_allowed_token_type`,
`missing_scope` (with `needed` and `provided`), or HTTP 429 `ratelimited` with Retry-After."""

from __future__ import annotations

from billbot.sandbox.slack.method_rules import rule_for
from billbot.sandbox.slack.model import JsonDict
from billbot.sandbox.slack.workspace import SlackWorkspace

Refusal = tuple[int, JsonDict, dict[str, str]]


def scope_headers(ws: SlackWorkspace, method: str) -> dict[str, str]:
    """`x-oauth-scopes` (what the token has) and `x-accepted-oauth-scopes` (what the method
    takes), as Slack sends them on every answer to a token it knows."""
    granted = ws.credentials.granted("app" if rule_for(method).token == "app" else "bot")
    return {"x-oauth-scopes": ",".join(granted),
            "x-accepted-oauth-scopes": ",".join(rule_for(method).scopes)}


def refuse_before_running(ws: SlackWorkspace, method: str, token: str | None,
                          params: JsonDict) -> Refusal | None:
    rule = rule_for(method)
    if rule.token != "none":
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        kind = ws.credentials.kind(token)
        if kind is None:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if ws.credentials.expired(token, ws.clock.now()):
            return 200, {"ok": False, "error": "token_expired"}, {}
        if kind != rule.token:
            return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
        granted = ws.credentials.granted(kind)
        if rule.scopes and not set(rule.scopes) & set(granted):
            return 200, {"ok": False, "error": "missing_scope", "needed": ",".join(rule.scopes),
                         "provided": ",".join(granted)}, scope_headers(ws, method)
    channel = params.get("channel")
    wait = ws.rate_limits.retry_after(method, channel if isinstance(channel, str) else None)
    if wait is not None:
        return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
    return None
