"""The Web API client billbot uses: slack_sdk's AsyncWebClient, plus what Slack asks of apps
that the SDK leaves to them.

- Every call is paced by its rate-limit bucket (pacing.py): per workspace and method tier,
  and chat.postMessage per channel, so bursts (a digest, a pay run's row updates, many
  notices) are spread out instead of refused.
- A 429 that still comes (another app on the token, a limit tighter than documented) waits
  at least its `Retry-After`, holding the whole bucket meanwhile, and the same call is sent
  again: at most MAX_ATTEMPTS times in all. billbot handles 429s itself rather than through
  slack_sdk's retry handler so that each attempt is paced and counted.
- chat.update gets new block_ids on every update (block_revisions.py).
- Each attempt counts in billbot_slack_calls_total (metrics.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from billbot import metrics, tenancy
from billbot.slack_web.block_revisions import with_new_revision
from billbot.slack_web.pacing import (
    POST_BURST,
    SlotBook,
    Slots,
    bucket_key,
    limit_for,
    workspace_of,
)

logger = logging.getLogger("billbot.slack")

MAX_ATTEMPTS = 6  # a call answered 429 five times running gives up (and raises)
DEFAULT_RETRY_AFTER = 1.0  # a 429 without a readable Retry-After
MAX_RETRY_AFTER = 120.0  # a wild header must not park a bucket for hours

__all__ = ["MAX_ATTEMPTS", "POST_BURST", "PacedSlackClient", "build_slack_client"]


class PacedSlackClient(AsyncWebClient):
    def __init__(self, *args: Any, slots: SlotBook | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slots: SlotBook = slots or Slots()

    # In OAuth mode there is no one token: each call uses the bot token of the workspace the
    # work acts for (billbot.tenancy); single-workspace mode sets none and uses SLACK_BOT_TOKEN.
    @property
    def token(self) -> str | None:
        return tenancy.bot_token() or self._own_token

    @token.setter
    def token(self, value: str | None) -> None:
        self._own_token = value

    async def api_call(self, api_method: str, *, http_verb: str = "POST",
                       files: dict[str, Any] | None = None, data: Any = None,
                       params: dict[str, Any] | None = None, json: dict[str, Any] | None = None,
                       headers: dict[str, Any] | None = None,
                       auth: dict[str, Any] | None = None) -> AsyncSlackResponse:
        if api_method == "chat.update" and json and isinstance(json.get("blocks"), list):
            json = {**json, "blocks": with_new_revision(json["blocks"])}
        args = [a for a in (json, params, data) if isinstance(a, dict)]
        channel = next((str(a["channel"]) for a in args if a.get("channel")), None)
        token = next((str(a["token"]) for a in args if a.get("token")), self.token)
        key, limit = bucket_key(workspace_of(token), api_method, channel), limit_for(api_method)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            wait = await self.slots.reserve(key, limit)
            if wait > 0:
                metrics.slack_paced(api_method, wait)
                await asyncio.sleep(wait)
            try:
                # Copies: slack_sdk pops `token` out of the dicts it is given.
                answer = await super().api_call(
                    api_method, http_verb=http_verb, files=files, headers=headers, auth=auth,
                    data=dict(data) if isinstance(data, dict) else data,
                    params=None if params is None else dict(params),
                    json=None if json is None else dict(json))
            except SlackApiError as exc:
                retry_after = _retry_after(exc)
                if retry_after is None:
                    metrics.slack_call(api_method, "error")
                    raise
                metrics.slack_call(api_method, "ratelimited")
                if attempt == MAX_ATTEMPTS:
                    logger.warning("slack %s rate limited %d times; giving up", api_method,
                                   attempt)
                    raise
                logger.info("slack %s rate limited; retrying after %.0fs", api_method,
                            retry_after)
                await self.slots.hold(key, retry_after, limit)
                continue
            except Exception:
                metrics.slack_call(api_method, "transport_error")
                raise
            metrics.slack_call(api_method, "ok")
            return answer
        raise AssertionError("unreachable: the last attempt returns or raises")


def _retry_after(exc: SlackApiError) -> float | None:
    """Seconds Slack asked to wait, when the error is its 429; None for any other error."""
    response = exc.response
    if getattr(response, "status_code", None) != 429:
        return None
    headers = getattr(response, "headers", None) or {}
    raw = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        seconds = float(str(raw))
    except ValueError:
        return DEFAULT_RETRY_AFTER
    if seconds != seconds or seconds < 0:  # NaN or negative
        return DEFAULT_RETRY_AFTER
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def build_slack_client(token: str | None, base_url: str,
                       slots: SlotBook | None = None) -> PacedSlackClient:
    return PacedSlackClient(token=token, base_url=base_url, timeout=15, slots=slots,
                            retry_handlers=[AsyncConnectionErrorRetryHandler()])
