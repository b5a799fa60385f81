"""Installing the app with OAuth v2, as Slack runs it:

1. the installer's browser opens `/oauth/v2/authorize?client_id=...&scope=...&redirect_uri=...
   &state=...` (with `team=T...` to pick one of the workspaces served here, as Slack's own
   `team` parameter does; the first one otherwise); the person approves (here at once, as
   `user=<id>` or the first person of that workspace) and is sent back to
   `redirect_uri?code=...&state=...`;
2. the app exchanges the code with `oauth.v2.access` (client_id and client_secret as HTTP
   Basic auth, as slack_sdk sends them, or as parameters) for a bot token, which that
   workspace then accepts.

Codes are single-use and live 10 minutes. With token rotation on (`rotate_tokens`, the
manifest's `token_rotation_enabled`), bot tokens are `xoxe.xoxb-` tokens that expire after
`token_lifetime` (`token_expired` afterwards) and come with a refresh token; a
`refresh_token` grant answers a fresh access token for the same workspace (the refresh
token stays valid, so two replicas refreshing at once both succeed).
"""

from __future__ import annotations

import base64
import binascii
import copy
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from billbot.clock import Clock
from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.model import JsonDict

if TYPE_CHECKING:
    from billbot.sandbox.slack.workspace import SlackWorkspace

# oauth.v2.access authenticates with the app's client credentials: it needs no scope.
SCOPES: dict[str, tuple[str, ...]] = {"oauth.v2.access": ()}

CODE_LIFETIME = timedelta(minutes=10)
TOKEN_LIFETIME = timedelta(hours=12)  # Slack's rotating tokens live 12 hours
GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})


@dataclass
class Grant:
    """What one person approved: exchanged once for tokens."""

    code: str
    user_id: str
    scope: str
    user_scope: str
    redirect_uri: str | None
    issued_at: datetime
    team_id: str | None = None
    used: bool = False


class OAuthApp:
    """The app's credentials and the codes issued to it."""

    def __init__(self, lock: threading.RLock, clock: Clock) -> None:
        self._lock, self._clock = lock, clock
        self.client_id = f"{secrets.randbelow(10**10):010d}.{secrets.randbelow(10**12):012d}"
        self.client_secret = secrets.token_hex(16)
        self._grants: dict[str, Grant] = {}
        self.rotate_tokens = False
        self.token_lifetime = TOKEN_LIFETIME
        self._refresh: dict[str, tuple[str, str]] = {}  # refresh token -> (team id, scope)
        # The app's configured Redirect URLs: an authorize request without `redirect_uri`
        # goes to the first; one with it must name one of them (when any are configured).
        self.redirect_urls: list[str] = []

    def authorize(self, user_id: str, *, scope: str, user_scope: str = "",
                  redirect_uri: str | None = None, team_id: str | None = None) -> str:
        """The person approves the install: a code for the app to exchange."""
        with self._lock:
            grant = Grant(secrets.token_hex(20), user_id, scope, user_scope, redirect_uri,
                          self._clock.now(), team_id)
            self._grants[grant.code] = grant
            return grant.code

    def redeem(self, code: Any, redirect_uri: Any) -> Grant:
        with self._lock:
            grant = self._grants.get(code) if isinstance(code, str) else None
            if grant is None or grant.used or \
                    self._clock.now() - grant.issued_at > CODE_LIFETIME:
                raise SlackApiRefusal("invalid_code")
            if grant.redirect_uri is not None and redirect_uri not in (None, "") \
                    and redirect_uri != grant.redirect_uri:
                raise SlackApiRefusal("bad_redirect_uri")
            grant.used = True
            return copy.copy(grant)

    def refresh_token_for(self, team_id: str, scope: str) -> str:
        with self._lock:
            token = f"xoxe-1-{secrets.token_hex(20)}"
            self._refresh[token] = (team_id, scope)
            return token

    def refreshed(self, refresh_token: Any) -> tuple[str, str]:
        """(team id, scope) of a refresh token this app issued."""
        with self._lock:
            found = self._refresh.get(refresh_token) if isinstance(refresh_token, str) else None
            if found is None:
                raise SlackApiRefusal("invalid_refresh_token")
            return found

    def forget_team(self, team_id: str) -> None:
        """An uninstall revokes the workspace's refresh tokens too."""
        with self._lock:
            self._refresh = {t: v for t, v in self._refresh.items() if v[0] != team_id}


def oauth_v2_access(ws: SlackWorkspace, token: str | None, authorization: str | None,
                    params: JsonDict) -> JsonDict:
    client_id, client_secret = _client_credentials(authorization, params)
    if client_id != ws.oauth.client_id:
        raise SlackApiRefusal("invalid_client_id")
    if client_secret != ws.oauth.client_secret:
        raise SlackApiRefusal("bad_client_secret")
    grant_type = params.get("grant_type") or "authorization_code"
    if grant_type not in GRANT_TYPES:
        raise SlackApiRefusal("invalid_grant_type")
    if grant_type == "refresh_token":
        refresh_token = params.get("refresh_token")
        team_id, scope = ws.oauth.refreshed(refresh_token)
        target = ws.teams.by_team(team_id)
        if target is None:
            raise SlackApiRefusal("invalid_refresh_token")
        return {**_bot_answer(target, scope), **_issue_bot_token(target, str(refresh_token))}
    grant = ws.oauth.redeem(params.get("code"), params.get("redirect_uri"))
    target = ws.teams.by_team(grant.team_id) or ws
    authed_user: JsonDict = {"id": grant.user_id}
    if grant.user_scope:
        authed_user.update(scope=grant.user_scope, token_type="user",
                           access_token=f"xoxp-{target.team_id}-{secrets.token_hex(12)}")
    refresh = (target.oauth.refresh_token_for(target.team_id, grant.scope)
               if target.oauth.rotate_tokens else None)
    return {**_bot_answer(target, grant.scope), **_issue_bot_token(target, refresh),
            "authed_user": authed_user}


def _bot_answer(ws: SlackWorkspace, scope: str) -> JsonDict:
    return {"token_type": "bot", "scope": scope, "bot_user_id": ws.bot_user_id,
            "app_id": ws.app_id, "team": {"name": ws.team_name, "id": ws.team_id},
            "enterprise": None, "is_enterprise_install": False}


def _issue_bot_token(ws: SlackWorkspace, refresh_token: str | None) -> JsonDict:
    """A new bot token of `ws`: with a refresh token, a rotating one that expires."""
    if refresh_token is None:
        bot_token = f"xoxb-{ws.team_id}-{secrets.token_hex(12)}"
        with ws.lock:
            ws.credentials.bot_tokens.add(bot_token)
        return {"access_token": bot_token}
    bot_token = f"xoxe.xoxb-1-{ws.team_id}-{secrets.token_hex(12)}"
    lifetime = ws.oauth.token_lifetime
    with ws.lock:
        ws.credentials.bot_tokens.add(bot_token)
        ws.credentials.expiry[bot_token] = ws.clock.now() + lifetime
    return {"access_token": bot_token, "refresh_token": refresh_token,
            "expires_in": int(lifetime.total_seconds())}


def oauth_routes(ws: SlackWorkspace, default_scope: str) -> list[Route]:
    """`/oauth/v2/authorize`: the install page, approved at once by `user` (or the first
    person in the workspace)."""

    async def authorize(request: Request) -> Response:
        query = request.query_params
        if query.get("client_id") != ws.oauth.client_id:
            return PlainTextResponse("invalid_client_id", status_code=400)
        configured = ws.oauth.redirect_urls
        redirect_uri = query.get("redirect_uri") or (configured[0] if configured else None)
        if not redirect_uri or (configured and redirect_uri not in configured):
            return PlainTextResponse("bad_redirect_uri", status_code=400)
        target = ws.teams.by_team(query.get("team")) if query.get("team") else ws
        if target is None:
            return PlainTextResponse("team_not_found", status_code=400)
        people = [u.id for u in target.users() if not u.is_bot]
        user_id = query.get("user") or (people[0] if people else "")
        if target.user(user_id) is None:
            return PlainTextResponse("user_not_found", status_code=400)
        code = ws.oauth.authorize(user_id, scope=query.get("scope") or default_scope,
                                  user_scope=query.get("user_scope") or "",
                                  redirect_uri=redirect_uri, team_id=target.team_id)
        back = {"code": code, **({"state": query["state"]} if "state" in query else {})}
        separator = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(f"{redirect_uri}{separator}{urlencode(back)}", 302)

    return [Route("/oauth/v2/authorize", authorize, methods=["GET"])]


def _client_credentials(authorization: str | None, params: JsonDict) -> tuple[Any, Any]:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise SlackApiRefusal("invalid_client_id") from None
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return params.get("client_id"), params.get("client_secret")
