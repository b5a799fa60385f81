"""The "options" models (`/options/{dataType}`): what a create/update of that data type
takes on this connection's platform, as a PushOption tree.

(D) The bank-account model's `currency` options are the company's enabled currencies: one
value on platforms with the base currency only, several where the business enabled them,
none where any currency may be chosen (`payables/async/payments.md`).
"""

from __future__ import annotations

from billbot.sandbox.codat.errors import ApiError
from billbot.sandbox.codat.ledger import Json, Ledger

# (A) which platform enables which currencies: Xero lists what the ledger uses, QuickBooks
# Online the base currency only, the others any currency (an empty list).
LISTED_CURRENCIES = ("Xero",)
BASE_ONLY = ("QuickBooks Online",)

# dataType -> {property: (type, required, description)}
MODELS: dict[str, dict[str, tuple[str, bool, str]]] = {
    "bankAccounts": {
        "accountName": ("String", True, "Name of the bank account."),
        "accountType": ("String", True, "Credit or Debit."),
        "accountNumber": ("String", True, "Account number."),
        "sortCode": ("String", False, "Sort code (GBP accounts)."),
        "nominalCode": ("String", False, "Nominal code."),
        "currency": ("String", True, "ISO 4217 currency of the account."),
    },
    "chartOfAccounts": {
        "name": ("String", True, "Name of the account."),
        "nominalCode": ("String", True, "Nominal code."),
        "fullyQualifiedCategory": ("String", True, "Category, e.g. Asset.Current."),
        "type": ("String", True, "Asset, Expense, Income, Liability or Equity."),
        "currency": ("String", False, "ISO 4217 currency."),
        "status": ("String", False, "Active or Archived."),
    },
    "bills": {
        "supplierRef": ("Object", True, "The supplier."),
        "issueDate": ("DateTime", True, "Issue date."),
        "dueDate": ("DateTime", True, "Due date."),
        "currency": ("String", True, "ISO 4217 currency."),
        "lineItems": ("Array", True, "At least one line."),
        "status": ("String", True, "Must be Open when creating."),
        "reference": ("String", False, "The supplier's invoice number."),
    },
    "billPayments": {
        "accountRef": ("Object", True, "The paying account."),
        "supplierRef": ("Object", False, "Omit for a batch payment (Xero)."),
        "totalAmount": ("Number", True, "Sum of the line amounts."),
        "date": ("DateTime", True, "When the payment was made."),
        "currency": ("String", False, "The bills' currency."),
        "lines": ("Array", True, "Allocations: links to bills and credit notes."),
        "reference": ("String", False, "Kept as sent."),
    },
    "billCreditNotes": {
        "supplierRef": ("Object", True, "The supplier."),
        "billCreditNoteNumber": ("String", False, "The supplier's credit note number."),
        "issueDate": ("DateTime", True, "Issue date."),
        "currency": ("String", True, "ISO 4217 currency."),
        "lineItems": ("Array", True, "At least one line."),
        "status": ("String", True, "Submitted or Draft."),
    },
    "suppliers": {
        "supplierName": ("String", True, "Unique on Xero, NetSuite and Zoho Books."),
        "status": ("String", True, "Active or Archived."),
        "defaultCurrency": ("String", False, "ISO 4217 currency."),
        "emailAddress": ("String", False, "Email address."),
    },
    "journals": {
        "name": ("String", True, "Name of the journal."),
        "journalCode": ("String", False, "Code."),
        "type": ("String", False, "Type."),
    },
    "journalEntries": {
        "postedOn": ("DateTime", True, "When the entry is posted."),
        "journalLines": ("Array", True, "Lines whose amounts sum to zero."),
        "journalRef": ("Object", False, "The journal."),
        "description": ("String", False, "Description."),
    },
}


def currencies(ledger: Ledger, platform: str) -> list[str]:
    if platform in BASE_ONLY:
        return [ledger.base_currency]
    if platform in LISTED_CURRENCIES:
        used = {a["currency"] for a in ledger.bank_accounts.values()}
        used |= {b["currency"] for b in ledger.bills.values()}
        return sorted(used | {ledger.base_currency})
    return []


def model(data_type: str, ledger: Ledger, platform: str) -> Json:
    fields = MODELS.get(data_type)
    if fields is None:
        raise ApiError(404, f"No options model for {data_type}")
    properties: dict[str, Json] = {}
    for name, (kind, required, description) in fields.items():
        prop: Json = {"type": kind, "displayName": name, "description": description,
                      "required": required}
        if name == "currency" and data_type == "bankAccounts":
            prop["options"] = [{"value": code, "type": "String", "displayName": code,
                                "required": False} for code in currencies(ledger, platform)]
        properties[name] = prop
    return {"type": "Object", "displayName": data_type, "required": True,
            "description": f"Create or update {data_type} on {platform}.",
            "properties": properties, "options": None,
            "validation": {"warnings": [], "information": []}}
