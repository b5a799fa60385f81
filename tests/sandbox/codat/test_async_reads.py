"""The async API's reads: data endpoints over Codat's cache with the query language and
paging, the chart of accounts' bank accounts, the bank-account model, syncs and statuses."""

from __future__ import annotations

from billbot.sandbox.codat import SandboxState
from tests.sandbox.codat.conftest import Api
from tests.sandbox.codat.helpers import assert_error
from tests.support.codat_async import AsyncApi

BILL = "7110700004"  # Open, GBP 480.00, Harbour Cleaning (4105)


def test_bills_page_by_number_with_a_query(async_api: AsyncApi, state: SandboxState) -> None:
    open_bills = [b for b in state.main_ledger.bills.values()
                  if b["status"] in ("Open", "PartiallyPaid")]
    seen: list[str] = []
    page = 1
    while True:
        response = async_api.data("bills", query="status=Open||status=PartiallyPaid",
                                  page=page, pageSize=40)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [bill["id"] for bill in body["results"]]
        assert body["totalResults"] == len(open_bills) and body["pageSize"] == 40
        if "next" not in body["_links"]:
            break
        page += 1
    assert seen == [bill["id"] for bill in open_bills] and page == 3


def test_a_bill_has_the_async_totals(async_api: AsyncApi) -> None:
    bill = async_api.record("bills", BILL)
    assert bill["subTotal"] == 400 and bill["taxAmount"] == 80 and bill["totalAmount"] == 480
    assert bill["metadata"] == {"isDeleted": False} and bill["paymentAllocations"] == []
    assert bill["modifiedDate"].endswith("Z")


def test_queries_on_dates_suppliers_and_order(async_api: AsyncApi) -> None:
    due = async_api.results("bills", query="dueDate<2025-01-08&&status=Open",
                            orderBy="-dueDate")
    assert due and all(b["dueDate"] < "2025-01-08" for b in due)
    assert [b["dueDate"] for b in due] == sorted((b["dueDate"] for b in due), reverse=True)
    harbour = async_api.results("bills", query="supplierRef.id=4105")
    assert harbour and {b["supplierRef"]["id"] for b in harbour} == {"4105"}
    assert async_api.results("bills", query="sourceModifiedDate>2030-01-01") == []
    by_amount = async_api.results("bills", orderBy="totalAmount", pageSize=5)
    assert [b["totalAmount"] for b in by_amount] == sorted(b["totalAmount"] for b in by_amount)


def test_a_bad_query_or_unknown_record_is_refused(async_api: AsyncApi) -> None:
    body = assert_error(async_api.data("bills", query="colour=red"), 400)
    assert "Could not resolve property colour" in body["error"]
    assert_error(async_api.data("bills", "no-such-bill"), 404)
    assert_error(async_api.data("bills", orderBy="colour"), 400)


def test_bank_accounts_are_accounts_with_is_bank_account(async_api: AsyncApi) -> None:
    banks = async_api.results("accounts", query="isBankAccount=true&&status=Active")
    assert {(a["name"], a["currency"], a["type"]) for a in banks} == {
        ("Business Current Account", "GBP", "Asset"), ("USD Operating Account", "USD", "Asset"),
        ("EUR Operating Account", "EUR", "Asset"), ("Company Credit Card", "GBP", "Liability")}
    expenses = async_api.results("accounts", query="isBankAccount=false")
    assert expenses and all(a["type"] in ("Expense", "Liability") for a in expenses)
    assert async_api.record("accounts", banks[0]["id"])["isBankAccount"] is True


def test_the_bank_account_model_lists_enabled_currencies(async_api: AsyncApi,
                                                         state: SandboxState) -> None:
    response = async_api.client.get(f"{async_api.connection}/options/bankAccounts")
    assert response.status_code == 200, response.text
    options = response.json()["properties"]["currency"]["options"]
    assert [o["value"] for o in options] == ["EUR", "GBP", "USD"]  # Xero: the enabled ones
    globex = next(c for c in state.companies if state.companies[c]["name"].startswith("Globex"))
    connection = next(iter(state.connections[globex]))
    qbo = async_api.client.get(f"/companies/{globex}/connections/{connection}/options/"
                               "bankAccounts").json()
    assert [o["value"] for o in qbo["properties"]["currency"]["options"]] == ["USD"]


def test_suppliers_and_the_other_data_types_read(async_api: AsyncApi) -> None:
    suppliers = async_api.results("suppliers", query="status=Active&&defaultCurrency=GBP")
    assert {s["supplierName"] for s in suppliers} >= {"Northridge Office Supplies"}
    assert "balance" not in suppliers[0]
    assert async_api.record("suppliers", "4101")["status"] == "Active"
    for data_type in ("billCreditNotes", "billPayments", "taxRates", "paymentMethods",
                      "trackingCategories", "journals"):
        records = async_api.results(data_type)
        assert records, data_type
        assert async_api.record(data_type, records[0]["id"])["id"] == records[0]["id"]
    info = async_api.client.get(f"{async_api.company}/data/info").json()
    assert info["companyName"] == "Acme Trading Ltd" and info["baseCurrency"] == "GBP"


def test_a_company_never_synced_answers_409(api: Api, state: SandboxState) -> None:
    initech = next(c for c in state.companies if state.companies[c]["name"] == "Initech GmbH")
    body = assert_error(api.client.get(f"/companies/{initech}/data/bills"), 409)
    assert "no synced data" in body["error"]
    assert api.client.get(f"/companies/{initech}/dataStatus").json() == {}
    assert_error(api.client.post(f"/companies/{initech}/data/all"), 400)  # nothing Linked


def test_syncs_show_in_data_status_and_pull_operations(async_api: AsyncApi) -> None:
    client, company = async_api.client, async_api.company
    before = client.get(f"{company}/dataStatus").json()
    assert before["bills"]["currentStatus"] == "Complete"
    queued = client.post(f"{company}/data/queue/bills")
    assert queued.status_code == 200, queued.text
    pull = queued.json()
    assert pull["dataType"] == "bills" and pull["isCompleted"] and pull["progress"] == 100
    after = client.get(f"{company}/dataStatus").json()
    assert after["bills"]["latestSyncId"] == pull["id"] != before["bills"]["latestSyncId"]
    assert after["suppliers"] == before["suppliers"]
    history = client.get(f"{company}/data/history", params={"query": "dataType=bills"}).json()
    assert history["results"][0]["id"] == pull["id"]
    assert client.get(f"{company}/data/history/{pull['id']}").json() == pull
    assert_error(client.post(f"{company}/data/queue/invoices"), 400)
    assert_error(client.get(f"{company}/data/history/{'0' * 8}-0000-4000-8000-{'0' * 12}"), 404)
