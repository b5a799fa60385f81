"""An amount typed by a person into the pay form, read the way billbot itself shows amounts.

Accepted: thousands separators, the bill's currency symbol or ISO code before or after the
number (`1,500.01`, `£1,500.01`, `GBP 1500.01`, `1500 gbp`). Refused, each with a message
the form shows inline: exponents, `nan`, `inf`, another currency's symbol or code, more
decimals than the currency has, zero and negatives. The rule is strict on purpose: a typed
amount that could mean two things is refused, never guessed.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from billbot.money import format_money, minor_units

MAX_TYPED_LENGTH = 40

# Symbols people type, and the currencies each may stand for ($ is many dollars).
_SYMBOLS: dict[str, frozenset[str]] = {
    "£": frozenset({"GBP", "GIP", "FKP", "SHP", "EGP"}),
    "$": frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "ARS", "CLP", "COP"}),
    "€": frozenset({"EUR"}),
    "¥": frozenset({"JPY", "CNY"}),
    "₹": frozenset({"INR"}),
    "₩": frozenset({"KRW"}),
    "₺": frozenset({"TRY"}),
    "₽": frozenset({"RUB"}),
    "₪": frozenset({"ILS"}),
    "₫": frozenset({"VND"}),
    "₱": frozenset({"PHP"}),
    "₦": frozenset({"NGN"}),
    "฿": frozenset({"THB"}),
    "zł": frozenset({"PLN"}),
    "kr": frozenset({"SEK", "NOK", "DKK", "ISK"}),
    "chf": frozenset({"CHF"}),
    "r$": frozenset({"BRL"}),
    "a$": frozenset({"AUD"}),
    "c$": frozenset({"CAD"}),
    "us$": frozenset({"USD"}),
}
_NUMBER = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+")
_CODE = re.compile(r"[A-Za-z]{3}")
_MINUS = ("-", "−", "–", "(")


class AmountRefused(ValueError):
    """The typed text is not an amount billbot can pay; the message says why, in plain words."""


def _strip_marker(text: str, currency: str) -> str:
    """The text without one currency symbol or code around the number; refuses another
    currency's. Checked at the start, then the end."""
    for marker in sorted(_SYMBOLS, key=len, reverse=True):
        for head in (True, False):
            found = text.lower().startswith(marker) if head else text.lower().endswith(marker)
            if not found:
                continue
            if currency not in _SYMBOLS[marker]:
                raise AmountRefused(f"“{marker}” is not {currency}; the bill is paid in {currency}.")
            return (text[len(marker):] if head else text[:-len(marker)]).strip()
    for head in (True, False):
        part = text[:3] if head else text[-3:]
        rest = text[3:] if head else text[:-3]
        if _CODE.fullmatch(part) and _NUMBER.fullmatch(rest.strip().lstrip("-−–(").rstrip(")")):
            if part.upper() != currency:
                raise AmountRefused(f"{part.upper()} is not the bill's currency; the bill is "
                                    f"paid in {currency}.")
            return rest.strip()
    return text


def read_typed_amount(text: str, currency: str) -> Decimal:
    """The amount `text` states in `currency`, or AmountRefused with the reason."""
    currency = currency.upper()
    example = format_money(Decimal("1500"), currency).split(" ", 1)[1]
    cleaned = text.strip()
    if not cleaned:
        raise AmountRefused("Enter the amount to pay.")
    if len(cleaned) > MAX_TYPED_LENGTH:
        raise AmountRefused("That is too long to be an amount.")
    if cleaned.startswith(_MINUS):
        raise AmountRefused("The amount must be more than zero.")
    number = _strip_marker(cleaned, currency)
    if number.startswith(_MINUS):
        raise AmountRefused("The amount must be more than zero.")
    if not _NUMBER.fullmatch(number):
        raise AmountRefused(f"Enter the amount in digits, e.g. {example} or {currency} {example}.")
    try:
        value = Decimal(number.replace(",", ""))
    except InvalidOperation as exc:  # the pattern admits only plain decimals; kept as a guard
        raise AmountRefused(f"Enter the amount in digits, e.g. {example}.") from exc
    if value <= 0:
        raise AmountRefused("The amount must be more than zero.")
    places = minor_units(currency)
    try:
        exact = value == value.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation as exc:  # more digits than Decimal's precision holds
        raise AmountRefused("That is too large to be an amount.") from exc
    if not exact:
        raise AmountRefused(f"{currency} amounts have at most {places} decimals."
                            if places else f"{currency} amounts have no decimals.")
    return value


_RATE = re.compile(r"\d+(?:\.\d+)?|\.\d+")
RATE_PLACES = 9


def read_typed_rate(text: str, *, base: str, currency: str) -> Decimal:
    """A typed exchange rate (`base` units per unit of `currency`), or AmountRefused."""
    cleaned = text.strip()
    if not _RATE.fullmatch(cleaned) or len(cleaned) > MAX_TYPED_LENGTH:
        raise AmountRefused(f"Enter the rate in digits: {base} per 1 {currency}, e.g. 0.781.")
    rate = Decimal(cleaned)
    if rate <= 0:
        raise AmountRefused("The rate must be more than zero.")
    if rate != rate.quantize(Decimal(1).scaleb(-RATE_PLACES)):
        raise AmountRefused(f"The rate has at most {RATE_PLACES} decimals.")
    return rate


def rate_from_amounts(amount: Decimal, base_amount: Decimal) -> Decimal:
    """The rate that turns `amount` of the bill's currency into `base_amount` left the account."""
    return (base_amount / amount).quantize(Decimal(1).scaleb(-RATE_PLACES)).normalize()


__all__ = ["MAX_TYPED_LENGTH", "RATE_PLACES", "AmountRefused", "rate_from_amounts",
           "read_typed_amount", "read_typed_rate"]
