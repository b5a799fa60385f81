"""Changes made in the accounting software, as a bookkeeper makes them: each one bumps the
bill's `sourceModifiedDate`, as the books do, so billbot's incremental refresh sees it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billbot.sandbox.codat.state import SandboxState


def bookkeeper_adds(state: SandboxState, stored: dict[str, Any], amount: Decimal) -> None:
    """Raise a stored bill's total and amount due by `amount` (in place)."""
    with state.lock:
        stored["amountDue"] = Decimal(str(stored["amountDue"])) + amount
        stored["totalAmount"] = Decimal(str(stored["totalAmount"])) + amount
        stored["sourceModifiedDate"] = state.timestamp()
