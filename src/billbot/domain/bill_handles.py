"""Short handles for long Codat bill ids.

Codat bill ids are free strings, but a Slack button value holds at most 2000 characters and
billbot keeps its own values far shorter. A bill id up to `MAX_INLINE_ID` characters travels
as itself (so rows in older digests keep working); a longer one (or one that could be read as
a handle) travels as `HANDLE_PREFIX` + a base32 digest of the id, which the server resolves
from its own table, within the company bound to the clicked channel.
"""

from __future__ import annotations

import base64
import hashlib

HANDLE_PREFIX = "bh:"
MAX_INLINE_ID = 64  # longer bill ids travel as handles
_DIGEST_CHARS = 32  # 160 bits of SHA-256, base32


def bill_handle(bill_id: str) -> str:
    """The handle of a bill id: the same id always gives the same handle."""
    digest = base64.b32encode(hashlib.sha256(bill_id.encode()).digest()).decode()
    return HANDLE_PREFIX + digest[:_DIGEST_CHARS]


def needs_handle(bill_id: str) -> bool:
    return len(bill_id) > MAX_INLINE_ID or bill_id.startswith(HANDLE_PREFIX)


def carried(bill_id: str) -> str:
    """What a button or a form's context carries for the bill: its id, or its handle."""
    return bill_handle(bill_id) if needs_handle(bill_id) else bill_id


def handles_of(bill_ids: list[str]) -> dict[str, str]:
    """handle → bill id for the ids among `bill_ids` that travel as handles."""
    return {bill_handle(b): b for b in bill_ids if needs_handle(b)}


def is_handle(value: str) -> bool:
    """Whether a carried value is a handle (a short id never starts with the prefix)."""
    return value.startswith(HANDLE_PREFIX)


__all__ = ["HANDLE_PREFIX", "MAX_INLINE_ID", "bill_handle", "carried", "handles_of", "is_handle",
           "needs_handle"]
