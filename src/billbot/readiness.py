"""Is billbot able to work: the database, Slack (`auth.test`) and Codat (with the key) answer.

Each probe is bounded in time and its result kept briefly, so a load balancer polling
`/readyz` every second costs Slack and Codat one call per probe per `ttl`, and concurrent
polls share one call. A probe tells a refusal (the credential is wrong: fix the settings)
from unreachable (try again later): start-up stops on the first and waits out the second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from billbot.codat.client import CodatClient
from billbot.codat.errors import CodatApiError
from billbot.codat.retry import RetryPolicy

# Slack's answers meaning "this token will not work", as opposed to "try again".
REFUSED_SLACK_ERRORS = frozenset({
    "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive",
    "invalid_token", "not_allowed_token_type", "org_login_required", "ekm_access_denied",
    "two_factor_setup_required", "team_access_not_granted", "missing_scope", "no_permission",
})
# Codat: 401 is a wrong key; 403 a key without access to the resource.
REFUSED_CODAT_STATUSES = frozenset({401, 403})

PROBE_TIMEOUT = 5.0
PROBE_TTL = 10.0


@dataclass(frozen=True)
class Probe:
    """One check's answer: `ok`, or why not, and whether it was a refusal."""

    ok: bool
    refused: bool = False
    reason: str = ""


OK = Probe(ok=True)


async def probe_slack(client: AsyncWebClient, *, method: str = "auth.test") -> Probe:
    """`auth.test` with the bot token (or `apps.connections.open` with the app token)."""
    try:
        await client.api_call(method, http_verb="POST")
    except SlackApiError as exc:
        error = str(exc.response.get("error", "")) if exc.response is not None else ""
        status = getattr(exc.response, "status_code", None)
        if error in REFUSED_SLACK_ERRORS or status in (401, 403):
            return Probe(ok=False, refused=True, reason=f"Slack refused the token ({error})")
        return Probe(ok=False, reason=f"Slack answered {error or status}")
    except Exception as exc:  # connection refused, DNS, TLS, timeout: unreachable
        return Probe(ok=False, reason=f"Slack unreachable ({exc.__class__.__name__})")
    return OK


async def probe_codat(codat: CodatClient) -> Probe:
    """One page of one company: cheap, and it needs the key."""
    try:
        await codat.list_companies(page_size=1)
    except CodatApiError as exc:
        if exc.status_code in REFUSED_CODAT_STATUSES:
            return Probe(ok=False, refused=True,
                         reason=f"Codat refused CODAT_API_KEY (HTTP {exc.status_code})")
        return Probe(ok=False, reason=f"Codat answered HTTP {exc.status_code}")
    except Exception as exc:
        return Probe(ok=False, reason=f"Codat unreachable ({exc.__class__.__name__})")
    return OK


def probe_codat_client(codat: CodatClient, timeout: float = PROBE_TIMEOUT) -> CodatClient:
    """The client for probes: one attempt, no retries, so the time bound holds."""
    return codat.with_limits(timeout=timeout, retry=RetryPolicy(max_attempts=1, max_elapsed=0.0))


async def bounded(check: Callable[[], Awaitable[Probe]], what: str,
                  limit: float = PROBE_TIMEOUT) -> Probe:
    try:
        return await asyncio.wait_for(check(), limit)
    except TimeoutError:
        return Probe(ok=False, reason=f"{what} did not answer within {limit:g} s")


class CachedProbe:
    """A probe whose result is reused for `ttl` seconds; concurrent callers share one call."""

    def __init__(self, name: str, check: Callable[[], Awaitable[Probe]], *,
                 ttl: float = PROBE_TTL, timeout: float = PROBE_TIMEOUT,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._check = check
        self._ttl = ttl
        self._timeout = timeout
        self._monotonic = monotonic
        self._last: tuple[float, Probe] | None = None
        self._running: asyncio.Task[Probe] | None = None

    async def result(self) -> Probe:
        now = self._monotonic()
        if self._last is not None and now - self._last[0] < self._ttl:
            return self._last[1]
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(bounded(self._check, self.name, self._timeout))
        probe = await asyncio.shield(self._running)
        self._last = (self._monotonic(), probe)
        return probe


class Readiness:
    """The named probes of `/readyz`; `check()` gives each one's result."""

    def __init__(self, probes: list[CachedProbe]) -> None:
        self.probes = probes

    async def check(self) -> dict[str, Probe]:
        results = await asyncio.gather(*(p.result() for p in self.probes))
        return {p.name: r for p, r in zip(self.probes, results, strict=True)}
