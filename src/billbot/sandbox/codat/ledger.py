"""One connection's accounting data as the sandbox holds it (what Xero, QBO... would hold)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Json = dict[str, Any]


@dataclass
class StoredAttachment:
    meta: Json  # the `Attachment` JSON
    content: bytes


@dataclass
class Ledger:
    """One connection's accounting data: what the accounting software (Xero, QBO...) holds."""

    company_name: str
    base_currency: str
    bills: dict[str, Json] = field(default_factory=dict)
    suppliers: dict[str, Json] = field(default_factory=dict)
    bank_accounts: dict[str, Json] = field(default_factory=dict)  # payment mapping options
    accounts: dict[str, Json] = field(default_factory=dict)  # bill mapping options
    tax_rates: dict[str, Json] = field(default_factory=dict)
    attachments: dict[str, dict[str, StoredAttachment]] = field(default_factory=dict)
    # What only the async API reads or writes (its `BillPayment` etc. shapes). Payments made
    # through either API land in `bill_payments`, so one ledger can be driven through both.
    bill_payments: dict[str, Json] = field(default_factory=dict)
    credit_notes: dict[str, Json] = field(default_factory=dict)
    payment_methods: dict[str, Json] = field(default_factory=dict)
    tracking_categories: dict[str, Json] = field(default_factory=dict)
    journals: dict[str, Json] = field(default_factory=dict)
    journal_entries: dict[str, Json] = field(default_factory=dict)
    # Records deleted in the books, by data type: a sync shows them `metadata.isDeleted`.
    deleted: dict[str, dict[str, Json]] = field(default_factory=dict)

    def supplier_balances(self) -> dict[tuple[str, str], Decimal]:
        """(I) what the business owes each supplier, per currency: the amount due on its
        Open and PartiallyPaid bills. Derived when served, so it never goes stale."""
        owed: dict[tuple[str, str], Decimal] = {}
        for bill in self.bills.values():
            if bill["status"] in ("Open", "PartiallyPaid") and bill["amountDue"] is not None:
                key = (bill["supplierRef"]["id"], bill["currency"])
                owed[key] = owed.get(key, Decimal(0)) + bill["amountDue"]
        return owed

    def supplier_view(self, supplier: Json,
                      balances: dict[tuple[str, str], Decimal] | None = None) -> Json:
        """The Supplier as served, with its balance in its default currency."""
        owed = self.supplier_balances() if balances is None else balances
        key = (supplier["id"], supplier.get("defaultCurrency") or "")
        return {**supplier, "balance": owed.get(key, Decimal(0))}
