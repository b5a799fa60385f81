"""Bills with long Codat ids (issue 14, problem 9), added to the sandbox's books."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

from billbot.sandbox.codat.ledger import Ledger


def add_copy_due_today(ledger: Ledger, source: dict[str, Any], bill_id: str,
                       reference: str) -> dict[str, Any]:
    """A copy of `source` (same supplier, currency, amounts) under `bill_id`, due today."""
    bill = copy.deepcopy(source)
    # A bill new in the books carries a fresh modification date, as the books give it.
    bill.update(id=bill_id, reference=reference,
                dueDate=date.today().isoformat() + str(source["dueDate"])[10:],
                sourceModifiedDate=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    ledger.bills[bill_id] = bill
    return bill
