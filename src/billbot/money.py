"""Money shown the way a finance team reads it: ISO code and the currency's own decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor units for the currencies whose exponent is not 2.
_MINOR_UNITS: dict[str, int] = {
    "BHD": 3, "BIF": 0, "CLF": 4, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3,
    "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3,
    "UGX": 0, "UYI": 0, "UYW": 4, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}


def minor_units(currency: str) -> int:
    """How many decimals the currency has (2 unless ISO 4217 says otherwise)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's decimals, half up as accountants expect."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str) -> str:
    """`GBP 1,234.50`; `JPY 1,200`; negative amounts keep their sign."""
    q = quantize(amount, currency)
    return f"{currency.upper()} {q:,.{minor_units(currency)}f}"


def converted(amount: Decimal, rate: Decimal, base_currency: str) -> Decimal:
    """What `amount` comes to in the base currency at `rate` (base units per unit)."""
    return quantize(amount * rate, base_currency)


def both_amounts(amount: Decimal, currency: str, rate: Decimal | None,
                 base_currency: str | None) -> str:
    """`USD 1,000.00 (GBP 781.00 at 0.781)`, or the one amount when nothing is converted."""
    text = format_money(amount, currency)
    if rate is None or base_currency is None or base_currency.upper() == currency.upper():
        return text
    return (f"{text} ({format_money(converted(amount, rate, base_currency), base_currency)} "
            f"at {rate.normalize():f})")


def parse_amount(text: str) -> Decimal | None:
    """A person's typed amount (`1,234.50`, ` 10 `) as a Decimal, or None when it is not one."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned or len(cleaned) > 32:
        return None
    try:
        value = Decimal(cleaned)
    except ArithmeticError:
        return None
    if not value.is_finite():
        return None
    return value
