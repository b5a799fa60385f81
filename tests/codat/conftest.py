"""Helpers for driving CodatClient: over httpx.MockTransport with scripted answers, and against
the Codat sandbox over real HTTP."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable, Coroutine
from decimal import Decimal
from typing import Any

import httpx
import pytest

from billbot.codat import (
    CodatClient,
    RetryPolicy,
)
from billbot.codat.models import (
    BillPayment,
    BillPaymentPrototype,
    IdRef,
)
from billbot.sandbox.codat import SandboxState
from tests.plugins.openapi_contract import CodatSandbox

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


PAYMENT = BillPaymentPrototype(amount=Decimal("1329.54"), date="2026-11-22T00:00:00",
                               account_ref=IdRef(id="bank-1"))


def pay(client_factory: ClientFactory, script: Script, *, key: str = "idem-1",
        **kw: object) -> Coroutine[Any, Any, BillPayment]:
    client = client_factory(script, **kw)
    return client.create_bill_payment(COMPANY, CONNECTION, "7", PAYMENT, idempotency_key=key)


def connect_error() -> httpx.ConnectError:
    return httpx.ConnectError("connection refused")


def read_timeout() -> httpx.ReadTimeout:
    return httpx.ReadTimeout("timed out waiting for the answer")


GBP_BILL = "7110700004"  # Open, GBP 480.00, Harbour Cleaning Services
PAID_BILL = "7110700018"
SUPPLIER = "4101"
PAY_DATE = "2099-01-01T00:00:00"
# Real but short waits: the sandbox's faults are one-shot or seeded, so retries resolve fast.
FAST = RetryPolicy(initial_interval=0.02, max_interval=0.1, max_elapsed=10.0,
                   rng=random.Random(1))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def client_on(sandbox: CodatSandbox, http: httpx.AsyncClient, *, retry: RetryPolicy = FAST,
              **options: Any) -> CodatClient:
    return CodatClient(http, api_key=sandbox.api_key, base_url=sandbox.base_url, retry=retry,
                       **options)


def ids(sandbox: CodatSandbox) -> tuple[str, str]:
    return sandbox.company_id, sandbox.connection_id


async def gbp_account(client: CodatClient, sandbox: CodatSandbox) -> str:
    options = await client.get_payment_mapping_options(*ids(sandbox))
    return next(a.id for a in options.bank_accounts if a.name == "Business Current Account")


def payment(amount: str, account_id: str) -> BillPaymentPrototype:
    return BillPaymentPrototype(amount=Decimal(amount), date=PAY_DATE,
                                account_ref=IdRef(id=account_id))


def outcomes(state: SandboxState, path_end: str) -> list[str]:
    return [r.outcome for r in state.requests if r.path.endswith(path_end)]
