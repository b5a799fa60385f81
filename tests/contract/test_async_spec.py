"""The async spec's side of the contract: it catches what breaks the async spec, and the
company/connection paths both specs declare are held to both."""

from __future__ import annotations

import json
from typing import Any

from tests.support.openapi_async import async_contract, check_both
from tests.support.openapi_contract import ContractRecorder
from tests.support.openapi_exchange import HttpExchange

COMPANY = "8a210b68-6988-11ed-a1eb-0242ac120002"
CONNECTION = "2e9d2c44-f675-40ba-8049-353bfcb5e171"
AUTH = {"Authorization": "Basic c2FuZGJveA=="}
JSON = {"Content-Type": "application/json"}
OPERATION: dict[str, Any] = {
    "companyId": COMPANY, "pushOperationKey": "2b4c5f1a-3d1e-4c8b-9a10-6f0d8e7c5b21",
    "dataConnectionKey": CONNECTION, "requestedOnUtc": "2025-01-08T10:00:00Z",
    "status": "Pending", "statusCode": 202, "dataType": "billPayments"}


def get(path: str, response: Any) -> HttpExchange:
    return HttpExchange.build("GET", path, request_headers=AUTH, status=200,
                              response_headers=JSON, response_body=json.dumps(response).encode())


def test_the_async_spec_has_63_operations() -> None:
    assert len(async_contract().operation_ids) == 63


def test_a_push_operation_is_checked_against_the_async_spec() -> None:
    path = f"/companies/{COMPANY}/push/{OPERATION['pushOperationKey']}"
    [(spec, verdict)] = check_both(get(path, OPERATION))
    assert (spec, verdict.operation_id, verdict.violations) == ("async", "get-push-operation", ())
    [(_, bad)] = check_both(get(path, {**OPERATION, "status": "Done"}))
    assert len(bad.violations) == 1 and "'Done' is not one of" in bad.violations[0]


def test_shared_company_paths_are_held_to_both_specs() -> None:
    company = {"id": COMPANY, "name": "Acme", "redirect": "https://link.codat.io/x"}
    verdicts = check_both(get(f"/companies/{COMPANY}", company))
    assert [(spec, v.operation_id, v.violations) for spec, v in verdicts] == [
        ("sync", "get-company", ()), ("async", "get-company", ())]
    broken = check_both(get(f"/companies/{COMPANY}", {"id": COMPANY, "name": "Acme"}))
    assert [spec for spec, v in broken if v.violations] == ["sync", "async"]


def test_the_recorder_counts_and_labels_each_spec() -> None:
    recorder = ContractRecorder()
    recorder.record(get(f"/companies/{COMPANY}/data/bills", {"results": []}))  # no paging
    recorder.record(get(f"/companies/{COMPANY}", {"id": COMPANY, "name": "Acme",
                                                  "redirect": "https://link.codat.io/x"}))
    found = recorder.flush()
    assert found and all(v.message.startswith("[async] response 200 to list-bills")
                         for v in found)
    assert recorder.operations == {"async:list-bills": 1, "sync:get-company": 1,
                                   "async:get-company": 1}
