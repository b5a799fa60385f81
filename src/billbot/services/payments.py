"""Starting a payment: every check, then the intent committed BEFORE Codat is called.

`start_payment` runs in one transaction: it re-checks the payer's role and segregation of
duties, that the round's approvals cover the FRESH bill, that the bill is payable for that
amount, and claims the bill (`bill_track.open_intent_id`, a conditional update) so at most
one payment is in progress per bill. The intent it creates carries a new uuid4
Idempotency-Key that every later attempt reuses. `PaymentRunner.execute` then sends it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import Session, col

from billbot.codat.models import Bill
from billbot.domain.bill_controls import Control, payer_limit_problem
from billbot.domain.policy import PolicySettings, Role, can_pay, deny
from billbot.domain.versions import BillVersion
from billbot.money import both_amounts, converted, format_money
from billbot.storage.audit import BillRef, record_audit
from billbot.storage.tables import BillTrack, PaymentIntent

from . import tracks
from .acting import acting_as, payment_principal, people_who_approved
from .bill_status import BillApprovalState, held_refusal
from .bindings import API_ASYNC, api_of
from .payability import PAYMENT_IN_PROGRESS, chain_refusal, payment_problem
from .policy_state import evaluate, facts_of, groups_for
from .roles import record_refusal, roles_of


class StartOutcome(StrEnum):
    STARTED = "started"
    REFUSED = "refused"
    IN_PROGRESS = "in_progress"


@dataclass(frozen=True)
class StartResult:
    outcome: StartOutcome
    message: str
    intent_id: uuid.UUID | None
    state: BillApprovalState


@dataclass(frozen=True)
class CreditUse:
    """Part of a payment's amount taken from a supplier credit note (async API only)."""

    note_id: str
    number: str | None
    amount: Decimal


NO_CREDIT_HERE = ("Credit notes can be applied only to bills of a company used through "
                  "Codat's async Bill Pay API; nothing was recorded.")

JUST_PAID = ("A payment of this bill was just recorded through billbot (its row shows it); "
             "nothing new was started.")


def _rate_detail(amount: Decimal, intent: PaymentIntent) -> dict[str, str]:
    """A foreign-currency payment's rate and the amount leaving the account, for the audit."""
    rate = intent.rate
    if rate is None or intent.base_currency is None:
        return {}
    return {"currency_rate": format(rate, "f"), "base_currency": intent.base_currency,
            "base_amount": format(converted(amount, rate, intent.base_currency), "f"),
            "shown": both_amounts(amount, intent.currency, rate, intent.base_currency)}


def _credit_detail(intent: PaymentIntent) -> dict[str, str]:
    if intent.credit_note_id is None or intent.credit_amount is None:
        return {}
    return {"credit_note_id": intent.credit_note_id,
            "credit_note_number": intent.credit_note_number or "",
            "credit_amount": format(intent.credit_amount, "f"),
            "cash_amount": format(intent.cash_amount, "f")}


def start_payment(
    session: Session,
    *,
    bill_ref: BillRef,
    fresh_bill: Bill,
    user_id: str,
    request_id: str | None,
    amount: Decimal,
    account_id: str,
    account_name: str | None,
    payment_date: date,
    channel_id: str | None,
    message_ts: str | None,
    policy: PolicySettings,
    at: datetime,
    view_id: str | None = None,
    currency_rate: Decimal | None = None,
    base_currency: str | None = None,
    controls: Sequence[Control] = (),
    not_duplicate: bool = False,
    payer_limits: Mapping[str, Decimal] | None = None,
    credit: CreditUse | None = None,
) -> StartResult:
    """`controls`: what the bill meets now (services/controls.py); a possible duplicate is
    paid only with `not_duplicate` (the review's checkbox). `payer_limits`: the payer's, from
    the policy (None: none apply). `credit`: `amount` is all that comes off the bill, this
    much of it from a credit note (the payer limit counts only what leaves the account)."""
    if fresh_bill.id != bill_ref.bill_id:
        raise ValueError("fresh_bill is not the bill bill_ref names")
    current = BillVersion.of(fresh_bill)
    track = tracks.load_track(session, bill_ref)

    def state() -> BillApprovalState:
        return tracks.state_for_track(session, ref=bill_ref, track=tracks.load_track(
            session, bill_ref), current=current, policy=policy)

    def refuse(reason: str, outcome: StartOutcome = StartOutcome.REFUSED) -> StartResult:
        record_audit(session, at=at, actor=user_id, action="payment.refused", bill=bill_ref,
                     bill_version=current.to_json(), request_id=request_id,
                     detail={"reason": reason, "amount": format(amount, "f"),
                             "account_id": account_id, "reference": fresh_bill.reference})
        return StartResult(outcome, reason, None, state())

    decisions = tracks.round_decisions(session, track) if track else []
    approvers = tracks.approvers_of(decisions)
    # Separation of duties counts whoever clicked an approval and whoever it was for.
    approved = people_who_approved(decisions)
    acting = acting_as(session, policy, user_id, Role.PAYER, at)
    on_behalf_of, sod = (None, None) if acting is None else payment_principal(
        acting, approved, policy)
    decision = can_pay(user_id, roles_of(session, policy, user_id, at=at), policy,
                       tuple(approved))
    if decision and sod:
        decision = deny(sod)
    if not decision:
        record_refusal(session, actor=user_id, action="pay", request_id=request_id, at=at,
                       reason=decision.reason, company_id=bill_ref.company_id,
                       connection_id=bill_ref.connection_id, bill_id=bill_ref.bill_id,
                       bill_version=current.to_json())
        return StartResult(StartOutcome.REFUSED, decision.reason, None, state())
    if track is None and policy.rules is not None:
        track = tracks.ensure_track(session, bill_ref, current, at)  # an auto-approved bill
    if track is None:
        return refuse("The bill has not been approved yet.")
    if track.open_intent_id is not None:
        return refuse(PAYMENT_IN_PROGRESS, StartOutcome.IN_PROGRESS)
    held = tracks.hold_of(track)
    if held is not None:
        return refuse(held_refusal(held, "paid"))
    if not tracks.is_current(track, current):
        if tracks.predates_own_payment(session, track, current):
            return refuse(JUST_PAID, StartOutcome.IN_PROGRESS)
        return refuse("The bill changed in the accounting software since it was approved, "
                      "so it needs approving again.")
    if track.state == "rejected":
        return refuse("The bill was rejected; an approver has to approve it before it is paid.")
    match, chain = evaluate(policy, facts_of(current, tracks.baseline_of(track)), decisions,
                            groups_for(session, policy))
    if not chain.met:
        return refuse(chain_refusal(policy, match, chain, len(approvers)))
    if chain.auto:
        assert match.rule is not None
        record_audit(session, at=at, actor="policy", action="approval.auto", bill=bill_ref,
                     bill_version=current.to_json(), request_id=request_id,
                     detail={"rule": match.rule.name, "policy_version": policy.version,
                             "round": track.round, "reference": fresh_bill.reference})
    problem = payment_problem(fresh_bill, amount)
    if problem:
        return refuse(problem)
    api = api_of(session, company_id=bill_ref.company_id, connection_id=bill_ref.connection_id)
    if credit is not None and (api != API_ASYNC or not 0 < credit.amount <= amount):
        return refuse(NO_CREDIT_HERE if api != API_ASYNC else
                      "The credit applied must be more than zero and at most the amount.")
    cash = amount - (credit.amount if credit else Decimal(0))
    limit = payer_limit_problem(payer_limits, currency=fresh_bill.currency, amount=cash) \
        if cash > 0 else None
    if limit:
        return refuse(limit)
    twin = next((c for c in controls if c.needs_confirmation), None)
    if twin is not None and not not_duplicate:
        return refuse(f"{twin.short}: it is paid only on its own, with Pay, after confirming "
                      "in the review that it is not a duplicate.")

    intent_id = uuid.uuid4()
    claimed = session.exec(
        update(BillTrack)
        .where(col(BillTrack.id) == track.id, col(BillTrack.round) == track.round,
               col(BillTrack.open_intent_id).is_(None), col(BillTrack.held_by).is_(None))
        .values(open_intent_id=intent_id, updated_at=at)
    )
    if claimed.rowcount != 1:
        # Lost a race: another payment started, the bill was put on hold, or the round
        # changed, since we read it.
        held = tracks.hold_of(tracks.load_track(session, bill_ref))
        if held is not None:
            return refuse(held_refusal(held, "paid"))
        return refuse(PAYMENT_IN_PROGRESS, StartOutcome.IN_PROGRESS)
    assert track.id is not None
    # The async API has no Idempotency-Key: its payment carries this unique reference instead.
    key = uuid.uuid4()
    intent = PaymentIntent(
        id=intent_id, bill_track_id=track.id, idempotency_key=str(key), codat_api=api,
        payment_reference=f"billbot-{key.hex}" if api == API_ASYNC else None,
        state="created", amount=amount, currency=fresh_bill.currency.upper(),
        account_id=account_id, account_name=account_name, payment_date=payment_date,
        payer_id=user_id, round=track.round, bill_version=current.to_json(), attempts=0,
        created_at=at, channel_id=channel_id, message_ts=message_ts, request_id=request_id,
        view_id=view_id,
        currency_rate=format(currency_rate, "f") if currency_rate is not None else None,
        base_currency=base_currency.upper() if currency_rate is not None and base_currency else None,
        on_behalf_of=on_behalf_of,
        credit_note_id=credit.note_id if credit else None,
        credit_note_number=credit.number if credit else None,
        credit_amount=credit.amount if credit else None,
    )
    session.add(intent)
    record_audit(session, at=at, actor=user_id, action="payment.started", bill=bill_ref,
                 bill_version=current.to_json(), request_id=request_id,
                 detail={"intent_id": str(intent_id), "idempotency_key": intent.idempotency_key,
                         "codat_api": api, "payment_reference": intent.payment_reference,
                         "amount": format(amount, "f"), "currency": intent.currency,
                         "account_id": account_id, "account_name": account_name,
                         "payment_date": payment_date.isoformat(), "round": track.round,
                         "approvers": list(approvers), "reference": fresh_bill.reference,
                         **_rate_detail(amount, intent), **_credit_detail(intent),
                         **({"on_behalf_of": on_behalf_of} if on_behalf_of else {})})
    if controls:  # the payer saw these warnings and went on: said once, with the payment
        record_audit(session, at=at, actor=user_id, action="payment.controls_overridden",
                     bill=bill_ref, bill_version=current.to_json(), request_id=request_id,
                     detail={"intent_id": str(intent_id), "reference": fresh_bill.reference,
                             "controls": [c.kind.value for c in controls],
                             "warnings": [c.detail for c in controls],
                             "checked_not_duplicate": not_duplicate})
    session.flush()
    message = (f"Applying {format_money(credit.amount, intent.currency)} of credit…" if credit
               else f"Paying {format_money(amount, intent.currency)}…")
    return StartResult(StartOutcome.STARTED, message, intent_id, state())


__all__ = ["NO_CREDIT_HERE", "CreditUse", "StartOutcome", "StartResult", "start_payment"]
