"""CodatClient against the Codat sandbox under server errors, rate limits and lost responses."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from billbot.codat import (
    CodatNotSent,
    CodatOutcomeUnknown,
    RetryPolicy,
)
from billbot.codat.models import (
    SupplierPrototype,
)
from billbot.sandbox.codat import FaultKind
from tests.plugins.openapi_contract import CodatSandbox

from .conftest import (
    GBP_BILL,
    SleepRecorder,
    client_on,
    gbp_account,
    ids,
    outcomes,
    payment,
)


class TestServerErrors:
    async def test_a_share_of_5xx_on_reads_is_retried_away(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        faults = codat_sandbox.state.faults
        faults.error_rate = 0.5
        faults.reseed(11)
        sleeps = SleepRecorder()
        client = client_on(codat_sandbox, http, sleep=sleeps)
        for _ in range(20):
            assert (await client.get_company_info(*ids(codat_sandbox))).company_name
        statuses = [r.status for r in codat_sandbox.state.requests]
        assert statuses.count(200) == 20
        assert len(statuses) - 20 == len(sleeps.delays) > 0
        assert {500, 503} <= set(statuses)

    async def test_reads_that_always_fail_stop_within_the_budget(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        codat_sandbox.state.faults.error_rate = 1.0
        sleeps = SleepRecorder()
        client = client_on(codat_sandbox, http, retry=RetryPolicy(rng=random.Random(3)),
                           sleep=sleeps)
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await client.list_bills(*ids(codat_sandbox))
        assert caught.value.status_code in (500, 503)
        assert sum(sleeps.delays) <= 30.0
        assert len(codat_sandbox.state.requests) == len(sleeps.delays) + 1

    async def test_a_keyed_payment_is_retried_through_5xx(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http)
        account = await gbp_account(client, codat_sandbox)
        faults = codat_sandbox.state.faults
        faults.next(FaultKind.UNAVAILABLE, count=2, path="/payment$")
        await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                         payment("100", account), idempotency_key="5xx-1")
        assert outcomes(codat_sandbox.state, "/payment") == ["fault_503", "fault_503", "handled"]
        assert len(codat_sandbox.state.payments) == 1

    async def test_an_unkeyed_write_is_not_retried_through_5xx(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        codat_sandbox.state.faults.next(FaultKind.UNAVAILABLE, path="/suppliers$")
        client = client_on(codat_sandbox, http)
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await client.create_supplier(*ids(codat_sandbox),
                                         SupplierPrototype(supplier_name="No Key Ltd"))
        assert caught.value.status_code == 503
        assert outcomes(codat_sandbox.state, "/suppliers") == ["fault_503"]

    async def test_a_cached_5xx_is_replayed_and_surfaces_as_unknown(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        """Codat stores a 5xx under its key; retrying the key only replays it."""
        client = client_on(codat_sandbox, http, retry=RetryPolicy(
            initial_interval=0.0, max_interval=0.0, max_attempts=3))
        account = await gbp_account(client, codat_sandbox)
        faults = codat_sandbox.state.faults
        faults.cache_injected_errors = True
        faults.next(FaultKind.SERVER_ERROR, path="/payment$")
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                             payment("100", account), idempotency_key="c-1")
        assert caught.value.status_code == 500
        assert outcomes(codat_sandbox.state, "/payment") == ["fault_500", "replayed",
                                                             "replayed"]
        assert codat_sandbox.state.payments == []


class TestRateLimit:
    async def test_retry_after_is_honoured_on_reads(self, codat_sandbox: CodatSandbox,
                                                    http: httpx.AsyncClient) -> None:
        faults = codat_sandbox.state.faults
        faults.rate_limit_next, faults.retry_after_seconds = 2, 3
        sleeps = SleepRecorder()
        await client_on(codat_sandbox, http, sleep=sleeps).list_companies()
        assert sleeps.delays == [3.0, 3.0]

    async def test_retry_after_is_honoured_on_a_keyed_payment(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        sleeps = SleepRecorder()
        client = client_on(codat_sandbox, http, sleep=sleeps)
        account = await gbp_account(client, codat_sandbox)
        faults = codat_sandbox.state.faults
        faults.rate_limit_next, faults.retry_after_seconds = 1, 5
        await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                         payment("100", account), idempotency_key="429-1")
        assert sleeps.delays == [5.0]
        assert outcomes(codat_sandbox.state, "/payment") == ["fault_429", "handled"]
        assert len(codat_sandbox.state.payments) == 1

    async def test_a_payment_rate_limited_past_the_budget_is_unknown(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        sleeps = SleepRecorder()
        client = client_on(codat_sandbox, http, sleep=sleeps,
                           retry=RetryPolicy(max_elapsed=10.0))
        account = await gbp_account(client, codat_sandbox)
        faults = codat_sandbox.state.faults
        faults.rate_limit_next, faults.retry_after_seconds = 100, 4
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                             payment("100", account), idempotency_key="429-2")
        assert caught.value.status_code == 429
        assert sleeps.delays[:2] == [4.0, 4.0] and sum(sleeps.delays) <= 10.0
        assert codat_sandbox.state.payments == []

    async def test_an_unkeyed_write_is_not_retried_after_429(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        codat_sandbox.state.faults.rate_limit_next = 1
        sleeps = SleepRecorder()
        with pytest.raises(CodatOutcomeUnknown):
            await client_on(codat_sandbox, http, sleep=sleeps).create_company("Rate Ltd")
        assert sleeps.delays == [] and len(codat_sandbox.state.requests) == 1


class TestLostResponses:
    """The sandbox commits the write, then never delivers the answer."""

    async def test_timeout_then_replay_yields_one_payment(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http, timeout=httpx.Timeout(5.0, read=0.3))
        account = await gbp_account(client, codat_sandbox)
        codat_sandbox.state.faults.lose_response_hold_seconds = 30
        codat_sandbox.state.faults.next(FaultKind.LOSE_RESPONSE, path="/payment$")
        result = await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                                  payment("480.00", account),
                                                  idempotency_key="lost-1")
        [recorded] = codat_sandbox.state.payments
        assert result.id == recorded.payment_id
        first, *retries = outcomes(codat_sandbox.state, "/payment")
        assert first == "handled+lost" and retries and set(retries) == {"replayed"}

    async def test_connection_cut_mid_answer_then_replay(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http)
        account = await gbp_account(client, codat_sandbox)
        codat_sandbox.state.faults.lose_response_hold_seconds = 0.05
        codat_sandbox.state.faults.next(FaultKind.LOSE_RESPONSE, path="/payment$")
        result = await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                                  payment("480.00", account),
                                                  idempotency_key="cut-1")
        assert result.id == codat_sandbox.state.payments[0].payment_id
        assert len(codat_sandbox.state.payments) == 1

    async def test_without_retries_the_loss_surfaces_and_the_same_key_recovers(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http, timeout=httpx.Timeout(5.0, read=0.3))
        account = await gbp_account(client, codat_sandbox)
        codat_sandbox.state.faults.lose_response_hold_seconds = 30
        codat_sandbox.state.faults.next(FaultKind.LOSE_RESPONSE, path="/payment$")
        once = client.with_retry(RetryPolicy.none())
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await once.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                           payment("480.00", account), idempotency_key="l-2")
        assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
        [recorded] = codat_sandbox.state.payments  # it landed: the intent must stay open
        patient = client_on(codat_sandbox, http, retry=RetryPolicy.none())
        again = await patient.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                               payment("480.00", account),
                                               idempotency_key="l-2")
        assert again.id == recorded.payment_id and len(codat_sandbox.state.payments) == 1

    async def test_lost_then_unreachable_is_still_unknown(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        """The sandbox goes away after the lost answer: connect errors cannot hide the payment."""

        async def stop_sandbox(seconds: float) -> None:
            await asyncio.to_thread(codat_sandbox.server.stop)

        client = client_on(codat_sandbox, http, timeout=httpx.Timeout(5.0, read=0.3),
                           sleep=stop_sandbox, retry=RetryPolicy(max_attempts=3))
        account = await gbp_account(client, codat_sandbox)
        codat_sandbox.state.faults.lose_response_hold_seconds = 30
        codat_sandbox.state.faults.next(FaultKind.LOSE_RESPONSE, path="/payment$")
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                             payment("480.00", account), idempotency_key="l-3")
        assert isinstance(caught.value.__cause__, CodatNotSent)
        assert len(codat_sandbox.state.payments) == 1

    async def test_an_unkeyed_write_is_lost_once_and_not_repeated(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http, timeout=httpx.Timeout(5.0, read=0.3))
        codat_sandbox.state.faults.lose_response_hold_seconds = 30
        codat_sandbox.state.faults.next(FaultKind.LOSE_RESPONSE, path="/suppliers$")
        with pytest.raises(CodatOutcomeUnknown):
            await client.create_supplier(*ids(codat_sandbox),
                                         SupplierPrototype(supplier_name="Ghost Ltd"))
        names = [s["supplierName"] for s in codat_sandbox.state.main_ledger.suppliers.values()]
        assert names.count("Ghost Ltd") == 1
        assert outcomes(codat_sandbox.state, "/suppliers") == ["handled+lost"]
