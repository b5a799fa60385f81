"""What an admin typed into the Add bank account form, checked before anything is stored.

Pure. The fields are those of the sync API's create-bank-account prototype: `name`,
`accountType`, `accountNumber` and `currency` are required there; `sortCode` (UK banks' branch
code; Xero shows it only for GBP accounts) and `nominalCode` are optional.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME_MAX = 255
NUMBER_MAX = 34  # an IBAN, the longest account number in use
NOMINAL_MAX = 20
ACCOUNT_TYPES = ("Debit", "Credit")  # a bank (current) account; a credit card
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9 -]*$")
_SORT_CODE = re.compile(r"^\d{2}-?\d{2}-?\d{2}$")
_NOMINAL = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class AccountInput:
    name: str
    account_type: str
    account_number: str
    currency: str
    sort_code: str | None = None
    nominal_code: str | None = None


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def read_input(fields: dict[str, str | None]) -> tuple[AccountInput | None, dict[str, str]]:
    """The account asked for, or the inline error per field (keyed by block id)."""
    errors: dict[str, str] = {}
    name = _clean(fields.get("name"))
    if not name:
        errors["name"] = "Give the account a name, as the books will show it."
    elif len(name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters."
    account_type = _clean(fields.get("account_type")) or "Debit"
    if account_type not in ACCOUNT_TYPES:
        errors["account_type"] = "Pick a bank account or a credit card."
    currency = _clean(fields.get("currency")).upper()
    if not _CURRENCY.match(currency):
        errors["currency"] = "A three-letter ISO 4217 code, such as GBP, EUR or USD."
    number = _clean(fields.get("account_number")).upper()
    if not number:
        errors["account_number"] = "The account number (or IBAN) is required."
    elif len(number) > NUMBER_MAX or not _NUMBER.match(number):
        errors["account_number"] = (f"Letters, digits, spaces and dashes only, at most "
                                    f"{NUMBER_MAX} characters.")
    sort_code = _clean(fields.get("sort_code")) or None
    if sort_code is not None:
        if not _SORT_CODE.match(sort_code):
            errors["sort_code"] = "Six digits, as 12-34-56."
        else:
            digits = sort_code.replace("-", "")
            sort_code = f"{digits[:2]}-{digits[2:4]}-{digits[4:]}"
    elif currency == "GBP" and account_type == "Debit" and number.replace(" ", "").isdigit():
        errors["sort_code"] = "A UK bank account needs its sort code (six digits, 12-34-56)."
    nominal = _clean(fields.get("nominal_code")) or None
    if nominal is not None and (len(nominal) > NOMINAL_MAX or not _NOMINAL.match(nominal)):
        errors["nominal_code"] = (f"Letters, digits, dots and dashes, at most {NOMINAL_MAX} "
                                  "characters (or leave it empty).")
    if errors:
        return None, errors
    return AccountInput(name=name, account_type=account_type, account_number=number,
                        currency=currency, sort_code=sort_code, nominal_code=nominal), {}


__all__ = ["ACCOUNT_TYPES", "AccountInput", "read_input"]
