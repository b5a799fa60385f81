"""What CodatClient puts on the wire and how it reads Codat's answers (MockTransport)."""

from __future__ import annotations

import base64
import json
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from billbot.codat import CodatNotFound
from billbot.codat.models import (
    BankAccountPrototype,
    BankAccountType,
    BillLineItem,
    BillPaymentPrototype,
    BillPrototype,
    IdRef,
    SupplierPrototype,
    SupplierRef,
)

from . import samples
from .conftest import API_KEY, BASE_URL, COMPANY, CONNECTION, ClientFactory, Script, json_response

PAYABLES = f"/companies/{COMPANY}/connections/{CONNECTION}/payables"


def query_of(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(str(request.url)).query, keep_blank_values=True)


def payment(amount: str = "1329.54") -> BillPaymentPrototype:
    return BillPaymentPrototype(amount=Decimal(amount), date="2026-11-22T00:00:00",
                                account_ref=IdRef(id="bank-1"))


class TestEveryRequest:
    async def test_sends_basic_auth_of_the_raw_key_and_a_timeout(
            self, make_client: ClientFactory) -> None:
        """Authorization is `Basic base64(key)`; each request carries the configured timeout."""
        script = Script(json_response(200, samples.company()))
        client = make_client(script, timeout=7.5)
        await client.get_company(COMPANY)
        request = script.requests[0]
        expected = "Basic " + base64.b64encode(API_KEY.encode()).decode()
        assert request.headers["Authorization"] == expected
        assert request.extensions["timeout"] == httpx.Timeout(7.5).as_dict()
        assert str(request.url) == f"{BASE_URL}/companies/{COMPANY}"

    async def test_repr_hides_the_key(self, make_client: ClientFactory) -> None:
        client = make_client(Script())
        assert API_KEY not in repr(client)

    async def test_free_string_ids_cannot_change_the_path(
            self, make_client: ClientFactory) -> None:
        """A bill id with `/`, `?`, `#`, `%` or a dot-segment stays one path segment."""
        ids = ["a/b?c=d#e", "..", ".", "100%", "x y"]
        script = Script(*[json_response(200, []) for _ in ids])
        client = make_client(script)
        for bill_id in ids:
            await client.list_attachments(COMPANY, CONNECTION, bill_id)
        raw_paths = [r.url.raw_path.decode() for r in script.requests]
        assert raw_paths == [
            f"{PAYABLES}/bills/a%2Fb%3Fc%3Dd%23e/attachments",
            f"{PAYABLES}/bills/%2E%2E/attachments",
            f"{PAYABLES}/bills/%2E/attachments",
            f"{PAYABLES}/bills/100%25/attachments",
            f"{PAYABLES}/bills/x%20y/attachments",
        ]
        assert all(not r.url.query for r in script.requests)

    async def test_empty_id_is_refused_before_sending(self, make_client: ClientFactory) -> None:
        script = Script()
        with pytest.raises(ValueError, match="billId"):
            await make_client(script).list_attachments(COMPANY, CONNECTION, "")
        assert script.requests == []

    async def test_codat_query_language_arrives_url_encoded(
            self, make_client: ClientFactory) -> None:
        query = "status=Open&&dueDate<2026-01-01||{supplierRef.id=61}"
        script = Script(json_response(200, {"results": [], "pagination": {}}))
        await make_client(script).list_bills(COMPANY, CONNECTION, query=query)
        raw = script.requests[0].url.raw_path.decode()
        assert raw.startswith(f"{PAYABLES}/bills?query=")
        assert "&&" not in raw and "||" not in raw and "<" not in raw
        assert "status%3DOpen%26%26dueDate%3C2026-01-01%7C%7C%7B" in raw
        assert query_of(script.requests[0]) == {"query": [query]}

    async def test_base_url_may_carry_a_path_prefix(self, make_client: ClientFactory) -> None:
        script = Script(json_response(200, samples.company()))
        client = make_client(script, base_url="http://127.0.0.1:1/codat/")
        await client.get_company(COMPANY)
        assert str(script.requests[0].url) == f"http://127.0.0.1:1/codat/companies/{COMPANY}"


class TestPaging:
    async def test_companies_use_page_and_page_size(self, make_client: ClientFactory) -> None:
        script = Script(json_response(200, samples.page([samples.company()], number=2, size=1,
                                                        total=3)))
        result = await make_client(script).list_companies(page=2, page_size=1, query="name~Acme")
        assert query_of(script.requests[0]) == {"page": ["2"], "pageSize": ["1"],
                                                "query": ["name~Acme"]}
        assert (result.page_number, result.page_size, result.total_results) == (2, 1, 3)
        assert result.results[0].name == "Acme Ltd"
        assert result.results[0].data_connections is not None

    async def test_connections_page(self, make_client: ClientFactory) -> None:
        script = Script(json_response(200, samples.page([samples.connection()])))
        result = await make_client(script).list_connections(COMPANY)
        assert script.requests[0].url.path == f"/companies/{COMPANY}/connections"
        assert result.results[0].platform_name == "Xero"

    async def test_bills_follow_continuation_tokens_keeping_the_query(
            self, make_client: ClientFactory) -> None:
        script = Script(
            json_response(200, {"results": [samples.bill("1"), samples.bill("2")],
                                "pagination": {"continuationToken": "tok+/=1"}}),
            json_response(200, {"results": [samples.bill("3")],
                                "pagination": {"continuationToken": "tok2"}}),
            json_response(200, {"results": [], "pagination": {}}),
        )
        bills = await make_client(script).list_bills(COMPANY, CONNECTION, query="status=Open")
        assert [b.id for b in bills] == ["1", "2", "3"]
        assert [query_of(r) for r in script.requests] == [
            {"query": ["status=Open"]},
            {"query": ["status=Open"], "continuationToken": ["tok+/=1"]},
            {"query": ["status=Open"], "continuationToken": ["tok2"]},
        ]

    async def test_iter_bills_fetches_lazily(self, make_client: ClientFactory) -> None:
        """Stopping after the first bill sends no request for the next page."""
        script = Script(json_response(200, {"results": [samples.bill("1")],
                                            "pagination": {"continuationToken": "t"}}))
        async for first in make_client(script).iter_bills(COMPANY, CONNECTION):
            assert first.id == "1"
            break
        assert len(script.requests) == 1

    async def test_a_repeated_token_stops_the_loop(self, make_client: ClientFactory) -> None:
        looping = json_response(200, {"results": [], "pagination": {"continuationToken": "t"}})
        script = Script(looping, repeat_last=True)
        with pytest.raises(Exception, match="continuation token repeated"):
            await make_client(script).list_bills(COMPANY, CONNECTION)
        assert len(script.requests) == 2

    async def test_suppliers_follow_tokens(self, make_client: ClientFactory) -> None:
        script = Script(
            json_response(200, {"results": [samples.supplier("61")],
                                "pagination": {"continuationToken": "n"}}),
            json_response(200, {"results": [samples.supplier("62", "Contoso")]}),
        )
        suppliers = await make_client(script).list_suppliers(COMPANY, CONNECTION,
                                                            query="status=Active")
        assert [s.supplier_name for s in suppliers] == ["Northwind", "Contoso"]
        assert suppliers[0].balance == Decimal("12.5")
        assert query_of(script.requests[1])["continuationToken"] == ["n"]

    async def test_bill_mapping_options_merge_every_page(
            self, make_client: ClientFactory) -> None:
        script = Script(
            json_response(200, {"accounts": [{"id": "a1", "name": "Sales"}],
                                "taxRates": [{"id": "t1", "effectiveTaxRate": 20}],
                                "pagination": {"continuationToken": "p2"}}),
            json_response(200, {"accounts": [{"id": "a2"}], "taxRates": [],
                                "pagination": {}}),
        )
        options = await make_client(script).get_bill_mapping_options(COMPANY, CONNECTION)
        assert [a.id for a in options.accounts] == ["a1", "a2"]
        assert [t.effective_tax_rate for t in options.tax_rates] == [Decimal(20)]
        assert script.requests[0].url.path == f"{PAYABLES}/mappingOptions/bills"

    async def test_payment_mapping_options_merge_and_pass_status_query(
            self, make_client: ClientFactory) -> None:
        script = Script(
            json_response(200, {"bankAccounts": [{"id": "b1", "currency": "GBP",
                                                  "status": "Active", "accountType": "Debit"}],
                                "pagination": {"continuationToken": "p2"}}),
            json_response(200, {"bankAccounts": [{"id": "b2", "accountType": "Credit"}]}),
        )
        status_query = "status=Active||status=Archived"
        options = await make_client(script).get_payment_mapping_options(
            COMPANY, CONNECTION, status_query=status_query)
        assert [b.id for b in options.bank_accounts] == ["b1", "b2"]
        assert [query_of(r) for r in script.requests] == [
            {"statusQuery": [status_query]},
            {"statusQuery": [status_query], "continuationToken": ["p2"]},
        ]


class TestBills:
    async def test_money_is_parsed_exactly_from_json_numbers(
            self, make_client: ClientFactory) -> None:
        """Numbers become Decimal from their text: 0.1 is 0.1, not 0.1000000000000000055."""
        script = Script(httpx.Response(200, content=samples.bills_json_with_exact_numbers("1")))
        (bill,) = await make_client(script).list_bills(COMPANY, CONNECTION)
        assert bill.total_amount == Decimal("1329.54")
        assert str(bill.amount_due) == "0.1"
        assert str(bill.currency_rate) == "1.234567891"
        assert bill.line_items is not None
        assert str(bill.line_items[0].unit_amount) == "0.30000000000000004"
        assert bill.issue_date == date(2026, 11, 1)

    async def test_get_bill_lists_by_id_in_any_status(self, make_client: ClientFactory) -> None:
        script = Script(json_response(200, {"results": [samples.bill("7", status="Paid")]}))
        bill = await make_client(script).get_bill(COMPANY, CONNECTION, "7")
        assert bill.status == "Paid"
        assert query_of(script.requests[0]) == {"query": ["id=7"]}

    async def test_get_bill_with_a_2000_character_id(self, make_client: ClientFactory) -> None:
        long_id = "7" * 1999 + "/"  # free strings: long, and with characters to encode
        script = Script(json_response(200, {"results": [samples.bill(long_id)]}))
        bill = await make_client(script).get_bill(COMPANY, CONNECTION, long_id)
        assert bill.id == long_id
        assert query_of(script.requests[0]) == {"query": [f"id={long_id}"]}

    async def test_get_bill_ignores_other_ids_and_raises_not_found(
            self, make_client: ClientFactory) -> None:
        script = Script(json_response(200, {"results": [samples.bill("70")]}))
        with pytest.raises(CodatNotFound) as caught:
            await make_client(script).get_bill(COMPANY, CONNECTION, "7")
        assert caught.value.status_code == 404

    async def test_get_bill_refuses_ids_the_query_language_cannot_hold(
            self, make_client: ClientFactory) -> None:
        script = Script()
        with pytest.raises(ValueError, match="query language"):
            await make_client(script).get_bill(COMPANY, CONNECTION, "7||status=Paid")
        assert script.requests == []

    async def test_create_bill_sends_exact_json_numbers_and_the_key(
            self, make_client: ClientFactory) -> None:
        script = Script(json_response(201, samples.bill("new")))
        prototype = BillPrototype(
            supplier_ref=SupplierRef(id="61"), issue_date=date(2026, 11, 1),
            due_date=date(2026, 11, 30), currency="GBP",
            line_items=[BillLineItem(unit_amount=Decimal("1329.54"), quantity=Decimal(1),
                                    total_amount=Decimal("0.1"))])
        bill = await make_client(script).create_bill(COMPANY, CONNECTION, prototype,
                                                     idempotency_key="key-1")
        request = script.requests[0]
        assert (request.method, request.url.path) == ("POST", f"{PAYABLES}/bills")
        assert request.headers["Idempotency-Key"] == "key-1"
        assert request.headers["Content-Type"] == "application/json"
        text = request.content.decode()
        assert '"unitAmount":1329.54' in text and '"totalAmount":0.1' in text
        sent = json.loads(text, parse_float=Decimal)
        assert sent["lineItems"][0]["unitAmount"] == Decimal("1329.54")
        assert sent["issueDate"] == "2026-11-01" and sent["status"] == "Open"
        assert bill.id == "new"

    async def test_update_bill_is_a_put_with_the_key(self, make_client: ClientFactory) -> None:
        script = Script(json_response(200, samples.bill("b/1")))
        prototype = BillPrototype(supplier_ref=SupplierRef(id="61"), issue_date=date(2026, 11, 1),
                                  due_date=date(2026, 11, 30), currency="GBP")
        await make_client(script).update_bill(COMPANY, CONNECTION, "b/1", prototype,
                                              idempotency_key="key-2")
        request = script.requests[0]
        assert request.method == "PUT"
        assert request.url.raw_path.decode() == f"{PAYABLES}/bills/b%2F1"
        assert request.headers["Idempotency-Key"] == "key-2"

    @pytest.mark.parametrize("key", ["", "   ", "k" * 256])
    async def test_bad_idempotency_keys_are_refused(self, make_client: ClientFactory,
                                                    key: str) -> None:
        with pytest.raises(ValueError, match="idempotency_key"):
            await make_client(Script()).create_bill_payment(COMPANY, CONNECTION, "1", payment(),
                                                            idempotency_key=key)


class TestPayments:
    @pytest.mark.parametrize("amount", ["1329.54", "0.1", "0.01", "1000000.07", "5"])
    async def test_amount_goes_out_as_the_exact_json_number(
            self, make_client: ClientFactory, amount: str) -> None:
        script = Script(json_response(201, samples.bill_payment()))
        await make_client(script).create_bill_payment(COMPANY, CONNECTION, "7110701885",
                                                      payment(amount), idempotency_key="k")
        request = script.requests[0]
        assert request.url.path == f"{PAYABLES}/bills/7110701885/payment"
        assert request.headers["Idempotency-Key"] == "k"
        body = json.loads(request.content, parse_float=Decimal, parse_int=Decimal)
        assert body["amount"] == Decimal(amount)
        assert f'"amount":{json.dumps(float(amount))}' in request.content.decode()
        assert body["date"] == "2026-11-22T00:00:00"
        assert body["accountRef"] == {"id": "bank-1"}

    async def test_an_amount_json_cannot_carry_exactly_is_refused(
            self, make_client: ClientFactory) -> None:
        """to_api() would send such an amount as a string; nothing is sent instead."""
        script = Script()
        with pytest.raises(ValueError, match="exact JSON number"):
            await make_client(script).create_bill_payment(
                COMPANY, CONNECTION, "1", payment("0.12345678901234567891"),
                idempotency_key="k")
        assert script.requests == []

    async def test_payment_answer_is_parsed(self, make_client: ClientFactory) -> None:
        script = Script(httpx.Response(201, content=b'{"id":"p1","amount":0.1,'
                                                    b'"date":"2026-11-22T00:00:00"}'))
        result = await make_client(script).create_bill_payment(
            COMPANY, CONNECTION, "1", payment("0.1"), idempotency_key="k")
        assert (result.id, str(result.amount)) == ("p1", "0.1")


class TestAttachments:
    async def test_upload_is_multipart_with_a_file_part(self, make_client: ClientFactory) -> None:
        script = Script(json_response(201, samples.attachment()))
        result = await make_client(script).upload_attachment(
            COMPANY, CONNECTION, "7", filename="invoice.pdf", content=b"%PDF-",
            content_type="application/pdf")
        request = script.requests[0]
        assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
        body = request.content
        assert b'name="file"; filename="invoice.pdf"' in body
        assert b"Content-Type: application/pdf" in body and b"%PDF-" in body
        assert "Idempotency-Key" not in request.headers
        assert result.file_size == 5

    async def test_list_is_a_bare_array(self, make_client: ClientFactory) -> None:
        script = Script(json_response(200, [samples.attachment("a1"), samples.attachment("a2")]))
        result = await make_client(script).list_attachments(COMPANY, CONNECTION, "7")
        assert [a.id for a in result] == ["a1", "a2"]

    async def test_download_returns_the_bytes(self, make_client: ClientFactory) -> None:
        script = Script(httpx.Response(200, content=b"\x00\x01%PDF",
                                       headers={"Content-Type": "application/octet-stream"}))
        data = await make_client(script).download_attachment(COMPANY, CONNECTION, "7", "a1")
        assert data == b"\x00\x01%PDF"
        assert script.requests[0].url.path == f"{PAYABLES}/bills/7/attachments/a1/download"


class TestCompaniesSuppliersAccounts:
    async def test_create_company_and_connection(self, make_client: ClientFactory) -> None:
        script = Script(json_response(200, samples.company()),
                        json_response(200, samples.connection()))
        client = make_client(script)
        await client.create_company("Acme Ltd", description="test")
        connection = await client.create_connection(COMPANY, "gbol")
        assert json.loads(script.requests[0].content) == {"name": "Acme Ltd",
                                                          "description": "test"}
        assert json.loads(script.requests[1].content) == {"platformKey": "gbol"}
        assert connection.status == "Linked"

    async def test_get_connection_and_company_info(self, make_client: ClientFactory) -> None:
        script = Script(json_response(200, samples.connection()),
                        json_response(200, {"companyName": "Acme", "baseCurrency": "GBP"}))
        client = make_client(script)
        await client.get_connection(COMPANY, CONNECTION)
        info = await client.get_company_info(COMPANY, CONNECTION)
        assert info.base_currency == "GBP"
        assert script.requests[1].url.path == f"{PAYABLES}/info"

    async def test_supplier_create_and_update(self, make_client: ClientFactory) -> None:
        script = Script(json_response(201, samples.supplier()),
                        json_response(200, samples.supplier()))
        client = make_client(script)
        prototype = SupplierPrototype(supplier_name="Northwind", balance=Decimal("0.1"))
        await client.create_supplier(COMPANY, CONNECTION, prototype, idempotency_key="s1")
        await client.update_supplier(COMPANY, CONNECTION, "61", prototype)
        create, update = script.requests
        assert create.headers["Idempotency-Key"] == "s1"
        assert '"balance":0.1' in create.content.decode()
        assert (update.method, update.url.path) == ("PUT", f"{PAYABLES}/suppliers/61")
        assert "Idempotency-Key" not in update.headers

    async def test_create_bank_account(self, make_client: ClientFactory) -> None:
        script = Script(json_response(201, samples.bank_account()))
        account = await make_client(script).create_bank_account(
            COMPANY, CONNECTION, BankAccountPrototype(
                name="Current", account_type=BankAccountType.DEBIT, account_number="12345678",
                currency="GBP"))
        assert account.status == "Active"
        assert json.loads(script.requests[0].content) == {
            "name": "Current", "accountType": "Debit", "accountNumber": "12345678",
            "currency": "GBP"}
        assert "Idempotency-Key" not in script.requests[0].headers
