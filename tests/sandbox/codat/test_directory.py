"""Auth, companies, connections, company info, suppliers and bank accounts."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import httpx
import pytest

from billbot.sandbox.codat import SandboxState, create_app
from billbot.sandbox.serving import serve_in_thread
from tests.sandbox.codat.conftest import API_KEY, Api, basic_auth
from tests.sandbox.codat.helpers import assert_error, messages


@pytest.mark.parametrize("headers", [
    {}, basic_auth("wrong-key"), {"Authorization": API_KEY},
    {"Authorization": "Bearer " + base64.b64encode(API_KEY.encode()).decode()},
    {"Authorization": "Basic %%%"},
])
def test_requests_without_the_right_basic_key_get_401(api: Api, headers: dict[str, str]) -> None:
    response = httpx.get(f"{api.base_url}/companies", headers=headers)
    assert assert_error(response, 401)["error"] == "Unauthorized"
    assert "x-rate-limit-remaining" in response.headers


def test_rate_limit_headers_on_every_response(api: Api) -> None:
    first = api.client.get("/companies")
    second = api.client.get(f"{api.payables}/bills", params={"query": "bad=="})
    assert first.headers["x-rate-limit-limit"] == "3000"  # 1,000 x (1 + 2 linked companies)
    assert int(second.headers["x-rate-limit-remaining"]) == \
        int(first.headers["x-rate-limit-remaining"]) - 1
    assert int(first.headers["x-rate-limit-reset"]) == 1736380800  # 2025-01-09T00:00Z


def test_unknown_paths_answer_with_an_error_message(api: Api) -> None:
    assert_error(api.client.get("/nothing/here"), 404)
    assert_error(api.client.delete(f"{api.payables}/bills/7110700004"), 404)


def test_companies_and_connections_can_be_discovered(api: Api, state: SandboxState) -> None:
    companies = api.client.get("/companies").json()["results"]
    acme = next(c for c in companies if c["name"] == "Acme Trading Ltd")
    assert acme["id"] == state.main_company_id
    assert acme["dataConnections"][0]["id"] == state.main_connection_id
    connections = api.client.get(f"{api.company}/connections").json()["results"]
    assert [(c["platformName"], c["status"]) for c in connections] == [("Xero", "Linked")]
    assert api.client.get(api.connection).json()["sourceType"] == "Accounting"
    info = api.client.get(f"{api.payables}/info").json()
    assert info == {"companyName": "Acme Trading Ltd", "baseCurrency": "GBP"}


def test_company_lifecycle(api: Api) -> None:
    created = api.client.post("/companies", json={"name": "Bank of Dave",
                                                  "tags": {"region": "uk"}})
    assert created.status_code == 200  # (D) create-company answers 200, not 201
    company = created.json()
    assert company["dataConnections"] == [] and company["redirect"].endswith(company["id"])
    path = f"/companies/{company['id']}"
    assert api.client.patch(path, json={"description": "Early access"}).json()["name"] == \
        "Bank of Dave"
    tagged = api.client.get("/companies", params={"tags": "region=uk"}).json()["results"]
    assert [c["id"] for c in tagged] == [company["id"]]
    replaced = api.client.put(path, json={"name": "Dave Ltd"}).json()
    assert (replaced["name"], replaced["description"], replaced["tags"]) == ("Dave Ltd", "", {})
    connection = api.client.post(f"{path}/connections", json={"platformKey": "gbol"}).json()
    assert (connection["status"], connection["platformName"]) == ("PendingAuth", "Xero")
    unlinked = api.client.patch(f"{path}/connections/{connection['id']}",
                                json={"status": "Unlinked"})
    assert unlinked.json()["status"] == "Unlinked"
    assert api.client.delete(f"{path}/connections/{connection['id']}").status_code == 200
    assert api.client.delete(path).status_code == 204
    assert_error(api.client.get(path), 404)


def test_forbidden_characters_are_removed_from_company_names() -> None:
    """(D) documented, although the spec's request pattern forbids such names (not served
    through the contract recorder for that reason)."""
    state = SandboxState.seeded()
    with serve_in_thread(create_app(state, api_key=API_KEY)) as served:
        response = httpx.post(f"{served.base_url}/companies", headers=basic_auth(),
                              json={"name": "Company (Codat[1])"})
    assert response.json()["name"] == "Company Codat1"


def test_suppliers_list_create_and_replace(api: Api, state: SandboxState) -> None:
    base = f"{api.payables}/suppliers"
    listed = api.client.get(base).json()
    assert len(listed["results"]) == len(state.main_ledger.suppliers)
    active = api.client.get(base, params={"query": "status=Archived"}).json()["results"]
    assert [s["supplierName"] for s in active] == ["Old Mill Print Co"]
    created = api.client.post(base, json={"supplierName": "Northridge Couriers",
                                          "status": "Active", "contactName": "Sam",
                                          "phone": "01224 658 999", "defaultCurrency": "GBP"})
    assert created.status_code == 201
    supplier = created.json()
    replaced = api.client.put(f"{base}/{supplier['id']}",
                              json={"supplierName": "Northridge Couriers Ltd",
                                    "status": "Active"})
    assert replaced.status_code == 200
    body = replaced.json()
    assert body["supplierName"] == "Northridge Couriers Ltd"
    assert body["contactName"] is None and body["phone"] is None  # (D) PUT clears omissions


def test_supplier_rules(api: Api) -> None:
    base = f"{api.payables}/suppliers"
    duplicate = api.client.post(base, json={"supplierName": "bluewave logistics ltd",
                                            "status": "Active"})
    assert any("already exists" in m for m in messages(duplicate))  # (D) Xero
    assert messages(api.client.post(base, json={"supplierName": "X"})) == [
        "Status is required and must be Unknown, Active or Archived."]
    archived = api.client.put(f"{base}/4109", json={"supplierName": "Old Mill",
                                                    "status": "Active"})
    assert_error(archived, 400)  # (D) Xero: archived suppliers cannot be updated
    assert_error(api.client.put(f"{base}/nope", json={"supplierName": "X",
                                                      "status": "Active"}), 404)


def test_supplier_rename_shows_on_its_bills(api: Api, state: SandboxState) -> None:
    api.client.put(f"{api.payables}/suppliers/4105",
                   json={"supplierName": "Harbour Facilities", "status": "Active"})
    assert state.bill("7110700004")["supplierRef"]["supplierName"] == "Harbour Facilities"


def test_new_bank_account_is_active_and_can_pay(api: Api, state: SandboxState) -> None:
    created = api.client.post(f"{api.payables}/bankAccounts", json={
        "name": "Payables Account", "accountType": "Debit", "accountNumber": "0120 0440",
        "sortCode": "50-50-50", "currency": "GBP", "nominalCode": "22"})
    assert created.status_code == 201
    account = created.json()
    assert account["status"] == "Active"
    options = api.client.get(f"{api.payables}/mappingOptions/payments").json()["bankAccounts"]
    assert account["id"] in {a["id"] for a in options}
    paid = api.pay("7110700004", {"amount": 10, "date": "2025-01-08T00:00:00",
                                  "accountRef": {"id": account["id"]}})
    assert paid.status_code == 201
    missing = api.client.post(f"{api.payables}/bankAccounts", json={"name": "Half"})
    assert messages(missing) == ["Account Type is required.", "Account Number is required.",
                                 "Currency is required."]


def test_bill_mapping_options(api: Api) -> None:
    options = api.client.get(f"{api.payables}/mappingOptions/bills").json()
    assert "Accounts Payable" in {a["name"] for a in options["accounts"]}
    assert {t["status"] for t in options["taxRates"]} == {"Active"}
    archived = api.client.get(f"{api.payables}/mappingOptions/bills",
                              params={"statusQuery": "status=Archived"}).json()
    assert [t["code"] for t in archived["taxRates"]] == ["RRINPUT"]


def test_supplier_balance_is_what_its_open_bills_still_owe(api: Api,
                                                          state: SandboxState) -> None:
    def balance() -> Decimal:
        response = api.client.get(f"{api.payables}/suppliers", params={"query": "id=4105"})
        return Decimal(str(json.loads(response.content, parse_float=Decimal)["results"][0]
                           ["balance"]))

    owed = sum(b["amountDue"] for b in state.main_ledger.bills.values()
               if b["supplierRef"]["id"] == "4105" and b["status"] in ("Open", "PartiallyPaid"))
    assert balance() == owed
    api.pay("7110700004", {"amount": 80, "date": "2025-01-08T00:00:00",
                           "accountRef": {"id": api.account_id("Business Current Account")}})
    assert balance() == owed - 80
