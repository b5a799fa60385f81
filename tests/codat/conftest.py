"""Helpers for driving CodatClient over httpx.MockTransport with scripted answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from billbot.codat import CodatClient, RetryPolicy

API_KEY = "test-key-3f9c"
BASE_URL = "https://codat.test"
COMPANY = "8a210b68-6988-11ed-a1eb-0242ac120002"
CONNECTION = "2e9d2c44-f675-40ba-8049-353bfcb5e171"

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """A MockTransport handler that plays answers in order and records every request."""

    def __init__(self, *answers: Answer, repeat_last: bool = False) -> None:
        self.answers = list(answers)
        self.repeat_last = repeat_last
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = self.answers[0] if self.repeat_last and len(self.answers) == 1 \
            else self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)


class SleepRecorder:
    """An injected sleep: records each requested delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class NoJitter:
    """random() == 0 makes every backoff exactly its computed interval."""

    def random(self) -> float:
        return 0.0


def json_response(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def raw_response(status: int, content: bytes, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=content, headers=headers)


def error_body(status: int, error: str = "Something went wrong", **extra: Any) -> dict[str, Any]:
    return {"statusCode": status, "service": "PublicApi", "error": error,
            "correlationId": f"corr-{status}", "canBeRetried": "Unknown", **extra}


def policy(**overrides: Any) -> RetryPolicy:
    """A deterministic policy: no jitter unless a test asks for it."""
    return RetryPolicy(**{"rng": NoJitter(), **overrides})


ClientFactory = Callable[..., CodatClient]


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
async def make_client(sleeps: SleepRecorder) -> AsyncIterator[ClientFactory]:
    """Build a CodatClient over a Script; attempts take no time, sleeps are recorded."""
    opened: list[httpx.AsyncClient] = []

    def build(script: Script, *, retry: RetryPolicy | None = None, **kwargs: Any) -> CodatClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(script))
        opened.append(http)
        options: dict[str, Any] = {"base_url": BASE_URL, "sleep": sleeps,
                                   "monotonic": lambda: 0.0, **kwargs}
        return CodatClient(http, api_key=API_KEY, retry=retry or policy(), **options)

    yield build
    for http in opened:
        await http.aclose()
