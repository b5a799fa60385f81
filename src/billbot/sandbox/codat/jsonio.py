"""JSON in and out with exact money: numbers parse to Decimal and Decimals print as numbers."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def _encode_default(value: object) -> object:
    if isinstance(value, Decimal):
        # Codat money is `type: number`. An integral amount prints as an int; otherwise the
        # float's shortest repr is the same digits as the Decimal for amounts of <= 15
        # significant digits, which is all the sandbox ever holds.
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, default=_encode_default, separators=(",", ":")).encode()


def canonical(payload: Any) -> bytes:
    """One spelling per JSON value (sorted keys, normalised numbers), to compare requests."""
    return json.dumps(payload, default=_encode_default, separators=(",", ":"),
                      sort_keys=True).encode()


def loads(body: bytes) -> Any:
    """Parse a request body; floats become Decimal so amounts are never rounded."""
    return json.loads(body, parse_float=Decimal)


def as_decimal(value: object) -> Decimal | None:
    """A JSON number as a Decimal; None for anything else (strings and booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    return None
