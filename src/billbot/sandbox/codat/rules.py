"""Codat's write rules (codat.md section 7), each marked documented (D), inferred (I) or
assumed (A). Functions here take the parsed body and the ledger and either return the new
record or raise a 400 `ApiError` with `validation.errors`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from billbot.money import minor_units
from billbot.sandbox.codat.errors import ApiError, ValidationItem, bad_request
from billbot.sandbox.codat.jsonio import as_decimal
from billbot.sandbox.codat.ledger import Json, Ledger
from billbot.sandbox.codat.query import parse_instant

PAYABLE_STATUSES = ("Open", "PartiallyPaid")
BILL_STATUSES = ("Unknown", "Open", "PartiallyPaid", "Paid", "Void", "Draft")
SUPPLIER_STATUSES = ("Unknown", "Active", "Archived")
ACCOUNT_TYPES = ("Unknown", "Credit", "Debit")
# (D) supplier names must be unique on these platforms
UNIQUE_SUPPLIER_NAME_PLATFORMS = ("Xero", "Oracle NetSuite", "Zoho Books")
# (D) attachment size limits per platform; 100 MB elsewhere (A)
ATTACHMENT_LIMITS = {"Xero": 4 * 1024 * 1024}
DEFAULT_ATTACHMENT_LIMIT = 100 * 1024 * 1024


class Problems:
    """Collects validation messages so one 400 lists them all, as Codat's does."""

    def __init__(self) -> None:
        self.items: list[ValidationItem] = []

    def add(self, message: str, item_id: str | None = None) -> None:
        self.items.append(ValidationItem(message=message, item_id=item_id,
                                         validator_name="Sandbox"))

    def raise_if_any(self) -> None:
        if self.items:
            raise ApiError(400, "Error processing request - not valid.", self.items)


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def _date_field(body: dict[str, Any], name: str, label: str, problems: Problems,
                required: bool = True) -> datetime | None:
    value = body.get(name)
    if value is None:
        if required:
            problems.add(f"{label} is required.")  # (D)
        return None
    parsed = parse_instant(value) if isinstance(value, str) else None
    if parsed is None:
        problems.add(f"{label} must be an ISO-8601 date.")  # (D) dates are ISO-8601
    return parsed


# --- bills -------------------------------------------------------------------------------------


def build_bill(body: Any, ledger: Ledger, *, bill_id: str, now_text: str) -> Json:
    """Validate a `billPrototype` and return the stored Bill (create and update share it)."""
    proto = require_object(body)
    problems = Problems()
    supplier_ref = proto.get("supplierRef")
    supplier: Json | None = None
    if not isinstance(supplier_ref, dict) or not isinstance(supplier_ref.get("id"), str) \
            or not supplier_ref["id"]:
        problems.add("Supplier Ref Id is required.")  # (D) required in the schema
    else:
        supplier = ledger.suppliers.get(supplier_ref["id"])
        if supplier is None:
            # (A for create, D for update) an unknown supplier is a validation error
            problems.add(f"Supplier {supplier_ref['id']} does not exist.", "supplierRef.id")
    issue = _date_field(proto, "issueDate", "Issue Date", problems)
    due = _date_field(proto, "dueDate", "Due Date", problems)
    currency = proto.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        problems.add("Currency Length must be equal to 3.")  # (D)
        currency = None
    status = proto.get("status")
    if status != "Open":
        problems.add("Status must be equal to Open.")  # (D) "must be Open" when creating
    reference = proto.get("reference")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 255):
        problems.add("Reference Length must be less than or equal to 255.")  # (D)
    rate = _currency_rate(proto, currency, ledger.base_currency, problems)
    line_items = _line_items(proto.get("lineItems"), problems)
    if issue is not None and due is not None and due < issue:
        # (D) only for Zoho; (A) here: a bill cannot fall due before it is issued
        problems.add("Due Date must be on or after Issue Date.")
    problems.raise_if_any()
    assert supplier is not None and currency is not None
    # (I) create example: totalAmount = sum of line totals, amountDue = totalAmount
    total = sum((line["totalAmount"] for line in line_items), Decimal(0))
    return {
        "id": bill_id, "reference": reference,
        "supplierRef": {"id": supplier["id"], "supplierName": supplier["supplierName"]},
        "issueDate": proto["issueDate"], "dueDate": proto["dueDate"],
        "currency": currency.upper(), "currencyRate": rate, "lineItems": line_items,
        "status": "Open", "totalAmount": total, "amountDue": total,
        "sourceModifiedDate": now_text,
    }


def _currency_rate(proto: dict[str, Any], currency: str | None, base: str,
                   problems: Problems) -> Decimal | None:
    raw = proto.get("currencyRate")
    if raw is None:
        if currency is not None and currency.upper() != base:
            # (D for QBO v1 and bill updates; A otherwise) a foreign bill needs a rate
            problems.add("Currency Rate must be greater than 0.")
        return None
    rate = as_decimal(raw)
    if rate is None or rate <= 0:
        problems.add("Currency Rate must be greater than 0.")  # (D)
        return None
    return rate


def _line_items(raw: Any, problems: Problems) -> list[Json]:
    if not isinstance(raw, list) or not raw:
        problems.add("Line Items must not be empty.")  # (D)
        return []
    lines: list[Json] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            problems.add(f"Line item {index} must be an object.")
            continue
        unit = as_decimal(item.get("unitAmount"))
        quantity = as_decimal(item.get("quantity"))
        tax = as_decimal(item.get("taxAmount", 0))
        if unit is None or quantity is None or tax is None:
            problems.add(f"Line item {index} needs numeric unitAmount and quantity.")
            continue
        given_total = item.get("totalAmount")
        total = as_decimal(given_total) if given_total is not None else unit * quantity + tax
        if total is None:
            problems.add(f"Line item {index} totalAmount must be a number.")
            continue
        line = {key: value for key, value in item.items()
                if key in ("description", "accountRef", "taxRateRef", "trackingRefs")}
        line.update(unitAmount=unit, quantity=quantity, taxAmount=tax, totalAmount=total)
        lines.append(line)
    if lines and sum((line["totalAmount"] for line in lines), Decimal(0)) < 0:
        problems.add("The sum of the line items must be greater than or equal to 0.")  # (D)
    return lines


def check_bill_updatable(bill: Json) -> None:
    if bill["status"] != "Open":
        # (D) only Open bills can be updated (Intacct's wording)
        raise bad_request("This bill has been paid or partially paid and can no longer be "
                          f"updated (status {bill['status']}).", item_id=bill["id"])


# --- bill payments -------------------------------------------------------------------------------


def validate_payment(body: Any, bill: Json, ledger: Ledger) -> tuple[Decimal, Json, str,
                                                                     Decimal | None]:
    """Check a `billPaymentPrototype` against the bill; return (amount, account, date, rate)."""
    proto = require_object(body)
    problems = Problems()
    amount = as_decimal(proto.get("amount"))
    if "amount" not in proto or proto["amount"] is None:
        problems.add("Amount is required.")  # (D)
    elif amount is None:
        problems.add("Amount must be a number.")
    paid_on = _date_field(proto, "date", "Date", problems)  # (D) required
    account_ref = proto.get("accountRef")
    account_id = account_ref.get("id") if isinstance(account_ref, dict) else None
    if not isinstance(account_id, str) or not account_id:
        problems.add("Account Ref Id is required.")  # (D)
    problems.raise_if_any()
    assert amount is not None and paid_on is not None
    assert isinstance(account_id, str)

    if bill["status"] not in PAYABLE_STATUSES:
        # (A) only Open/PartiallyPaid bills can be paid
        problems.add(f"Bill {bill['id']} has status {bill['status']} and cannot be paid.",
                     bill["id"])
        problems.raise_if_any()
    currency: str = bill["currency"]
    if amount <= 0:
        problems.add("Amount must be greater than 0.")  # (A; D for MYOB/Intacct in v1)
    elif _decimal_places(amount) > minor_units(currency):
        # (A) an amount finer than the currency's minor unit cannot be booked
        problems.add(f"Amount has more decimal places than {currency} allows.")
    amount_due = bill.get("amountDue")
    if amount_due is None:
        # (A) with no amount outstanding known, nothing can be checked: refuse
        problems.add("The bill's amount due is unknown; it cannot be paid through the API.")
    elif amount > amount_due:
        # (A) the sync API cannot express an overpayment or a payment on account
        problems.add(f"Amount {amount} is greater than the amount due {amount_due}.")
    account = ledger.bank_accounts.get(account_id)
    if account is None:
        # (A; D in v1 for NetSuite) the account must be one of the payment mapping options
        problems.add(f"Account {account_id} is not a bank account of this company.",
                     "accountRef.id")
    elif account["status"] != "Active":
        problems.add(f"Account {account_id} is archived.", "accountRef.id")  # (A)
    elif account["currency"] not in (currency, ledger.base_currency):
        # (D) only the bill currency and the base currency may take part; (I) so the
        # paying account must be in one of them
        problems.add(f"Account currency {account['currency']} is neither the bill currency "
                     f"{currency} nor the base currency {ledger.base_currency}.",
                     "accountRef.id")
    rate = _payment_rate(proto, bill, account, ledger.base_currency, problems)
    issued = parse_instant(bill["issueDate"])
    if issued is not None and paid_on.date() < issued.date():
        # (A; v1 Dynamics: "later than the issue date of the bill")
        problems.add("Date must be on or after the bill's issue date.")
    problems.raise_if_any()
    assert account is not None
    return amount, account, proto["date"], rate


def _decimal_places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _payment_rate(proto: dict[str, Any], bill: Json, account: Json | None, base: str,
                  problems: Problems) -> Decimal | None:
    raw = proto.get("currencyRate")
    rate: Decimal | None = None
    if raw is not None:
        rate = as_decimal(raw)
        if rate is None or rate <= 0:
            problems.add("Currency Rate must be greater than 0.")  # (D)
            return None
    crosses_currency = account is not None and account["currency"] != bill["currency"]
    if crosses_currency and rate is None:
        # (A) a base-currency account paying a foreign bill needs a rate: the payment's,
        # or else the bill's own
        bill_rate = bill.get("currencyRate")
        if bill_rate is None or bill_rate <= 0:
            problems.add("Currency Rate must be greater than 0 when the account currency "
                         "differs from the bill currency.")
    return rate


def apply_payment(bill: Json, amount: Decimal, now_text: str) -> None:
    """(I) reduce amountDue; Paid at 0, else PartiallyPaid; bump sourceModifiedDate."""
    remaining: Decimal = bill["amountDue"] - amount
    bill["amountDue"] = remaining
    bill["status"] = "Paid" if remaining == 0 else "PartiallyPaid"
    bill["sourceModifiedDate"] = now_text


# --- suppliers and bank accounts ------------------------------------------------------------------


def build_supplier(body: Any, ledger: Ledger, *, supplier_id: str, platform: str,
                   now_text: str) -> Json:
    """A full `Supplier` from a prototype; fields left out are cleared (D for PUT)."""
    proto = require_object(body)
    problems = Problems()
    name = proto.get("supplierName")
    if not isinstance(name, str) or not name.strip():
        problems.add("Supplier Name is required.")  # (D)
    status = proto.get("status")
    if status not in SUPPLIER_STATUSES:
        problems.add("Status is required and must be Unknown, Active or Archived.")  # (D)
    if isinstance(name, str) and platform in UNIQUE_SUPPLIER_NAME_PLATFORMS:
        clash = [s for s in ledger.suppliers.values()
                 if s["id"] != supplier_id and s["supplierName"].casefold() == name.casefold()]
        if clash:
            problems.add(f"A supplier named {name} already exists.")  # (D) Xero/NetSuite/Zoho
    balance = proto.get("balance")
    if balance is not None and as_decimal(balance) is None:
        problems.add("Balance must be a number.")
    addresses = proto.get("addresses")
    if addresses is not None and not isinstance(addresses, list):
        problems.add("Addresses must be an array.")
    problems.raise_if_any()
    return {
        "id": supplier_id, "supplierName": name, "contactName": proto.get("contactName"),
        "emailAddress": proto.get("emailAddress"), "phone": proto.get("phone"),
        "addresses": addresses, "status": status,
        "balance": as_decimal(balance) if balance is not None else None,
        "defaultCurrency": proto.get("defaultCurrency"), "sourceModifiedDate": now_text,
    }


def build_bank_account(body: Any, *, account_id: str, now_text: str) -> Json:
    proto = require_object(body)
    problems = Problems()
    for field_name, label in (("name", "Name"), ("accountType", "Account Type"),
                              ("accountNumber", "Account Number"), ("currency", "Currency")):
        if not isinstance(proto.get(field_name), str) or not proto[field_name]:
            problems.add(f"{label} is required.")  # (D)
    if isinstance(proto.get("accountType"), str) and proto["accountType"] not in ACCOUNT_TYPES:
        problems.add("Account Type must be Unknown, Credit or Debit.")
    currency = proto.get("currency")
    if isinstance(currency, str) and currency and (len(currency) != 3 or not currency.isalpha()):
        problems.add("Currency Length must be equal to 3.")
    problems.raise_if_any()
    # (I) a new account is Active and shows up in the payment mapping options
    return {
        "id": account_id, "name": proto["name"], "accountNumber": proto["accountNumber"],
        "nominalCode": proto.get("nominalCode"), "sortCode": proto.get("sortCode"),
        "currency": proto["currency"].upper(), "status": "Active",
        "accountType": proto["accountType"], "sourceModifiedDate": now_text,
    }
