"""The standard seed: a few companies and a realistic accounts-payable ledger, dated from
`state.today` so "overdue", "due today" and "due this week" mean the same on any day.

Ids of seeded companies, connections, suppliers, accounts and curated bills are stable
across runs (uuid5 of a name, or fixed strings); filler bills come from a seeded RNG.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from billbot.sandbox.codat.ledger import Json, Ledger
from billbot.sandbox.codat.seed_attachments import seed_attachments
from billbot.sandbox.codat.seed_records import (
    RATES_TO_GBP,
    RATES_TO_USD,
    TWO_PLACES,
    Line,
    bank_account_json,
    bill_json,
    company_json,
    connection_json,
    instant,
    money,
    stable_id,
    supplier_json,
)


class SeedTarget(Protocol):
    """What populate fills: the sandbox state (a protocol, so the state may import the seed)."""

    today: date
    seed: int
    companies: dict[str, Json]
    connections: dict[str, dict[str, Json]]
    ledgers: dict[tuple[str, str], Ledger]
    main_company_id: str
    main_connection_id: str


# --- the main company: Acme Trading Ltd (GBP, Xero) ---------------------------------------------

ACCOUNTS = {  # bill mapping options: (id, nominal code, name, type)
    "ap": ("800", "Accounts Payable", "Liability"),
    "office": ("429", "Office Expenses", "Expense"),
    "cos": ("310", "Cost of Goods Sold", "Expense"),
    "software": ("463", "IT Software and Consumables", "Expense"),
    "legal": ("441", "Legal Expenses", "Expense"),
    "freight": ("425", "Freight and Courier", "Expense"),
    "cleaning": ("420", "Cleaning", "Expense"),
}
TAX_RATES = {  # id -> (name, code, rate, status)
    "INPUT2": ("20% (VAT on Expenses)", "INPUT2", "20", "Active"),
    "NONE": ("No VAT", "NONE", "0", "Active"),
    "ZERORATEDINPUT": ("Zero Rated Expenses", "ZERORATEDINPUT", "0", "Active"),
    "RRINPUT": ("5% (VAT on Expenses)", "RRINPUT", "5", "Archived"),
}


@dataclass(frozen=True)
class SupplierSeed:
    key: str
    name: str
    currency: str
    contact: str
    city: str
    country: str
    status: str = "Active"


ACME_SUPPLIERS = [
    SupplierSeed("4101", "Northridge Office Supplies", "GBP", "Sarah Johnson", "London", "GB"),
    SupplierSeed("4102", "Bluewave Logistics Ltd", "GBP", "Tom Okafor", "Felixstowe", "GB"),
    SupplierSeed("4103", "Kestrel Cloud Hosting Inc", "USD", "Dana Whitfield", "Seattle", "US"),
    SupplierSeed("4104", "Lindqvist Maschinenbau GmbH", "EUR", "Jonas Lindqvist", "Hamburg",
                 "DE"),
    SupplierSeed("4105", "Harbour Cleaning Services", "GBP", "Priya Patel", "Bristol", "GB"),
    SupplierSeed("4106", "Pemberton & Hale Solicitors", "GBP", "Eleanor Hale", "Leeds", "GB"),
    SupplierSeed("4107", "Atlas Software Corp", "USD", "Marcus Reyes", "Austin", "US"),
    SupplierSeed("4108", "Cafe Lumiere SARL", "EUR", "Claire Dubois", "Lyon", "FR"),
    SupplierSeed("4109", "Old Mill Print Co", "GBP", "Gareth Evans", "Cardiff", "GB",
                 status="Archived"),
]


@dataclass(frozen=True)
class BillSeed:
    number: int
    supplier: str
    due_in: int  # days from today; negative = overdue
    currency: str
    lines: tuple[Line, ...]
    status: str = "Open"
    paid: str | None = None  # amount already paid (PartiallyPaid / Paid)
    amount_due_unknown: bool = False


def _gbp(description: str, net: str, account: str, quantity: str = "1") -> Line:
    tax = (Decimal(net) * Decimal(quantity) * Decimal("0.2")).quantize(TWO_PLACES)
    return Line(description, net, quantity, str(tax), ACCOUNTS_IDS[account], "INPUT2")


def _foreign(description: str, net: str, account: str, quantity: str = "1") -> Line:
    return Line(description, net, quantity, "0", ACCOUNTS_IDS[account], "ZERORATEDINPUT")


ACCOUNTS_IDS = {key: stable_id(f"acme/account/{key}") for key in ACCOUNTS}

# Open/PartiallyPaid bills that are overdue or due within 7 days: what a digest shows.
CURATED_DUE_SOON = [
    BillSeed(1, "4101", -12, "GBP", (_gbp("A4 paper, 80 boxes", "12.50", "office", "60"),
                                     _gbp("Toner cartridges", "166.67", "office", "3"))),
    BillSeed(2, "4103", -3, "USD", (_foreign("Dedicated hosting, quarter", "4800.00",
                                             "software"),)),
    BillSeed(3, "4104", -1, "EUR", (_foreign("Spare drive belts", "250.00", "cos", "12"),),
             status="PartiallyPaid", paid="1800.00"),
    BillSeed(4, "4105", 0, "GBP", (_gbp("Office cleaning, monthly", "400.00", "cleaning"),)),
    BillSeed(5, "4108", 0, "EUR", (_foreign("Catering, sales conference", "920.50",
                                            "office"),)),
    BillSeed(6, "4102", 1, "GBP", (_gbp("Pallet freight Felixstowe to Leeds", "1950.00",
                                        "freight"),)),
    BillSeed(7, "4107", 1, "USD", (_foreign("Annual ERP licence", "15000.00", "software"),)),
    BillSeed(8, "4106", 3, "GBP", (_gbp("Contract review", "1800.00", "legal"),
                                   _gbp("Retainer, monthly", "4000.00", "legal"),
                                   _gbp("Courier and copying", "32.00", "legal", "8"))),
    BillSeed(9, "4102", 5, "GBP", (_gbp("Container haulage", "4166.67", "freight"),),
             status="PartiallyPaid", paid="2500.00"),
    BillSeed(10, "4101", 6, "GBP", (_gbp("Desk chairs", "175.00", "office", "4"),),
             amount_due_unknown=True),
    BillSeed(11, "4104", 7, "EUR", (_foreign("Calibration service", "610.00", "cos"),)),
    BillSeed(12, "4105", 2, "GBP", (_gbp("Window cleaning", "74.99", "cleaning"),)),
    BillSeed(13, "4109", -30, "GBP", (_gbp("Printed catalogues", "125.00", "office"),)),
    BillSeed(14, "4103", 4, "USD", (_foreign("Managed backup, annual", "12000.00",
                                             "software"),),
             status="PartiallyPaid", paid="8000.00"),
]
# Open bills due beyond the 7-day window.
CURATED_LATER = [
    BillSeed(15, "4102", 8, "GBP", (_gbp("Warehouse storage, month", "2675.00", "freight"),)),
    BillSeed(16, "4105", 14, "GBP", (_gbp("Deep clean, kitchen", "450.00", "cleaning"),)),
    BillSeed(17, "4107", 30, "USD", (_foreign("Support hours", "220.00", "software", "10"),)),
]
# Never in a digest: settled, voided or not yet approved in the ledger.
CURATED_CLOSED = [
    BillSeed(18, "4101", -5, "GBP", (_gbp("Stationery", "95.00", "office"),), status="Paid",
             paid="all"),
    BillSeed(19, "4102", 1, "GBP", (_gbp("Cancelled delivery", "300.00", "freight"),),
             status="Void"),
    BillSeed(20, "4106", 2, "GBP", (_gbp("Draft: trademark filing", "900.00", "legal"),),
             status="Draft"),
    BillSeed(21, "4108", 0, "EUR", (_foreign("Coffee beans", "180.00", "office"),),
             status="Paid", paid="all"),
]
BILL_ID_BASE = 7110700000
FILLER_ID_BASE = 7110710000
PAID_FILLERS = 30


def _build_bill(seed: BillSeed, bill_id: str, today: date, suppliers: dict[str, Json],
                base: str) -> Json:
    supplier = suppliers[seed.supplier]
    due = today + timedelta(days=seed.due_in)
    issue = due - timedelta(days=30)
    bill = bill_json(bill_id, f"INV-{seed.number:05d}", supplier, issue, due, seed.currency,
                     _rate(seed.currency, base), list(seed.lines), seed.status, None,
                     instant(min(issue + timedelta(days=1), today - timedelta(days=1)), 9))
    total: Decimal = bill["totalAmount"]
    if seed.amount_due_unknown:
        bill["amountDue"] = None
    elif seed.paid == "all":
        bill["amountDue"] = Decimal("0.00")
    elif seed.paid is not None:
        bill["amountDue"] = (total - money(seed.paid)).quantize(TWO_PLACES)
    elif seed.status in ("Void",):
        bill["amountDue"] = Decimal("0.00")
    else:
        bill["amountDue"] = total
    return bill


def _rate(currency: str, base: str) -> Decimal:
    table = RATES_TO_GBP if base == "GBP" else RATES_TO_USD
    return table.get(currency, Decimal("1"))


def _filler(rng: random.Random, bill_id: str, number: int, today: date, due_in: int,
            status: str, suppliers_by_currency: dict[str, list[Json]], base: str) -> Json:
    currency = rng.choices(("GBP", "USD", "EUR"), weights=(6, 2, 2))[0]
    supplier = rng.choice(suppliers_by_currency[currency])
    due = today + timedelta(days=due_in)
    issue = due - timedelta(days=rng.choice((14, 30, 30, 45, 60)))
    lines = []
    for index in range(rng.randint(1, 3)):
        net = (Decimal(rng.randint(2_000, 400_000)) / 100).quantize(TWO_PLACES)
        account = rng.choice(("office", "cos", "software", "freight"))
        if currency == "GBP":
            lines.append(_gbp(f"Goods and services, item {index + 1}", str(net), account))
        else:
            lines.append(_foreign(f"Goods and services, item {index + 1}", str(net), account))
    bill = bill_json(bill_id, f"PO-{number:05d}", supplier, issue, due, currency,
                     _rate(currency, base), lines, status, None,
                     instant(min(issue + timedelta(days=1), today - timedelta(days=1)), 10))
    total: Decimal = bill["totalAmount"]
    if status == "PartiallyPaid":
        bill["amountDue"] = (total * Decimal(rng.randint(20, 80)) / 100).quantize(TWO_PLACES)
    elif status == "Paid":
        bill["amountDue"] = Decimal("0.00")
    else:
        bill["amountDue"] = total
    return bill


def _acme_ledger(state: SeedTarget, open_bills: int, due_soon: int | None) -> Ledger:
    today = state.today
    modified = instant(today - timedelta(days=200), 8)
    ledger = Ledger(company_name="Acme Trading Ltd", base_currency="GBP")
    for seed in ACME_SUPPLIERS:
        slug = seed.name.split()[0].lower()
        ledger.suppliers[seed.key] = supplier_json(
            seed.key, seed.name, seed.currency, contact=seed.contact,
            email=f"accounts@{slug}.example", phone="+44 20 7946 0000", city=seed.city,
            country=seed.country, status=seed.status, modified=modified)
    for key, (code, name, kind) in ACCOUNTS.items():
        account_id = ACCOUNTS_IDS[key]
        ledger.accounts[account_id] = {"id": account_id, "nominalCode": code, "name": name,
                                       "type": kind, "currency": "GBP", "status": "Active",
                                       "sourceModifiedDate": modified}
    for tax_id, (name, code, rate, status) in TAX_RATES.items():
        ledger.tax_rates[tax_id] = {"id": tax_id, "name": name, "code": code,
                                    "effectiveTaxRate": Decimal(rate),
                                    "totalTaxRate": Decimal(rate), "status": status,
                                    "sourceModifiedDate": modified}
    bank_specs: list[tuple[str, str, str, str, str, str, str | None, str]] = [
        ("gbp-current", "Business Current Account", "GBP", "Debit", "Active", "31926819",
         "40-11-62", "090"),
        ("usd-operating", "USD Operating Account", "USD", "Debit", "Active",
         "GB29NWBK60161331926820", None, "091"),
        ("eur-operating", "EUR Operating Account", "EUR", "Debit", "Active",
         "GB29NWBK60161331926821", None, "092"),
        ("gbp-credit-card", "Company Credit Card", "GBP", "Credit", "Active", "5100",
         None, "093"),
        ("gbp-savings-closed", "Business Savings (closed)", "GBP", "Debit", "Archived",
         "31926822", "40-11-62", "094"),
    ]
    for slug, name, currency, kind, status, number, sort_code, nominal in bank_specs:
        account_id = stable_id(f"acme/bank/{slug}")
        ledger.bank_accounts[account_id] = bank_account_json(
            account_id, name, currency, kind, status, number, sort_code, nominal, modified)
    _acme_bills(state, ledger, open_bills, due_soon)
    return ledger


def _acme_bills(state: SeedTarget, ledger: Ledger, open_bills: int,
                due_soon: int | None) -> None:
    today, base = state.today, ledger.base_currency
    rng = random.Random(state.seed)
    window = min(len(CURATED_DUE_SOON) if due_soon is None else due_soon, open_bills)
    later = open_bills - window
    chosen = CURATED_DUE_SOON[:window] + CURATED_LATER[:later] + CURATED_CLOSED
    for seed in chosen:
        bill_id = str(BILL_ID_BASE + seed.number)
        ledger.bills[bill_id] = _build_bill(seed, bill_id, today, ledger.suppliers, base)
    by_currency: dict[str, list[Json]] = {}
    for supplier in ledger.suppliers.values():
        if supplier["status"] == "Active":
            by_currency.setdefault(supplier["defaultCurrency"], []).append(supplier)
    plan: list[tuple[int, str]] = []
    plan += [(rng.randint(-10, 7), _open_status(rng))
             for _ in range(window - min(window, len(CURATED_DUE_SOON)))]
    plan += [(rng.randint(8, 120), _open_status(rng))
             for _ in range(later - min(later, len(CURATED_LATER)))]
    plan += [(rng.randint(-90, -1), "Paid") for _ in range(PAID_FILLERS)]
    for index, (due_in, status) in enumerate(plan, start=1):
        bill_id = str(FILLER_ID_BASE + index)
        ledger.bills[bill_id] = _filler(rng, bill_id, index, today, due_in, status,
                                        by_currency, base)
    seed_attachments(ledger, today, curated_base=BILL_ID_BASE, filler_base=FILLER_ID_BASE)


def _open_status(rng: random.Random) -> str:
    return "PartiallyPaid" if rng.random() < 0.15 else "Open"


# --- a second, smaller company (USD, QuickBooks Online) and a third not yet linked ------------


def _globex_ledger(state: SeedTarget) -> Ledger:
    today = state.today
    modified = instant(today - timedelta(days=100), 8)
    ledger = Ledger(company_name="Globex Corporation", base_currency="USD")
    for key, name, city in (("58", "Acme Paper Products", "Scranton"),
                            ("59", "Sterling Freight LLC", "Newark")):
        ledger.suppliers[key] = supplier_json(
            key, name, "USD", contact="Accounts", email=f"ap@{key}.example",
            phone="(877) 492-8687", city=city, country="US", modified=modified)
    checking = stable_id("globex/bank/checking")
    ledger.bank_accounts[checking] = bank_account_json(
        checking, "Checking", "USD", "Debit", "Active", "000123456789", None, "1000",
        modified)
    card = stable_id("globex/bank/amex")
    ledger.bank_accounts[card] = bank_account_json(
        card, "Amex Business", "USD", "Credit", "Active", "3782", None, "2100", modified)
    expense = stable_id("globex/account/expense")
    ledger.accounts[expense] = {"id": expense, "nominalCode": "6000", "name": "Supplies",
                                "type": "Expense", "currency": "USD", "status": "Active",
                                "sourceModifiedDate": modified}
    ledger.tax_rates["TAX"] = {"id": "TAX", "name": "Sales tax", "code": "TAX",
                               "effectiveTaxRate": Decimal("0"), "totalTaxRate": Decimal("0"),
                               "status": "Active", "sourceModifiedDate": modified}
    for number, (supplier, due_in, net, status) in enumerate(
            (("58", -2, "640.00", "Open"), ("59", 4, "1875.25", "Open"),
             ("58", 20, "99.00", "Open"), ("59", -40, "410.00", "Paid")), start=1):
        bill_id = f"QB-{number:04d}"
        line = Line("Supplies", net, "1", "0", expense, "TAX")
        due = today + timedelta(days=due_in)
        bill = bill_json(bill_id, f"GX-{number:04d}", ledger.suppliers[supplier],
                         due - timedelta(days=30), due, "USD", Decimal("1"), [line], status,
                         None, instant(min(due - timedelta(days=29), today - timedelta(days=1)), 9))
        bill["amountDue"] = Decimal("0.00") if status == "Paid" else bill["totalAmount"]
        ledger.bills[bill_id] = bill
    return ledger


def populate(state: SeedTarget, *, open_bills: int, due_soon: int | None) -> None:
    """Fill an empty state with the standard seed (called under the state lock)."""
    if open_bills < 0 or (due_soon is not None and due_soon < 0):
        raise ValueError("bill counts must be >= 0")
    created = state.today - timedelta(days=400)
    acme = stable_id("company/acme-trading")
    acme_xero = stable_id("connection/acme-trading/xero")
    globex = stable_id("company/globex")
    globex_qbo = stable_id("connection/globex/qbo")
    initech = stable_id("company/initech")
    initech_xero = stable_id("connection/initech/xero")
    state.companies[acme] = company_json(
        acme, "Acme Trading Ltd", "Wholesale importer; the main sandbox company", created)
    state.companies[globex] = company_json(globex, "Globex Corporation", "US subsidiary",
                                           created)
    state.companies[initech] = company_json(initech, "Initech GmbH",
                                            "Connection not yet authorised", created)
    state.connections[acme] = {acme_xero: connection_json(acme, acme_xero, "gbol", "Linked",
                                                          created)}
    state.connections[globex] = {globex_qbo: connection_json(globex, globex_qbo, "qhyg",
                                                             "Linked", created)}
    state.connections[initech] = {initech_xero: connection_json(
        initech, initech_xero, "gbol", "PendingAuth", created)}
    state.ledgers[(acme, acme_xero)] = _acme_ledger(state, open_bills, due_soon)
    state.ledgers[(globex, globex_qbo)] = _globex_ledger(state)
    state.ledgers[(initech, initech_xero)] = Ledger(company_name="Initech GmbH",
                                                    base_currency="EUR")
    state.main_company_id, state.main_connection_id = acme, acme_xero
