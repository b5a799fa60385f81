"""The validator itself: it must catch what breaks the spec, or "zero violations" means nothing.

Every exchange here is made by hand, so each test names exactly one thing that is wrong.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.openapi_contract import ContractRecorder, codat_contract, validate_exchange
from tests.support.openapi_exchange import HttpExchange
from tests.support.openapi_spec import (
    SPEC_ENV,
    load_spec,
    make_binary_untyped,
    make_nullable_explicit,
    spec_path,
)

COMPANY = "8a210b68-6988-11ed-a1eb-0242ac120002"
CONNECTION = "2e9d2c44-f675-40ba-8049-353bfcb5e171"
ATTACHMENT = "422f093f-e556-4bf3-91c0-93af70c3e850"
PAYABLES = f"/companies/{COMPANY}/connections/{CONNECTION}/payables"
AUTH = {"Authorization": "Basic c2FuZGJveA=="}
JSON = {"Content-Type": "application/json"}

BILL: dict[str, Any] = {
    "id": "7110701885",
    "reference": None,
    "supplierRef": {"id": "SUP-1", "supplierName": "Office Supplies Ltd"},
    "issueDate": "2026-11-01T00:00:00",
    "dueDate": "2026-11-30T00:00:00",
    "currency": "GBP",
    "currencyRate": None,
    "lineItems": [{"description": "Paper", "unitAmount": 10.5, "quantity": 2, "taxAmount": 0,
                   "totalAmount": 21.0, "accountRef": {"id": "ACC-1"}, "trackingRefs": None}],
    "status": "Open",
    "totalAmount": 21.0,
    "amountDue": None,
    "sourceModifiedDate": "2026-11-01T09:00:00Z",
}
PAYMENT = {"amount": 21.0, "date": "2026-11-22T00:00:00", "accountRef": {"id": "BANK-GBP"}}
ATTACHMENT_META = {"id": ATTACHMENT, "name": "receipt.png", "contentType": "image/png",
                   "dateCreated": "2026-11-01T00:00:00Z", "fileSize": 3, "includeWhenSent": True,
                   "sourceModifiedDate": "2026-11-01T00:00:00Z"}


def error_body(status: int, **fields: Any) -> bytes:
    body = {"statusCode": status, "service": "PublicApi", "error": "Nope",
            "correlationId": "0a40c2f31fc8f992fb88b0853e4166f3", "canBeRetried": "Unknown",
            "detailedErrorCode": 0, "validation": None}
    return json.dumps({**body, **fields}).encode()


def exchange(method: str, path: str, *, query: str = "", headers: dict[str, str] | None = None,
             body: Any = None, status: int = 200, response: Any = None,
             response_headers: dict[str, str] | None = None) -> HttpExchange:
    """An authorised JSON exchange unless told otherwise."""
    request_headers = dict(AUTH if headers is None else headers)
    request_body = b""
    if body is not None:
        request_headers.update(JSON)
        request_body = json.dumps(body).encode()
    response_body = response if isinstance(response, bytes) else json.dumps(response).encode()
    return HttpExchange.build(
        method, path, query_string=query, request_headers=request_headers,
        request_body=request_body, status=status,
        response_headers=JSON if response_headers is None else response_headers,
        response_body=b"" if response is None else response_body)


def list_bills(*bills: dict[str, Any], query: str = "", status: int = 200) -> HttpExchange:
    return exchange("GET", f"{PAYABLES}/bills", query=query, status=status,
                    response={"results": list(bills), "pagination": {}})


def pay(*, headers: dict[str, str] | None = None, body: Any = PAYMENT, status: int = 201,
        response: Any = None) -> HttpExchange:
    created = {**PAYMENT, "id": "PAY-1", "reference": None, "currencyRate": None}
    return exchange("POST", f"{PAYABLES}/bills/7110701885/payment",
                    headers={**AUTH, "Idempotency-Key": "k-1"} if headers is None else headers,
                    body=body, status=status, response=created if response is None else response)


def one(violations: list[str], *fragments: str) -> str:
    """The single violation, checked to mention every fragment."""
    assert len(violations) == 1, violations
    for fragment in fragments:
        assert fragment in violations[0], violations[0]
    return violations[0]


class TestSpecRepairs:
    def test_typed_nullable_gains_null_in_its_type_and_enum(self) -> None:
        schema: dict[str, Any] = {"type": "string", "enum": ["A", "B"], "nullable": True}
        assert make_nullable_explicit(schema) == 1
        assert schema == {"type": ["string", "null"], "enum": ["A", "B", None]}

    def test_untyped_nullable_is_wrapped_in_any_of_keeping_its_description(self) -> None:
        schema: dict[str, Any] = {"$ref": "#/x", "nullable": True, "description": "d"}
        make_nullable_explicit(schema)
        assert schema == {"description": "d", "anyOf": [{"$ref": "#/x"}, {"type": "null"}]}

    def test_examples_are_data_and_stay_untouched(self) -> None:
        schema: dict[str, Any] = {"type": "object", "example": {"nullable": True, "type": "x"}}
        assert make_nullable_explicit(schema) == 0
        assert schema["example"] == {"nullable": True, "type": "x"}

    def test_binary_strings_lose_their_type(self) -> None:
        schema: dict[str, Any] = {"properties": {"file": {"type": "string", "format": "binary"}}}
        assert make_binary_untyped(schema) == 1
        assert schema == {"properties": {"file": {"format": "binary"}}}

    def test_the_loaded_spec_has_every_nullable_rewritten(self) -> None:
        raw = yaml.safe_load(spec_path().read_text(encoding="utf-8"))
        assert make_nullable_explicit(raw) == 72  # the count codat.md section 8 gives
        assert "nullable: true" not in yaml.safe_dump(load_spec())

    def test_the_spec_location_can_be_overridden(self, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
        copy = tmp_path / "spec.yaml"
        shutil.copy(spec_path(), copy)
        monkeypatch.setenv(SPEC_ENV, str(copy))
        assert spec_path() == copy
        assert load_spec()["info"]["title"].startswith("Bill pay")


class TestResponses:
    def test_a_correct_bill_list_with_nulls_passes(self) -> None:
        assert validate_exchange(list_bills(BILL, {**BILL, "id": "2", "amountDue": 3.5})) == []

    def test_a_missing_required_field_is_caught(self) -> None:
        bill = {k: v for k, v in BILL.items() if k != "dueDate"}
        one(validate_exchange(list_bills(bill)), "response 200 to list-bills",
            "body results[0]", "'dueDate' is a required property")

    def test_a_wrong_type_is_caught(self) -> None:
        one(validate_exchange(list_bills({**BILL, "amountDue": "21.00"})),
            "results[0].amountDue", "'21.00' is not of type 'number'")

    def test_a_value_outside_an_enum_is_caught(self) -> None:
        one(validate_exchange(list_bills({**BILL, "status": "Approved"})), "results[0].status")

    def test_a_null_where_the_spec_allows_none_is_caught(self) -> None:
        one(validate_exchange(list_bills({**BILL, "totalAmount": None})), "results[0].totalAmount")

    def test_an_undeclared_status_is_caught(self) -> None:
        one(validate_exchange(pay(status=200)), "create-bill-payment",
            "status 200 is not declared", "201")

    def test_an_error_status_the_operation_does_not_declare_is_caught(self) -> None:
        attachments = exchange("GET", f"{PAYABLES}/bills/7110701885/attachments", status=400,
                               response=json.loads(error_body(400)))
        one(validate_exchange(attachments), "status 400 is not declared")

    def test_a_wrong_content_type_is_caught(self) -> None:
        wrong = exchange("GET", f"/companies/{COMPANY}", status=200, response=b"{}",
                         response_headers={"Content-Type": "text/plain"})
        one(validate_exchange(wrong), "text/plain")

    def test_a_body_that_is_not_json_is_caught(self) -> None:
        one(validate_exchange(HttpExchange.build(
            "GET", f"{PAYABLES}/bills", request_headers=AUTH, status=200,
            response_headers=JSON, response_body=b"<html>")), "application/json")

    def test_error_bodies_must_be_error_messages(self) -> None:
        not_found = exchange("GET", f"/companies/{COMPANY}", status=404,
                             response=json.loads(error_body(404, canBeRetried=False)))
        one(validate_exchange(not_found), "response 404", "canBeRetried", "not of type 'string'")

    def test_error_status_code_must_match_the_http_status(self) -> None:
        unavailable = exchange("GET", "/companies", status=503,
                               response=json.loads(error_body(500)))
        one(validate_exchange(unavailable), "statusCode is 500", "HTTP status is 503")

    def test_attachments_are_a_bare_array(self) -> None:
        path = f"{PAYABLES}/bills/7110701885/attachments"
        assert validate_exchange(exchange("GET", path, response=[ATTACHMENT_META])) == []
        one(validate_exchange(exchange("GET", path, response={"results": [ATTACHMENT_META]})),
            "not of type 'array'")

    def test_a_download_is_raw_bytes(self) -> None:
        download = HttpExchange.build(
            "GET", f"{PAYABLES}/bills/7110701885/attachments/{ATTACHMENT}/download",
            request_headers=AUTH, status=200,
            response_headers={"Content-Type": "application/octet-stream"},
            response_body=bytes(range(256)))
        assert validate_exchange(download) == []


class TestRequests:
    def test_a_bad_query_parameter_value_accepted_by_the_server_is_caught(self) -> None:
        listing = {"results": [], "pageNumber": 1, "pageSize": 100, "totalResults": 0,
                   "_links": {"self": {"href": "/companies"}, "current": {"href": "/companies"}}}
        one(validate_exchange(exchange("GET", "/companies", query="page=0", response=listing)),
            "request list-companies", "query parameter page", "minimum of 1",
            "answered 200, not refused")

    def test_an_undeclared_query_parameter_is_caught(self) -> None:
        one(validate_exchange(list_bills(BILL, query="pageSize=10")),
            "undeclared query parameter 'pageSize'", "continuationToken, query")

    def test_an_unencoded_codat_query_shows_up_as_stray_parameters(self) -> None:
        one(validate_exchange(list_bills(BILL, query="query=status=Open&&dueDate<2026-12-01")),
            "undeclared query parameter")

    def test_a_bad_request_the_server_refuses_is_fine(self) -> None:
        refused = exchange("GET", f"{PAYABLES}/bills", query="pageSize=10", status=400,
                           response=json.loads(error_body(400)))
        assert validate_exchange(refused) == []

    def test_a_refused_request_still_needs_a_correct_response(self) -> None:
        refused = exchange("GET", f"{PAYABLES}/bills", query="pageSize=10", status=400,
                           response={"message": "bad"})
        assert validate_exchange(refused) == []  # ErrorMessage has no required fields...
        refused = exchange("GET", f"{PAYABLES}/bills", query="pageSize=10", status=400,
                           response={"statusCode": "400"})
        one(validate_exchange(refused), "statusCode")  # ...but its fields have types

    def test_a_missing_authorization_is_caught_unless_refused_with_401(self) -> None:
        one(validate_exchange(HttpExchange.build(
            "GET", f"{PAYABLES}/bills", status=200, response_headers=JSON,
            response_body=json.dumps({"results": []}).encode())), "no Authorization header")
        unauthorised = exchange("GET", f"{PAYABLES}/bills", headers={}, status=401,
                                response=json.loads(error_body(401)))
        assert validate_exchange(unauthorised) == []

    def test_authorization_must_be_basic(self) -> None:
        bearer = exchange("GET", f"/companies/{COMPANY}/connections", headers={
            "Authorization": "Bearer sandbox"}, response={})
        assert any("'Basic <base64 API key>'" in v for v in validate_exchange(bearer))

    def test_a_company_id_must_be_a_uuid(self) -> None:
        company = {"id": COMPANY, "name": "Acme", "redirect": "https://link.codat.io/x"}
        one(validate_exchange(exchange("GET", "/companies/acme", response=company)),
            "path parameter companyId", "'acme' is not a 'uuid'")

    def test_a_payment_body_missing_fields_is_caught(self) -> None:
        violations = validate_exchange(pay(body={"amount": "21.00"}))
        assert len(violations) == 3, violations
        joined = "\n".join(violations)
        assert "'21.00' is not of type 'number'" in joined
        assert "'date' is a required property" in joined
        assert "'accountRef' is a required property" in joined

    def test_an_idempotency_key_where_codat_ignores_it_is_caught(self) -> None:
        supplier = {"supplierName": "Acme", "status": "Active"}
        update = exchange("PUT", f"{PAYABLES}/suppliers/SUP-1",
                          headers={**AUTH, "Idempotency-Key": "k"}, body=supplier,
                          response={**supplier, "id": "SUP-1"})
        one(validate_exchange(update), "update-supplier does not take one")

    def test_a_write_without_a_body_is_caught(self) -> None:
        one(validate_exchange(pay(body=None)), "no request body")

    def test_a_multipart_upload_needs_its_file_part(self) -> None:
        path = f"{PAYABLES}/bills/7110701885/attachments"

        def upload(part: str) -> HttpExchange:
            request = httpx.Request("POST", "http://sandbox" + path, headers=AUTH,
                                    files={part: ("receipt.png", b"\x89PNG\xff\x00", "image/png")})
            return HttpExchange.build("POST", path, request_headers=request.headers.multi_items(),
                                      request_body=request.read(), status=201,
                                      response_headers=JSON,
                                      response_body=json.dumps(ATTACHMENT_META).encode())

        assert validate_exchange(upload("file")) == []
        one(validate_exchange(upload("document")), "'file' is a required property")

    def test_a_bill_id_holding_an_encoded_slash_stays_one_segment(self) -> None:
        assert validate_exchange(exchange(
            "POST", f"{PAYABLES}/bills/INV%2F2026%2F7/payment",
            headers={**AUTH, "Idempotency-Key": "k"}, body=PAYMENT, status=201,
            response={**PAYMENT, "id": "PAY-1"})) == []

    def test_an_unknown_route_is_caught_unless_refused(self) -> None:
        one(validate_exchange(exchange("GET", f"{PAYABLES}/bills/7110701885", response=BILL)),
            "no such operation")
        assert validate_exchange(exchange("GET", f"{PAYABLES}/bills/7110701885", status=404,
                                          response=json.loads(error_body(404)))) == []


class TestIdempotencyReuse:
    """Codat answers 422 when a key is reused with another body; the spec does not say so."""

    def test_a_422_error_message_for_a_keyed_write_is_accepted(self) -> None:
        assert validate_exchange(pay(status=422, response=json.loads(error_body(422)))) == []

    def test_a_422_body_is_checked_against_error_message(self) -> None:
        one(validate_exchange(pay(status=422, response={"statusCode": 422, "validation": []})),
            "idempotency 422 body validation")

    def test_a_422_must_say_422(self) -> None:
        one(validate_exchange(pay(status=422, response=json.loads(error_body(400)))),
            "statusCode is 400")

    def test_a_422_without_a_key_is_undeclared(self) -> None:
        one(validate_exchange(pay(headers=AUTH, status=422, response=json.loads(error_body(422)))),
            "carried no Idempotency-Key")

    def test_a_422_where_no_key_is_taken_is_undeclared(self) -> None:
        company = exchange("POST", "/companies", body={"name": "Acme"}, status=422,
                           response=json.loads(error_body(422)))
        one(validate_exchange(company), "status 422 is not declared")


class TestVerdict:
    def test_a_refused_bad_request_is_told_apart_from_a_kept_contract(self) -> None:
        refused = codat_contract().check(exchange(
            "GET", "/companies", query="page=0", status=400, response=json.loads(error_body(400))))
        assert refused.operation_id == "list-companies"
        assert refused.refused_bad_request and not refused.violations
        kept = codat_contract().check(list_bills(BILL))
        assert kept.operation_id == "list-bills"
        assert not kept.refused_bad_request and not kept.request_problems

    def test_an_accepted_bad_request_is_not_a_refusal(self) -> None:
        accepted = codat_contract().check(list_bills(BILL, query="pageSize=1"))
        assert accepted.violations and not accepted.refused_bad_request

    def test_the_spec_has_25_operations(self) -> None:
        assert len(codat_contract().operation_ids) == 25


class TestRecorder:
    def test_exchanges_from_many_threads_are_all_validated_on_flush(self) -> None:
        recorder = ContractRecorder()
        recorder.current_test = "tests/x.py::test_y"
        good, bad = list_bills(BILL), list_bills({**BILL, "currency": 826})
        threads = [threading.Thread(target=recorder.record, args=(good if i % 10 else bad,))
                   for i in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert recorder.validated == 0  # nothing is validated on the server's thread
        found = recorder.flush()
        assert recorder.validated == 50
        assert len(found) == 5 and recorder.violations == found
        assert all(v.test == "tests/x.py::test_y" for v in found)
        assert recorder.summary() == "openapi contract: 50 requests validated, 5 violations"
        assert recorder.flush() == [] and recorder.validated == 50
        assert recorder.operations == {"sync:list-bills": 50}
        lines = list(recorder.lines())
        assert lines[1].startswith("  sync operations exercised: 1 of 25 (not: create-bank-account,")
        assert lines[2].startswith("  async operations exercised: 0 of 63 (not: create-account,")
        assert len(lines) == 4 + 5

    def test_a_violation_names_its_test(self) -> None:
        recorder = ContractRecorder()
        recorder.record(list_bills({**BILL, "status": "Approved"}))
        [violation] = recorder.flush()
        assert str(violation).startswith("(outside a test): response 200 to list-bills")
