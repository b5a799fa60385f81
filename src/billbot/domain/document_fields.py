"""Dates, amounts and currencies as invoices print them, read from one line of text.

Only what is unambiguous enough to suggest: every value read here is shown to the person as
"suggested from the document — check", never used without their confirmation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

_MONTHS = {
    name: number
    for number, names in enumerate(
        (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")),
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<mon>[A-Za-z]{3,9})\.?"
_DATE_PATTERNS = (
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    re.compile(r"\b(?P<d>\d{1,2})[/.](?P<m>\d{1,2})[/.](?P<y>\d{4})\b"),
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[\s-]+{_MONTH}[\s,-]+(?P<y>\d{{4}})\b"),
    re.compile(rf"\b{_MONTH}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})\b"),
)

# ISO codes an invoice prints beside its total (the common ones; any other is not guessed).
CURRENCY_CODES = frozenset({
    "GBP", "EUR", "USD", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF",
    "JPY", "CNY", "HKD", "SGD", "INR", "ZAR", "AED", "MXN", "BRL", "ILS", "TRY", "RON",
})
# Symbols that name one currency; a bare "$" names many dollars, so it names none.
_SYMBOLS = {"£": "GBP", "€": "EUR", "US$": "USD", "A$": "AUD", "C$": "CAD", "NZ$": "NZD",
            "₹": "INR", "CHF": "CHF"}
_SYMBOL = r"US\$|NZ\$|A\$|C\$|[£€$₹¥]"
_NUMBER = r"\d{1,3}(?:[,.' ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_AMOUNT = re.compile(
    rf"(?P<pre>{_SYMBOL}|\b[A-Z]{{3}}\b)?\s?(?P<num>(?<![\d.,])(?:{_NUMBER}))(?![\d%])"
    rf"\s?(?P<post>{_SYMBOL}|\b[A-Z]{{3}}\b)?"
)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str | None


def find_date(text: str) -> date | None:
    """The first date in `text`: 2026-11-03, 03/11/2026 (day first, as UK and EU invoices
    print it, unless only month first makes sense), 3 Nov 2026, Nov 3, 2026."""
    found: list[tuple[int, date]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            value = _to_date(match)
            if value is not None:
                found.append((match.start(), value))
    return min(found, key=lambda item: item[0])[1] if found else None


def _to_date(match: re.Match[str]) -> date | None:
    parts = match.groupdict()
    try:
        year, day = int(parts["y"]), int(parts["d"])
        if parts.get("mon") is not None:
            month = _MONTHS.get(parts["mon"].lower(), 0)
        else:
            month = int(parts["m"])
            if month > 12 and day <= 12 and "/" in match.group(0):
                day, month = month, day  # 11/23/2026 can only be month first
        if not 2000 <= year <= 2100:
            return None
        return date(year, month, day)
    except ValueError:
        return None


def find_money(text: str) -> Money | None:
    """The last amount on the line (a total's figure follows its label and any tax note),
    with the currency its symbol or code names. Figures that look like money (a symbol, a
    code, or cents) win over bare integers; dates on the line are not amounts."""
    for pattern in _DATE_PATTERNS:
        text = pattern.sub(" ", text)
    plain: Money | None = None
    marked: Money | None = None
    for match in _AMOUNT.finditer(text):
        amount = parse_number(match.group("num"))
        if amount is None:
            continue
        currency = _currency_of(match.group("pre")) or _currency_of(match.group("post"))
        money = Money(amount, currency)
        symbol = {match.group("pre"), match.group("post")} & {"$", "¥"}
        if currency or symbol or re.search(r"[.,]\d{2}$", match.group("num")):
            marked = money
        plain = money
    return marked or plain


def _currency_of(token: str | None) -> str | None:
    if token is None:
        return None
    token = token.strip()
    if token in CURRENCY_CODES:
        return token
    return _SYMBOLS.get(token)


def parse_number(raw: str) -> Decimal | None:
    """1,234.56 and 1.234,56 and 1 234,56 alike: the last separator followed by one or two
    digits is the decimal point; the others group thousands."""
    text = raw.strip().replace("'", ",").replace(" ", ",")
    last = max(text.rfind(","), text.rfind("."))
    if last != -1 and 1 <= len(text) - last - 1 <= 2:
        whole, fraction = text[:last], text[last + 1:]
    else:
        whole, fraction = text, ""
    whole = whole.replace(",", "").replace(".", "")
    try:
        value = Decimal(f"{whole}.{fraction}" if fraction else whole)
    except InvalidOperation:
        return None
    return value if value > 0 else None


def currency_in(text: str) -> str | None:
    """The one ISO code the document names (a "Currency: EUR" line, "EUR" in a table);
    None when it names none or several."""
    codes = {code for code in re.findall(r"\b[A-Z]{3}\b", text) if code in CURRENCY_CODES}
    return codes.pop() if len(codes) == 1 else None
