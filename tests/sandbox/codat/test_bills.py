"""Create and update bills, and their attachments (codat.md section 7, rules 3-5, 17)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from billbot.sandbox.codat import SandboxState
from tests.sandbox.codat.conftest import Api
from tests.sandbox.codat.helpers import assert_error, messages


def prototype(**overrides: Any) -> dict[str, Any]:
    bill = {
        "reference": "bill_b8qmmj4ksf1suax",
        "supplierRef": {"id": "4106", "supplierName": "ignored"},
        "issueDate": "2025-01-02T00:00:00", "dueDate": "2025-02-01T00:00:00",
        "currency": "GBP", "currencyRate": 1, "status": "Open",
        "lineItems": [
            {"description": "Training", "unitAmount": 1800, "quantity": 1, "taxAmount": 360,
             "totalAmount": 2160, "accountRef": {"id": "a1"}, "taxRateRef": {"id": "INPUT2"}},
            {"description": "Support", "unitAmount": 4000, "quantity": 1, "taxAmount": 800,
             "totalAmount": 4800},
            {"description": "Stationery", "unitAmount": 32, "quantity": 8, "taxAmount": 51.2,
             "totalAmount": 307.2,
             "trackingRefs": [{"id": "t1", "dataType": "trackingCategories"}]},
        ],
    }
    bill.update(overrides)
    return bill


def test_create_bill_totals_the_lines_and_answers_201(api: Api, state: SandboxState) -> None:
    response = api.client.post(f"{api.payables}/bills", json=prototype())
    assert response.status_code == 201
    bill = response.json()
    assert bill["totalAmount"] == 7267.2 and bill["amountDue"] == 7267.2  # spec's example
    assert bill["status"] == "Open"
    assert bill["supplierRef"] == {"id": "4106", "supplierName": "Pemberton & Hale Solicitors"}
    assert state.bill(bill["id"])["totalAmount"] == Decimal("7267.2")
    assert bill["id"] in {b["id"] for b in api.all_bills()}


def test_line_total_defaults_to_unit_times_quantity_plus_tax(api: Api) -> None:
    lines = [{"unitAmount": 12.5, "quantity": 4, "taxAmount": 10}]
    bill = api.client.post(f"{api.payables}/bills", json=prototype(lineItems=lines)).json()
    assert bill["totalAmount"] == 60


@pytest.mark.parametrize("overrides, expected", [
    ({"supplierRef": {"id": "nobody"}}, "Supplier nobody does not exist."),
    ({"supplierRef": {}}, "Supplier Ref Id is required."),
    ({"currency": "POUNDS"}, "Currency Length must be equal to 3."),
    ({"status": "Paid"}, "Status must be equal to Open."),
    ({"lineItems": []}, "Line Items must not be empty."),
    ({"lineItems": [{"unitAmount": -5, "quantity": 1, "taxAmount": 0}]},
     "The sum of the line items must be greater than or equal to 0."),
    ({"reference": "r" * 256}, "Reference Length must be less than or equal to 255."),
    ({"currencyRate": 0}, "Currency Rate must be greater than 0."),
    ({"currency": "USD", "currencyRate": None}, "Currency Rate must be greater than 0."),
    ({"issueDate": None}, "Issue Date is required."),
    ({"dueDate": "next week"}, "Due Date must be an ISO-8601 date."),
])
def test_create_bill_validation(api: Api, state: SandboxState, overrides: dict[str, Any],
                                expected: str) -> None:
    before = len(state.main_ledger.bills)
    response = api.client.post(f"{api.payables}/bills", json=prototype(**overrides))
    assert_error(response, 400)
    assert expected in messages(response)
    assert len(state.main_ledger.bills) == before


def test_update_replaces_an_open_bill_and_its_lines(api: Api, state: SandboxState) -> None:
    lines = [{"description": "Cleaning, revised", "unitAmount": 450, "quantity": 1,
              "taxAmount": 90}]
    response = api.client.put(f"{api.payables}/bills/7110700004",
                              json=prototype(supplierRef={"id": "4105"}, lineItems=lines,
                                             reference="revised"))
    assert response.status_code == 200
    bill = state.bill("7110700004")
    assert (bill["totalAmount"], bill["amountDue"], bill["reference"]) == (540, 540, "revised")
    assert [line["description"] for line in bill["lineItems"]] == ["Cleaning, revised"]


def test_only_open_bills_can_be_updated(api: Api, state: SandboxState) -> None:
    before = dict(state.bill("7110700003"))
    response = api.client.put(f"{api.payables}/bills/7110700003", json=prototype())
    assert_error(response, 400)
    assert state.bill("7110700003") == before
    assert_error(api.client.put(f"{api.payables}/bills/nope", json=prototype()), 404)


def test_attachments_upload_list_and_download(api: Api) -> None:
    base = f"{api.payables}/bills/7110700004/attachments"
    assert api.client.get(base).json() == []  # (D) a bare array, not paginated
    uploaded = api.client.post(base, files={"file": ("receipt.png", b"\x89PNG...", "image/png")})
    assert uploaded.status_code == 201
    meta = uploaded.json()
    assert (meta["name"], meta["contentType"], meta["fileSize"]) == ("receipt.png",
                                                                     "image/png", 7)
    assert api.client.get(base).json() == [meta]
    download = api.client.get(f"{base}/{meta['id']}/download")
    assert download.content == b"\x89PNG..."
    assert download.headers["content-type"] == "application/octet-stream"


def test_seeded_attachment_downloads(api: Api, state: SandboxState) -> None:
    [(attachment_id, stored)] = state.main_ledger.attachments["7110700001"].items()
    response = api.client.get(f"{api.payables}/bills/7110700001/attachments/{attachment_id}"
                              "/download")
    assert response.content == stored.content and response.content.startswith(b"%PDF")


def test_attachment_errors(api: Api) -> None:
    base = f"{api.payables}/bills/7110700004/attachments"
    missing_part = api.client.post(base, files={"document": ("a.txt", b"x", "text/plain")})
    assert any("'file'" in m for m in messages(missing_part))
    too_big = api.client.post(base, files={"file": ("big.pdf", b"0" * (4 * 1024 * 1024 + 1),
                                                    "application/pdf")})
    assert_error(too_big, 400)  # (D) Xero's limit is 4 MB
    assert_error(api.client.get(f"{api.payables}/bills/nope/attachments"), 404)
    assert_error(api.client.get(f"{base}/00000000-0000-4000-8000-000000000000/download"), 404)
