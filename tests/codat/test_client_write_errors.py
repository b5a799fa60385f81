"""How CodatClient retries writes (only with an Idempotency-Key) and what it logs."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from billbot.codat import (
    CodatApiError,
    CodatNotSent,
    CodatOutcomeUnknown,
)
from billbot.codat.models import SupplierPrototype

from . import samples
from .conftest import (
    API_KEY,
    COMPANY,
    CONNECTION,
    ClientFactory,
    Script,
    SleepRecorder,
    connect_error,
    error_body,
    json_response,
    pay,
    policy,
    read_timeout,
)


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
