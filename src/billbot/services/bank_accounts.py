"""`/bills accounts add`: who may add a bank account, and the request committed (with its
Idempotency-Key) before Codat is called.

A form carries a server-made id in its signed context. The first submission of that form
inserts the request; every later one (a double submit, Slack's retry, a "Try again" after a
lost answer) finds it and sends the SAME body with the SAME key, so Codat creates one account
and replays its answer to the rest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from billbot.codat.models import BankAccountPrototype, BankAccountType
from billbot.domain.bank_account_input import AccountInput
from billbot.domain.policy import PolicySettings, Role
from billbot.services import roles
from billbot.services.bindings import Binding
from billbot.storage import account_requests
from billbot.storage.account_tables import BankAccountRequest
from billbot.storage.audit import record_audit

ADMINS_ONLY = "Only billbot admins can add bank accounts; nothing was created."


@dataclass(frozen=True)
class Request:
    form_id: str
    company_id: str
    connection_id: str
    idempotency_key: str
    state: str  # pending | created | refused
    name: str
    currency: str
    account_id: str | None
    error: str | None
    first: bool  # this submission inserted it


def prototype_of(row: BankAccountRequest) -> BankAccountPrototype:
    return BankAccountPrototype.model_validate({
        "name": row.name, "accountType": BankAccountType(row.account_type),
        "accountNumber": row.account_number, "currency": row.currency,
        "sortCode": row.sort_code, "nominalCode": row.nominal_code})


def _view(row: BankAccountRequest, *, first: bool) -> Request:
    return Request(form_id=row.form_id, company_id=row.company_id,
                   connection_id=row.connection_id, idempotency_key=row.idempotency_key,
                   state=row.state, name=row.name, currency=row.currency,
                   account_id=row.account_id, error=row.error, first=first)


def may_add(session: Session, policy: PolicySettings, user_id: str) -> bool:
    return Role.ADMIN in roles.roles_of(session, policy, user_id)


def new_form_id() -> str:
    return uuid.uuid4().hex


def existing(session: Session, form_id: str) -> tuple[Request, BankAccountPrototype] | None:
    row = account_requests.get(session, form_id)
    return None if row is None else (_view(row, first=False), prototype_of(row))


def request(session: Session, policy: PolicySettings, *, form_id: str, binding: Binding,
            channel_id: str, user_id: str, account: AccountInput, request_id: str,
            at: datetime) -> tuple[Request, BankAccountPrototype] | None:
    """Insert the form's request with a fresh Idempotency-Key (committed with the caller's
    transaction, before Codat is called), or return the one stored; None: not an admin."""
    if not may_add(session, policy, user_id):
        return None
    won, row = account_requests.claim(session, {
        "form_id": form_id, "company_id": binding.company_id,
        "connection_id": binding.connection_id, "channel_id": channel_id,
        "requested_by": user_id, "idempotency_key": str(uuid.uuid4()), "name": account.name,
        "account_type": account.account_type, "account_number": account.account_number,
        "currency": account.currency, "sort_code": account.sort_code,
        "nominal_code": account.nominal_code, "created_at": at})
    if won:
        record_audit(session, at=at, actor=user_id, action="bank_account.requested",
                     company_id=binding.company_id, connection_id=binding.connection_id,
                     request_id=request_id,
                     detail={"form_id": form_id, "name": account.name,
                             "currency": account.currency, "type": account.account_type})
    return _view(row, first=won), prototype_of(row)


def record_created(session: Session, req: Request, *, account_id: str, actor: str,
                   request_id: str, at: datetime) -> None:
    if account_requests.finish(session, req.form_id, state="created", account_id=account_id,
                               at=at):
        record_audit(session, at=at, actor=actor, action="bank_account.created",
                     company_id=req.company_id, connection_id=req.connection_id,
                     request_id=request_id,
                     detail={"form_id": req.form_id, "account_id": account_id,
                             "name": req.name, "currency": req.currency})


def record_refused(session: Session, req: Request, *, reason: str, actor: str,
                   request_id: str, at: datetime) -> None:
    if account_requests.finish(session, req.form_id, state="refused", error=reason[:2000],
                               at=at):
        record_audit(session, at=at, actor=actor, action="bank_account.refused",
                     company_id=req.company_id, connection_id=req.connection_id,
                     request_id=request_id, detail={"form_id": req.form_id, "reason": reason})


__all__ = ["ADMINS_ONLY", "Request", "existing", "may_add", "new_form_id", "prototype_of",
           "record_created", "record_refused", "request"]
