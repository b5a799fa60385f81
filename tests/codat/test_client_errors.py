"""How CodatClient classifies failures and when it retries (MockTransport, recorded sleeps)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any

import httpx
import pytest

from billbot.codat import (
    CodatApiError,
    CodatConflict,
    CodatNotFound,
    CodatNotSent,
    CodatOutcomeUnknown,
)
from billbot.codat.models import BillPayment, BillPaymentPrototype, IdRef, SupplierPrototype

from . import samples
from .conftest import (
    API_KEY,
    COMPANY,
    CONNECTION,
    ClientFactory,
    Script,
    SleepRecorder,
    error_body,
    json_response,
    policy,
    raw_response,
)

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


class TestFinalErrors:
    async def test_400_carries_every_error_message_field(self, make_client: ClientFactory) -> None:
        body = error_body(400, "Validation failed", detailedErrorCode=0, validation={
            "errors": [{"itemId": "amount", "message": "Amount must be greater than 0",
                        "validatorName": "PaymentValidator"}], "warnings": []})
        script = Script(json_response(400, body))
        with pytest.raises(CodatApiError) as caught:
            await pay(make_client, script)
        error = caught.value
        assert type(error) is CodatApiError
        assert error.status_code == 400
        assert error.correlation_id == "corr-400"
        assert error.error.can_be_retried == "Unknown"
        assert error.error.validation is not None and error.error.validation.errors
        assert error.error.validation.errors[0].item_id == "amount"
        assert error.reason == "Validation failed; Amount must be greater than 0"
        assert len(script.requests) == 1

    @pytest.mark.parametrize("status", [400, 401, 402, 403, 422])
    async def test_other_4xx_are_final_and_never_retried(
            self, make_client: ClientFactory, sleeps: SleepRecorder, status: int) -> None:
        script = Script(json_response(status, error_body(status)), repeat_last=True)
        client = make_client(script)
        with pytest.raises(CodatApiError) as caught:
            await client.list_bills(COMPANY, CONNECTION)
        assert type(caught.value) is CodatApiError
        assert caught.value.status_code == status
        with pytest.raises(CodatApiError):
            await client.create_bill_payment(COMPANY, CONNECTION, "7", PAYMENT,
                                             idempotency_key="k")
        assert len(script.requests) == 2
        assert sleeps.delays == []

    async def test_404_is_not_found(self, make_client: ClientFactory) -> None:
        body = error_body(404, "No company was found with ID x")
        script = Script(json_response(404, body))
        with pytest.raises(CodatNotFound) as caught:
            await make_client(script).get_company("x")
        assert caught.value.reason == "No company was found with ID x"
        assert len(script.requests) == 1

    async def test_non_json_error_body_becomes_a_synthesized_error_message(
            self, make_client: ClientFactory) -> None:
        script = Script(raw_response(403, b"<html><body>Forbidden   by proxy</body></html>",
                                     **{"Content-Type": "text/html"}))
        with pytest.raises(CodatApiError) as caught:
            await make_client(script).get_company(COMPANY)
        assert caught.value.status_code == 403
        assert caught.value.error.status_code == 403
        assert caught.value.error.error == "HTTP 403: <html><body>Forbidden by proxy</body></html>"
        assert caught.value.correlation_id is None

    async def test_json_that_is_not_an_error_message_is_synthesized_too(
            self, make_client: ClientFactory) -> None:
        script = Script(json_response(400, ["not", "an", "object"]))
        with pytest.raises(CodatApiError) as caught:
            await make_client(script).get_company(COMPANY)
        assert caught.value.error.status_code == 400

    async def test_error_message_without_status_gets_the_http_status(
            self, make_client: ClientFactory) -> None:
        script = Script(json_response(401, {"error": "Unauthorized"}))
        with pytest.raises(CodatApiError) as caught:
            await make_client(script).get_company(COMPANY)
        assert caught.value.error.status_code == 401

    async def test_unreadable_success_of_a_read_is_an_api_error(
            self, make_client: ClientFactory) -> None:
        script = Script(raw_response(200, b"{not json"))
        with pytest.raises(CodatApiError, match="unreadable"):
            await make_client(script).get_company(COMPANY)

    async def test_unreadable_success_of_a_write_is_outcome_unknown(
            self, make_client: ClientFactory) -> None:
        """A 201 we cannot read still moved money: the intent must stay open."""
        script = Script(raw_response(201, b'{"unexpected": true}'))
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await pay(make_client, script)
        assert caught.value.status_code == 201
        assert len(script.requests) == 1


class TestReadRetries:
    @pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
    async def test_get_is_retried_with_growing_backoff(
            self, make_client: ClientFactory, sleeps: SleepRecorder, status: int) -> None:
        script = Script(*[json_response(status, error_body(status)) for _ in range(3)],
                        json_response(200, samples.company()))
        company = await make_client(script).get_company(COMPANY)
        assert company.id == COMPANY
        assert len(script.requests) == 4
        assert sleeps.delays == [0.5, 0.75, 1.125]

    async def test_connect_error_on_a_get_is_retried(
            self, make_client: ClientFactory, sleeps: SleepRecorder) -> None:
        script = Script(connect_error(), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("full"),
                        json_response(200, samples.company()))
        await make_client(script).get_company(COMPANY)
        assert len(sleeps.delays) == 3

    async def test_read_timeout_on_a_get_is_retried(self, make_client: ClientFactory) -> None:
        script = Script(read_timeout(), httpx.RemoteProtocolError("dropped"),
                        json_response(200, samples.company()))
        await make_client(script).get_company(COMPANY)
        assert len(script.requests) == 3

    async def test_exhausted_5xx_on_a_get_is_outcome_unknown(
            self, make_client: ClientFactory) -> None:
        script = Script(json_response(503, error_body(503)), repeat_last=True)
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await make_client(script, retry=policy(max_attempts=3)).get_company(COMPANY)
        assert caught.value.status_code == 503
        assert caught.value.error is not None
        assert caught.value.error.correlation_id == "corr-503"
        assert len(script.requests) == 3

    async def test_exhausted_429_on_a_get_is_an_api_error(
            self, make_client: ClientFactory) -> None:
        script = Script(json_response(429, error_body(429), **{"Retry-After": "1"}),
                        repeat_last=True)
        with pytest.raises(CodatApiError) as caught:
            await make_client(script, retry=policy(max_attempts=2)).get_company(COMPANY)
        assert caught.value.status_code == 429

    async def test_exhausted_connect_errors_are_not_sent(
            self, make_client: ClientFactory) -> None:
        script = Script(connect_error(), repeat_last=True)
        with pytest.raises(CodatNotSent) as caught:
            await make_client(script, retry=policy(max_attempts=4)).get_company(COMPANY)
        assert isinstance(caught.value.__cause__, httpx.ConnectError)
        assert len(script.requests) == 4

    async def test_409_on_a_read_is_retried_a_few_times_then_conflict(
            self, make_client: ClientFactory, sleeps: SleepRecorder) -> None:
        body = error_body(409, "Dataset has not been requested or is still syncing")
        script = Script(json_response(409, body), repeat_last=True)
        with pytest.raises(CodatConflict) as caught:
            await make_client(script, retry=policy(conflict_retries=2)).list_bills(
                COMPANY, CONNECTION)
        assert caught.value.status_code == 409
        assert len(script.requests) == 3
        assert len(sleeps.delays) == 2

    async def test_409_on_a_read_can_clear(self, make_client: ClientFactory) -> None:
        script = Script(json_response(409, error_body(409)),
                        json_response(200, {"results": [samples.bill("1")]}))
        bills = await make_client(script).list_bills(COMPANY, CONNECTION)
        assert [b.id for b in bills] == ["1"]


class TestRetryAfter:
    async def test_delta_seconds_are_honoured_exactly(
            self, make_client: ClientFactory, sleeps: SleepRecorder) -> None:
        script = Script(json_response(429, error_body(429), **{"Retry-After": "7"}),
                        json_response(503, error_body(503), **{"Retry-After": "2.5"}),
                        json_response(200, samples.company()))
        await make_client(script).get_company(COMPANY)
        assert sleeps.delays == [7.0, 2.5]

    async def test_http_date_is_measured_against_the_response_date(
            self, make_client: ClientFactory, sleeps: SleepRecorder) -> None:
        script = Script(json_response(429, error_body(429), **{
                            "Date": "Sun, 22 Nov 2026 09:00:00 GMT",
                            "Retry-After": "Sun, 22 Nov 2026 09:00:12 GMT"}),
                        json_response(200, samples.company()))
        await make_client(script).get_company(COMPANY)
        assert sleeps.delays == [12.0]

    async def test_retry_after_is_capped_by_the_remaining_budget(
            self, make_client: ClientFactory, sleeps: SleepRecorder) -> None:
        script = Script(json_response(429, error_body(429), **{"Retry-After": "3600"}),
                        repeat_last=True)
        with pytest.raises(CodatApiError):
            await make_client(script, retry=policy(max_elapsed=20.0)).get_company(COMPANY)
        assert sleeps.delays == [20.0]
        assert len(script.requests) == 2

    async def test_garbage_retry_after_falls_back_to_backoff(
            self, make_client: ClientFactory, sleeps: SleepRecorder) -> None:
        script = Script(json_response(503, error_body(503), **{"Retry-After": "soon"}),
                        json_response(200, samples.company()))
        await make_client(script).get_company(COMPANY)
        assert sleeps.delays == [0.5]


class TestBudget:
    async def test_total_wait_never_exceeds_the_budget(
            self, make_client: ClientFactory, sleeps: SleepRecorder) -> None:
        """Defaults: about 30 s in total, however often Codat keeps failing."""
        script = Script(json_response(503, error_body(503)), repeat_last=True)
        with pytest.raises(CodatOutcomeUnknown):
            await make_client(script, retry=policy()).get_company(COMPANY)
        assert sum(sleeps.delays) == pytest.approx(30.0)
        assert max(sleeps.delays) <= 8.0
        assert len(script.requests) == len(sleeps.delays) + 1 == 10

    async def test_time_spent_in_attempts_counts_against_the_budget(
            self, make_client: ClientFactory, sleeps: SleepRecorder) -> None:
        ticks = iter(range(0, 1000, 4))  # every attempt appears to take 4 s
        script = Script(read_timeout(), repeat_last=True)
        with pytest.raises(CodatOutcomeUnknown):
            await make_client(script, retry=policy(max_elapsed=10.0),
                              monotonic=lambda: float(next(ticks))).get_company(COMPANY)
        # 4 s attempt, 0.5 s wait, 4 s attempt, 0.75 s wait, 4 s attempt: 13.25 s > 10 s
        assert sleeps.delays == [0.5, 0.75]

    async def test_jitter_comes_from_the_injected_rng(
            self, make_client: ClientFactory, sleeps: SleepRecorder) -> None:
        class Half:
            def random(self) -> float:
                return 0.5

        script = Script(json_response(500, error_body(500)), json_response(500, error_body(500)),
                        json_response(200, samples.company()))
        await make_client(script, retry=policy(rng=Half())).get_company(COMPANY)
        assert sleeps.delays == [0.375, 0.5625]  # 0.5 and 0.75, each cut by 0.5 x 0.5

    async def test_with_retry_keeps_the_transport_and_changes_the_policy(
            self, make_client: ClientFactory, sleeps: SleepRecorder) -> None:
        script = Script(json_response(503, error_body(503)), repeat_last=True)
        client = make_client(script).with_retry(policy(max_attempts=1))
        with pytest.raises(CodatOutcomeUnknown):
            await client.get_company(COMPANY)
        assert len(script.requests) == 1
        assert sleeps.delays == []


class TestWrites:
    @pytest.mark.parametrize("status", [408, 429, 500, 503])
    async def test_post_without_a_key_is_never_retried(
            self, make_client: ClientFactory, sleeps: SleepRecorder, status: int) -> None:
        script = Script(json_response(status, error_body(status)), repeat_last=True)
        client = make_client(script)
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await client.create_supplier(COMPANY, CONNECTION,
                                         SupplierPrototype(supplier_name="Northwind"))
        assert caught.value.status_code == status
        assert len(script.requests) == 1
        assert sleeps.delays == []

    async def test_put_without_a_key_is_never_retried(self, make_client: ClientFactory) -> None:
        script = Script(read_timeout(), repeat_last=True)
        with pytest.raises(CodatOutcomeUnknown):
            await make_client(script).update_supplier(COMPANY, CONNECTION, "61",
                                                      SupplierPrototype(supplier_name="N"))
        assert len(script.requests) == 1

    async def test_unkeyed_write_that_was_not_sent_is_not_sent(
            self, make_client: ClientFactory) -> None:
        script = Script(connect_error(), repeat_last=True)
        with pytest.raises(CodatNotSent):
            await make_client(script).create_company("Acme")
        assert len(script.requests) == 1

    async def test_upload_is_never_retried(self, make_client: ClientFactory) -> None:
        script = Script(json_response(503, error_body(503)), repeat_last=True)
        with pytest.raises(CodatOutcomeUnknown):
            await make_client(script).upload_attachment(
                COMPANY, CONNECTION, "7", filename="a.pdf", content=b"x",
                content_type="application/pdf")
        assert len(script.requests) == 1

    @pytest.mark.parametrize("failure", [
        json_response(500, error_body(500)),
        json_response(503, error_body(503), **{"Retry-After": "1"}),
        json_response(429, error_body(429), **{"Retry-After": "1"}),
        json_response(408, error_body(408)),
        json_response(409, error_body(409, "A request is in progress with the same key")),
    ], ids=["500", "503", "429", "408", "409"])
    async def test_keyed_post_is_retried_with_the_same_key(
            self, make_client: ClientFactory, failure: httpx.Response) -> None:
        script = Script(failure, json_response(201, samples.bill_payment("p-1")))
        result = await pay(make_client, script, key="idem-42")
        assert result.id == "p-1"
        assert [r.headers["Idempotency-Key"] for r in script.requests] == ["idem-42"] * 2
        assert script.requests[0].content == script.requests[1].content

    async def test_keyed_post_after_read_timeout_is_retried(
            self, make_client: ClientFactory) -> None:
        script = Script(read_timeout(), httpx.WriteTimeout("w"), httpx.ReadError("r"),
                        json_response(201, samples.bill_payment("p-1")))
        result = await pay(make_client, script)
        assert result.id == "p-1" and len(script.requests) == 4

    @pytest.mark.parametrize("status", [408, 429, 409, 500, 503])
    async def test_exhausted_write_failures_are_outcome_unknown(
            self, make_client: ClientFactory, status: int) -> None:
        script = Script(json_response(status, error_body(status)), repeat_last=True)
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await pay(make_client, script, retry=policy(max_attempts=3))
        assert caught.value.status_code == status
        assert caught.value.error is not None
        assert caught.value.error.correlation_id == f"corr-{status}"
        assert len(script.requests) == 3

    async def test_first_attempt_not_sent_is_not_sent(self, make_client: ClientFactory) -> None:
        script = Script(connect_error(), repeat_last=True)
        with pytest.raises(CodatNotSent):
            await pay(make_client, script, retry=policy(max_attempts=3))
        assert len(script.requests) == 3

    @pytest.mark.parametrize("unknown", [
        read_timeout(), httpx.RemoteProtocolError("Server disconnected"),
        json_response(503, error_body(503)),
    ], ids=["read-timeout", "dropped", "503"])
    async def test_not_sent_after_an_unknown_attempt_is_still_unknown(
            self, make_client: ClientFactory, unknown: Exception | httpx.Response) -> None:
        """The first attempt may have paid the bill: a later connect error proves nothing."""
        script = Script(unknown, connect_error(), connect_error(), connect_error())
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await pay(make_client, script, retry=policy(max_attempts=4))
        assert isinstance(caught.value.__cause__, CodatNotSent)
        assert len(script.requests) == 4

    async def test_4xx_after_an_unknown_attempt_is_still_unknown(
            self, make_client: ClientFactory) -> None:
        """A 400 'bill already paid' on the retry may be the first attempt's doing."""
        script = Script(read_timeout(), json_response(400, error_body(400, "Bill is Paid")))
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await pay(make_client, script)
        assert caught.value.status_code == 400
        assert caught.value.error is not None and caught.value.error.error == "Bill is Paid"
        assert isinstance(caught.value.__cause__, CodatApiError)

    async def test_unkeyed_write_after_read_timeout_is_unknown_at_once(
            self, make_client: ClientFactory) -> None:
        script = Script(read_timeout())
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await make_client(script).create_company("Acme")
        assert isinstance(caught.value.__cause__, httpx.ReadTimeout)

    async def test_409_on_an_unkeyed_write_is_final(self, make_client: ClientFactory) -> None:
        script = Script(json_response(409, error_body(409)), repeat_last=True)
        with pytest.raises(CodatApiError) as caught:
            await make_client(script).create_company("Acme")
        assert caught.value.status_code == 409
        assert len(script.requests) == 1

    async def test_bad_base_url_is_refused_up_front(self, make_client: ClientFactory) -> None:
        with pytest.raises(ValueError, match="http"):
            make_client(Script(), base_url="ftp://codat.test")

    async def test_unsupported_protocol_is_not_sent_and_not_retried(
            self, make_client: ClientFactory) -> None:
        script = Script(httpx.UnsupportedProtocol("no handler"), repeat_last=True)
        with pytest.raises(CodatNotSent):
            await make_client(script).get_company(COMPANY)
        assert len(script.requests) == 1


class TestLogging:
    async def test_logs_name_the_call_but_never_the_key(
            self, make_client: ClientFactory, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG)
        script = Script(json_response(503, error_body(503)),
                        json_response(400, error_body(400)))
        with pytest.raises(CodatOutcomeUnknown):
            await pay(make_client, script)
        records = [vars(r) for r in caplog.records if r.name == "billbot.codat"]
        assert [r["codat_attempt"] for r in records] == [1, 2]
        first, last = records
        assert first["codat_path"] == (
            "/companies/{companyId}/connections/{connectionId}/payables/bills/{billId}/payment")
        assert (first["codat_method"], first["codat_status"]) == ("POST", 503)
        assert first["codat_correlation_id"] == "corr-503"
        assert "retrying" in first["msg"] % first["args"]
        assert "giving up" in last["msg"] % last["args"]
        encoded = base64.b64encode(API_KEY.encode()).decode()
        everything = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
        assert API_KEY not in everything and encoded not in everything
