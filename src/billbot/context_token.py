"""Signed, expiring context carried through a modal's private_metadata.

Slack hands private_metadata back verbatim, but billbot never trusts a payload: the context
(which bill, which channel and message the modal came from) is HMAC-signed with a server
key and carries its issue time, so a tampered or stale modal is refused, not acted on.
Authorization is still re-checked from the database on submission.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

MODAL_LIFETIME = timedelta(minutes=30)


class BadContext(Exception):
    """The modal's context was tampered with, is malformed, or has expired."""


@dataclass(frozen=True)
class ModalContext:
    bill_id: str
    channel_id: str
    message_ts: str | None
    user_id: str
    issued_at: str  # ISO instant
    amount_due: str | None = None  # the bill's amountDue when the modal opened (inline checks)
    currency: str | None = None
    issue_date: str | None = None  # the bill's issue date (the payment date's lower bound)
    base_currency: str | None = None  # the company's (the rate is asked when it differs)
    payee: str | None = None  # the supplier's name and the bill's reference, for the review
    reference: str | None = None
    # The review step's choices, carried signed from the form to the confirmation.
    account_id: str | None = None
    amount: str | None = None
    paid_on: str | None = None
    currency_rate: str | None = None
    run_id: str | None = None  # a pay run's form and review: the run they belong to
    page: int | None = None  # which page of the pay run's form
    # Approve all: the bills its confirmation listed (short keys with version tokens).
    bills: str | None = None
    # `/bills accounts add`: the form's id, the key of its one bank-account request.
    form_id: str | None = None
    # Create bill: the Slack file (from the message shortcut) to attach to the new bill.
    file_id: str | None = None
    # Pay: the controls the bill met when the form opened (slackapp/control_blocks.py).
    controls: str | None = None
    # `/bills policy edit`: the policy version the form was opened on (a newer one refuses it).
    policy_version: int | None = None
    # Apply credit note: the supplier's open credit notes the form offered (JSON), then the
    # checked choice carried from the form to the review's confirmation (credit_blocks.py).
    credit_notes: str | None = None
    credit_choice: str | None = None


class ContextSigner:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("context signing key too short")
        self._key = key

    def _mac(self, payload: bytes) -> str:
        digest = hmac.new(self._key, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode()

    def dump(self, ctx: ModalContext) -> str:
        payload = base64.urlsafe_b64encode(
            json.dumps(asdict(ctx), separators=(",", ":")).encode()).decode()
        return f"{payload}.{self._mac(payload.encode())}"

    def load(self, token: str, *, now: datetime, user_id: str) -> ModalContext:
        payload, _, mac = token.rpartition(".")
        if not payload or not hmac.compare_digest(mac, self._mac(payload.encode())):
            raise BadContext("this form was not issued by billbot")
        try:
            raw = json.loads(base64.urlsafe_b64decode(payload.encode()))
            ctx = ModalContext(**raw)
            issued = datetime.fromisoformat(ctx.issued_at)
        except (ValueError, TypeError) as exc:
            raise BadContext("this form is malformed") from exc
        if now - issued > MODAL_LIFETIME:
            raise BadContext("this form has expired; press the button again")
        if ctx.user_id != user_id:
            raise BadContext("this form was opened by someone else")
        return ctx
