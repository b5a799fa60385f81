"""The JSON records of the standard seed (companies, connections, suppliers, bank accounts,
bills) built as Codat serves them, and the stable ids they carry."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from billbot.sandbox.codat.ledger import Json

NAMESPACE = uuid.UUID("6f9b7d4e-3c1a-4b8e-9a52-0c7d1e2f3a4b")
TWO_PLACES = Decimal("0.01")

# (A) platform keys: `gbol` (Xero) is the spec's example and `akxx` (Oracle NetSuite) is in
# its examples; the others are as remembered from Codat's integration pages.
PLATFORMS: dict[str, str] = {
    "gbol": "Xero", "qhyg": "QuickBooks Online", "akxx": "Oracle NetSuite",
    "knfz": "Sage Intacct", "rwuv": "Zoho Books", "fbrh": "FreeAgent",
}
RATES_TO_GBP = {"GBP": Decimal("1"), "USD": Decimal("0.781"), "EUR": Decimal("0.885")}
RATES_TO_USD = {"USD": Decimal("1"), "GBP": Decimal("1.277"), "EUR": Decimal("1.134")}


def stable_id(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def day(d: date) -> str:
    """Codat's date-only style: local midnight, no offset."""
    return f"{d.isoformat()}T00:00:00"


def instant(d: date, hour: int = 9) -> str:
    return f"{d.isoformat()}T{hour:02d}:00:00Z"


def money(text: str) -> Decimal:
    return Decimal(text).quantize(TWO_PLACES)


# --- companies and connections ----------------------------------------------------------------


def company_json(company_id: str, name: str, description: str, created: date) -> Json:
    return {
        "id": company_id, "name": name, "description": description,
        "redirect": f"https://link.codat.io/company/{company_id}",
        "lastSync": instant(created + timedelta(days=399), 6), "created": instant(created, 10),
        "createdByUserName": "Sandbox", "products": ["payables"], "tags": {},
        "referenceSubsidiaryCompanies": [],
    }


def connection_json(company_id: str, connection_id: str, platform_key: str, status: str,
                    created: date) -> Json:
    return {
        "id": connection_id, "integrationId": stable_id(f"integration/{platform_key}"),
        "integrationKey": platform_key, "sourceId": stable_id(f"source/{platform_key}"),
        "sourceType": "Accounting", "platformName": PLATFORMS.get(platform_key, platform_key),
        "linkUrl": f"https://link-api.codat.io/companies/{company_id}/connections/"
                   f"{connection_id}/start",
        "status": status, "lastSync": instant(created + timedelta(days=399), 6),
        "created": instant(created, 11),
    }


# --- ledger records ----------------------------------------------------------------------------


def supplier_json(supplier_id: str, name: str, currency: str, *, contact: str, email: str,
                  phone: str, city: str, country: str, status: str = "Active",
                  modified: str) -> Json:
    return {
        "id": supplier_id, "supplierName": name, "contactName": contact,
        "emailAddress": email, "phone": phone,
        "addresses": [{"type": "Billing", "line1": "1 High Street", "line2": None,
                       "city": city, "region": None, "country": country,
                       "postalCode": None}],
        "status": status, "balance": Decimal("0.00"), "defaultCurrency": currency,
        "sourceModifiedDate": modified,
    }


def bank_account_json(account_id: str, name: str, currency: str, account_type: str,
                      status: str, number: str, sort_code: str | None, nominal: str,
                      modified: str) -> Json:
    return {
        "id": account_id, "name": name, "accountNumber": number, "nominalCode": nominal,
        "sortCode": sort_code, "currency": currency, "status": status,
        "accountType": account_type, "sourceModifiedDate": modified,
    }


@dataclass(frozen=True)
class Line:
    description: str
    unit: str
    quantity: str
    tax: str
    account: str
    tax_rate: str

    def to_json(self) -> Json:
        unit, quantity, tax = Decimal(self.unit), Decimal(self.quantity), money(self.tax)
        return {
            "description": self.description, "unitAmount": unit, "quantity": quantity,
            "taxAmount": tax, "totalAmount": (unit * quantity + tax).quantize(TWO_PLACES),
            "accountRef": {"id": self.account}, "taxRateRef": {"id": self.tax_rate},
        }


def bill_json(bill_id: str, reference: str, supplier: Json, issue: date, due: date,
              currency: str, rate: Decimal | None, lines: list[Line], status: str,
              amount_due: Decimal | None, modified: str) -> Json:
    line_items = [line.to_json() for line in lines]
    total = sum((item["totalAmount"] for item in line_items), Decimal("0.00"))
    return {
        "id": bill_id, "reference": reference,
        "supplierRef": {"id": supplier["id"], "supplierName": supplier["supplierName"]},
        "issueDate": day(issue), "dueDate": day(due), "currency": currency,
        "currencyRate": rate, "lineItems": line_items, "status": status,
        "totalAmount": total, "amountDue": amount_due, "sourceModifiedDate": modified,
    }
