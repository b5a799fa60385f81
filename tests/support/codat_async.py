"""A small client for the sandbox's async Bill Pay API, for tests that drive it over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from billbot.sandbox.codat import jsonio


@dataclass
class AsyncApi:
    """Paths of one company's async API on a served sandbox (`client` is authorised)."""

    client: httpx.Client
    company_id: str
    connection_id: str

    @property
    def company(self) -> str:
        return f"/companies/{self.company_id}"

    @property
    def connection(self) -> str:
        return f"{self.company}/connections/{self.connection_id}"

    def data(self, data_type: str, record_id: str | None = None,
             **params: Any) -> httpx.Response:
        path = f"{self.company}/data/{data_type}" + (f"/{record_id}" if record_id else "")
        return self.client.get(path, params=params)

    def results(self, data_type: str, **params: Any) -> list[dict[str, Any]]:
        response = self.data(data_type, **params)
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    def record(self, data_type: str, record_id: str) -> dict[str, Any]:
        response = self.data(data_type, record_id)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def push(self, data_type: str, body: Any = None, *, method: str = "POST",
             record_id: str | None = None, **params: Any) -> dict[str, Any]:
        """A write; returns the PushOperation answered (asserting a 200)."""
        path = f"{self.connection}/push/{data_type}" + (f"/{record_id}" if record_id else "")
        content = None if body is None else jsonio.dumps(body)  # Decimals as JSON numbers
        headers = {"Content-Type": "application/json"} if content is not None else {}
        response = self.client.request(method, path, content=content, params=params,
                                       headers=headers)
        assert response.status_code == 200, response.text
        operation: dict[str, Any] = response.json()
        return operation

    def operation(self, key: str) -> dict[str, Any]:
        response = self.client.get(f"{self.company}/push/{key}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def settle(self, key: str, polls: int = 5) -> dict[str, Any]:
        """Poll a push operation until it is no longer Pending."""
        for _ in range(polls):
            operation = self.operation(key)
            if operation["status"] != "Pending":
                return operation
        raise AssertionError(f"push operation {key} still Pending after {polls} polls")

    def sync(self) -> None:
        response = self.client.post(f"{self.company}/data/all")
        assert response.status_code == 204, response.text


def payment(account_id: str, *links: tuple[str, str, Any], supplier_id: str | None = None,
            reference: str = "billbot-test", currency: str | None = "GBP",
            date: str = "2025-01-08T00:00:00") -> dict[str, Any]:
    """A BillPayment with one line per link: (type, id, amount off the bill or credit)."""
    lines = []
    for kind, record_id, amount in links:
        value = -amount if kind == "Bill" else amount
        lines.append({"amount": amount if kind == "Bill" else 0,
                      "links": [{"type": kind, "id": record_id, "amount": value}]})
    body: dict[str, Any] = {"accountRef": {"id": account_id}, "date": date,
                            "reference": reference, "lines": lines,
                            "totalAmount": sum(line["amount"] for line in lines)}
    if currency is not None:
        body["currency"] = currency
    if supplier_id is not None:
        body["supplierRef"] = {"id": supplier_id}
    return body
