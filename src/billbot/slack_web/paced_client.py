"""The Web API client billbot uses: slack_sdk's AsyncWebClient, plus what Slack asks of apps
that the SDK leaves to them.

- Posts are paced per channel (Slack allows about one message per second per channel, with
  short bursts), so a digest in several parts or many notices do not run into 429s. A 429 that
  still comes (another replica, the workspace-wide limit) is retried after `Retry-After` by
  the SDK's rate-limit retry handler, which `build_slack_client` installs.
- chat.update gets new block_ids on every update (block_revisions.py).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from billbot.slack_web.block_revisions import with_new_revision

POSTS_PER_SECOND = 1.0
POST_BURST = 3  # below the burst Slack tolerates, so a paced bot never meets the limit


class ChannelPacer:
    """A token bucket per channel, in this process."""

    def __init__(self, per_second: float = POSTS_PER_SECOND, burst: int = POST_BURST) -> None:
        self._per_second, self._burst = per_second, float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)
        self._lock = asyncio.Lock()

    async def wait(self, channel: str) -> None:
        async with self._lock:  # one reservation at a time; the sleep happens outside
            now = time.monotonic()
            tokens, at = self._buckets.get(channel, (self._burst, now))
            tokens = min(self._burst, tokens + (now - at) * self._per_second) - 1
            self._buckets[channel] = (tokens, now)
        if tokens < 0:
            await asyncio.sleep(-tokens / self._per_second)


class PacedSlackClient(AsyncWebClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pacer = ChannelPacer()

    async def api_call(self, api_method: str, *, http_verb: str = "POST",
                       files: dict[str, Any] | None = None, data: Any = None,
                       params: dict[str, Any] | None = None, json: dict[str, Any] | None = None,
                       headers: dict[str, Any] | None = None,
                       auth: dict[str, Any] | None = None) -> AsyncSlackResponse:
        if api_method == "chat.update" and json and isinstance(json.get("blocks"), list):
            json = {**json, "blocks": with_new_revision(json["blocks"])}
        if api_method == "chat.postMessage":
            channel = (json or params or data or {}).get("channel")
            await self.pacer.wait(str(channel))
        return await super().api_call(api_method, http_verb=http_verb, files=files, data=data,
                                      params=params, json=json, headers=headers, auth=auth)


def build_slack_client(token: str | None, base_url: str) -> PacedSlackClient:
    return PacedSlackClient(token=token, base_url=base_url, timeout=15,
                            retry_handlers=[AsyncConnectionErrorRetryHandler(),
                                            AsyncRateLimitErrorRetryHandler(max_retry_count=3)])
