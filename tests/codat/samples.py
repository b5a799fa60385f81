"""Minimal, spec-shaped Codat JSON bodies for the client tests."""

from __future__ import annotations

from typing import Any

from .conftest import COMPANY, CONNECTION


def connection(connection_id: str = CONNECTION) -> dict[str, Any]:
    return {"id": connection_id, "integrationId": "bf083d72-62c7-493e-aec9-81b4dbba7e2c",
            "integrationKey": "dfxm", "sourceId": "bdd831ce-eebd-4896-89a7-20e5ee8989ee",
            "sourceType": "Accounting", "platformName": "Xero",
            "linkUrl": "https://link-api.codat.io/x", "status": "Linked",
            "created": "2022-10-27T09:53:29Z"}


def company(company_id: str = COMPANY, name: str = "Acme Ltd") -> dict[str, Any]:
    return {"id": company_id, "name": name, "redirect": "https://link.codat.io/x",
            "created": "2022-10-27T09:53:29Z", "dataConnections": [connection()]}


def page(results: list[dict[str, Any]], *, number: int = 1, size: int = 100,
         total: int | None = None) -> dict[str, Any]:
    return {"results": results, "pageNumber": number, "pageSize": size,
            "totalResults": len(results) if total is None else total,
            "_links": {"self": {"href": "/x"}, "current": {"href": "/x"}}}


def bill(bill_id: str = "7110701885", *, amount: str = "1329.54",
         status: str = "Open") -> dict[str, Any]:
    return {"id": bill_id, "reference": "INV-1", "supplierRef": {"id": "61",
            "supplierName": "Northwind"}, "issueDate": "2026-11-01T00:00:00",
            "dueDate": "2026-11-30T00:00:00", "currency": "GBP", "currencyRate": None,
            "lineItems": [{"description": "Widgets", "unitAmount": amount, "quantity": 1,
                           "totalAmount": amount}],
            "status": status, "totalAmount": amount, "amountDue": amount,
            "sourceModifiedDate": "2026-11-02T10:00:00Z"}


def bills_json_with_exact_numbers(*bill_ids: str, token: str | None = None) -> bytes:
    """A bills page whose money fields are JSON number literals (not strings)."""
    money = ('"totalAmount":1329.54,"amountDue":0.1,"currencyRate":1.234567891,'
             '"lineItems":[{"unitAmount":0.30000000000000004,"quantity":3}]')
    items = [f'{{"id":"{bill_id}","supplierRef":{{"id":"61"}},"issueDate":"2026-11-01",'
             f'"dueDate":"2026-11-30","currency":"GBP","status":"Open",{money}}}'
             for bill_id in bill_ids]
    pagination = f'{{"continuationToken":"{token}"}}' if token else "{}"
    return f'{{"results":[{",".join(items)}],"pagination":{pagination}}}'.encode()


def supplier(supplier_id: str = "61", name: str = "Northwind") -> dict[str, Any]:
    return {"id": supplier_id, "supplierName": name, "status": "Active",
            "defaultCurrency": "GBP", "balance": 12.5}


def attachment(attachment_id: str = "a3b5c7d9-0000-4000-8000-000000000001") -> dict[str, Any]:
    return {"id": attachment_id, "name": "invoice.pdf", "contentType": "application/pdf",
            "dateCreated": "2026-11-02T10:00:00Z", "fileSize": 5, "includeWhenSent": False}


def bill_payment(payment_id: str = "pay-1", amount: float = 1329.54) -> dict[str, Any]:
    return {"id": payment_id, "amount": amount, "date": "2026-11-22T00:00:00",
            "accountRef": {"id": "bank-1"}}


def bank_account(account_id: str = "bank-1") -> dict[str, Any]:
    return {"id": account_id, "name": "Current", "accountType": "Debit",
            "accountNumber": "12345678", "currency": "GBP", "status": "Active"}


__all__ = ["COMPANY", "CONNECTION"]
