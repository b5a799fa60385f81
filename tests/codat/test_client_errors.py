"""How CodatClient classifies failures and when it retries (MockTransport, recorded sleeps)."""

from __future__ import annotations

import httpx
import pytest

from billbot.codat import (
    CodatApiError,
    CodatConflict,
    CodatNotFound,
    CodatNotSent,
    CodatOutcomeUnknown,
)

from . import samples
from .conftest import (
    COMPANY,
    CONNECTION,
    PAYMENT,
    ClientFactory,
    Script,
    SleepRecorder,
    connect_error,
    error_body,
    json_response,
    pay,
    policy,
    raw_response,
    read_timeout,
)


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
