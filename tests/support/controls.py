"""Setting up the controls' cases in the Codat sandbox through its control endpoint (as a
bookkeeper edits bills), and ticking the review's "checked, not a duplicate"."""

from __future__ import annotations

from typing import Any

import httpx

from billbot.slackapp.control_blocks import ACTION_NOT_DUPLICATE, BLOCK_NOT_DUPLICATE

NOT_DUPLICATE: dict[str, dict[str, Any]] = {BLOCK_NOT_DUPLICATE: {ACTION_NOT_DUPLICATE: {
    "type": "checkboxes", "selected_options": [{"value": "checked"}]}}}


def edit_bill(codat_url: str, bill_id: str, **changes: Any) -> dict[str, Any]:
    """PATCH /_sandbox/bills/{id}: change the bill in the books (supplierId, reference, ...)."""
    answer = httpx.patch(f"{codat_url.rstrip('/')}/_sandbox/bills/{bill_id}", json=changes,
                         timeout=30)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


__all__ = ["NOT_DUPLICATE", "edit_bill"]
