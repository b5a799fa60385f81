"""The ledger's records as the async API's data types show them (its `Bill`, `Account`...).

The ledger keeps bills, suppliers and bank accounts in the sync API's shapes; a sync turns
them into the async shapes here. Everything the async API alone knows (bill payments,
credit notes, journals...) is stored in its own shape and copied as is.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from billbot.sandbox.codat.ledger import Json, Ledger

# The data types a sync copies, as `dataStatus` and the pull operations name them.
SYNCED_TYPES = ("bills", "suppliers", "chartOfAccounts", "bankAccounts", "billPayments",
                "billCreditNotes", "taxRates", "paymentMethods", "trackingCategories",
                "journals", "journalEntries", "company")


def _money(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value or 0)


def bill_view(bill: Json, payments: list[Json]) -> Json:
    """A Bill with the async API's required totals and its payment allocations."""
    view = copy.deepcopy(bill)
    lines = view.get("lineItems") or []
    tax = sum((_money(line.get("taxAmount")) for line in lines), Decimal(0))
    view["taxAmount"] = tax
    view["subTotal"] = _money(view.get("totalAmount")) - tax
    view["paymentAllocations"] = _allocations(bill["id"], payments)
    view["metadata"] = {"isDeleted": False}
    return view


def _allocations(bill_id: str, payments: list[Json]) -> list[Json]:
    allocations: list[Json] = []
    for payment in payments:
        for line in payment.get("lines") or []:
            for link in line.get("links") or []:
                if link.get("type") == "Bill" and link.get("id") == bill_id:
                    allocations.append({
                        "payment": {"id": payment["id"], "reference": payment.get("reference"),
                                    "accountRef": payment.get("accountRef") or {},
                                    "currency": payment.get("currency"),
                                    "currencyRate": payment.get("currencyRate"),
                                    "paidOnDate": payment["date"],
                                    "totalAmount": payment.get("totalAmount")},
                        "allocation": {"currency": payment.get("currency"),
                                       "allocatedOnDate": payment["date"],
                                       "totalAmount": -_money(link.get("amount"))}})
    return allocations


def supplier_view(supplier: Json) -> Json:
    view = {k: copy.deepcopy(v) for k, v in supplier.items() if k != "balance"}
    view["metadata"] = {"isDeleted": False}
    return view


def bank_account_view(account: Json) -> Json:
    """A payment account in the async `BankAccount` shape (`accountName`, not `name`)."""
    return {
        "id": account["id"], "accountName": account["name"],
        "accountType": account["accountType"], "nominalCode": account.get("nominalCode"),
        "sortCode": account.get("sortCode"), "accountNumber": account.get("accountNumber"),
        "currency": account["currency"], "balance": account.get("balance", Decimal(0)),
        "availableBalance": account.get("availableBalance", Decimal(0)),
        "status": account["status"], "metadata": {"isDeleted": False},
        "sourceModifiedDate": account.get("sourceModifiedDate"),
    }


def account_view(account: Json, *, is_bank: bool) -> Json:
    """An `Account` of the chart of accounts; payment accounts carry `isBankAccount`."""
    if is_bank:
        credit = account["accountType"] == "Credit"
        return {
            "id": account["id"], "nominalCode": account.get("nominalCode"),
            "name": account["name"], "currency": account["currency"],
            "fullyQualifiedCategory": "Liability.Current" if credit else "Asset.Bank",
            "fullyQualifiedName": account["name"],
            "type": "Liability" if credit else "Asset", "status": account["status"],
            "currentBalance": account.get("balance", Decimal(0)), "isBankAccount": True,
            "metadata": {"isDeleted": False},
            "sourceModifiedDate": account.get("sourceModifiedDate"),
        }
    view = copy.deepcopy(account)
    view.setdefault("isBankAccount", False)
    view.setdefault("fullyQualifiedName", account.get("name"))
    view["metadata"] = {"isDeleted": False}
    return view


def _stored(records: dict[str, Json]) -> dict[str, Json]:
    return {key: copy.deepcopy(record) for key, record in records.items()}


def project(ledger: Ledger, data_type: str) -> dict[str, Json]:
    """What a sync of `data_type` copies out of the books, by id (deleted ones flagged)."""
    payments = list(ledger.bill_payments.values())
    records: dict[str, Json]
    if data_type == "bills":
        records = {key: bill_view(bill, payments) for key, bill in ledger.bills.items()}
    elif data_type == "suppliers":
        records = {key: supplier_view(s) for key, s in ledger.suppliers.items()}
    elif data_type == "chartOfAccounts":
        records = {key: account_view(a, is_bank=False) for key, a in ledger.accounts.items()}
        records.update({key: account_view(a, is_bank=True)
                        for key, a in ledger.bank_accounts.items()})
    elif data_type == "bankAccounts":
        records = {key: bank_account_view(a) for key, a in ledger.bank_accounts.items()}
    elif data_type == "taxRates":
        records = {key: {**copy.deepcopy(t), "metadata": {"isDeleted": False}}
                   for key, t in ledger.tax_rates.items()}
    else:
        records = _stored(_ASYNC_ONLY[data_type](ledger))
    for key, record in ledger.deleted.get(data_type, {}).items():
        records[key] = {**copy.deepcopy(record), "metadata": {"isDeleted": True}}
    return records


_ASYNC_ONLY: dict[str, Callable[[Ledger], dict[str, Json]]] = {
    "billPayments": lambda ledger: ledger.bill_payments,
    "billCreditNotes": lambda ledger: ledger.credit_notes,
    "paymentMethods": lambda ledger: ledger.payment_methods,
    "trackingCategories": lambda ledger: ledger.tracking_categories,
    "journals": lambda ledger: ledger.journals,
    "journalEntries": lambda ledger: ledger.journal_entries,
    "company": lambda ledger: {},
}
