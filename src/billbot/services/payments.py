"""Starting a payment: every check, then the intent committed BEFORE Codat is called.

`start_payment` runs in one transaction: it re-checks the payer's role and segregation of
duties, that the round's approvals cover the FRESH bill, that the bill is payable for that
amount, and claims the bill (`bill_track.open_intent_id`, a conditional update) so at most
one payment is in progress per bill. The intent it creates carries a new uuid4
Idempotency-Key that every later attempt reuses. `PaymentRunner.execute` then sends it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import Session, col

from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings, Role, can_pay, deny
from billbot.domain.versions import BillVersion
from billbot.money import both_amounts, converted, format_money
from billbot.storage.audit import BillRef, record_audit
from billbot.storage.tables import BillTrack, PaymentIntent

from . import tracks
from .acting import acting_as, payment_principal, people_who_approved
from .bill_status import BillApprovalState, held_refusal
from .payability import PAYMENT_IN_PROGRESS, payment_problem
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
) -> StartResult:
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
    needed = tracks.needed_approvals(policy, tracks.baseline_of(track))
    if len(approvers) < needed:
        return refuse(f"The bill needs {needed} approvals and has {len(approvers)}.")
    problem = payment_problem(fresh_bill, amount)
    if problem:
        return refuse(problem)

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
    intent = PaymentIntent(
        id=intent_id, bill_track_id=track.id, idempotency_key=str(uuid.uuid4()),
        state="created", amount=amount, currency=fresh_bill.currency.upper(),
        account_id=account_id, account_name=account_name, payment_date=payment_date,
        payer_id=user_id, round=track.round, bill_version=current.to_json(), attempts=0,
        created_at=at, channel_id=channel_id, message_ts=message_ts, request_id=request_id,
        view_id=view_id,
        currency_rate=format(currency_rate, "f") if currency_rate is not None else None,
        base_currency=base_currency.upper() if currency_rate is not None and base_currency else None,
        on_behalf_of=on_behalf_of,
    )
    session.add(intent)
    record_audit(session, at=at, actor=user_id, action="payment.started", bill=bill_ref,
                 bill_version=current.to_json(), request_id=request_id,
                 detail={"intent_id": str(intent_id), "idempotency_key": intent.idempotency_key,
                         "amount": format(amount, "f"), "currency": intent.currency,
                         "account_id": account_id, "account_name": account_name,
                         "payment_date": payment_date.isoformat(), "round": track.round,
                         "approvers": list(approvers), "reference": fresh_bill.reference,
                         **_rate_detail(amount, intent),
                         **({"on_behalf_of": on_behalf_of} if on_behalf_of else {})})
    session.flush()
    message = f"Paying {format_money(amount, intent.currency)}…"
    return StartResult(StartOutcome.STARTED, message, intent_id, state())


__all__ = ["StartOutcome", "StartResult", "start_payment"]
