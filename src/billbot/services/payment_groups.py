"""One payment for several bills (async API): a pay run's started bills tied into groups,
each paid by ONE bill payment with a line per bill.

The run's `grouping` (the confirmation's choice) decides the groups through `group_key`:
'supplier' ties one supplier's bills in one currency; 'batch' ties every bill in the
company's base currency whatever its supplier (one payment with no supplierRef, on
platforms that support batch payments: BATCH_PLATFORMS), the others falling back to one
payment per supplier; 'each' ties nothing.

Every bill is started as before (`payments.start_payment`: every check, the bill claimed,
its own intent); bills refused there are left out of any group. Then, in the same
transaction as the run's confirmation and before any Codat call, the intents of each group
of two or more get `group_id` = the first one's id (the lead). Only the lead is ever leased
and sent (`intents.claim` refuses members), its body carries every member's line, and its
final transition finishes every member with it (`intents._finish_members`): a crash, a lost
answer, a double click or a second replica sees one intent to send, as for a single bill.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import Session, col, select

from billbot.codat.models import Bill
from billbot.storage.audit import BillRef, record_audit
from billbot.storage.payrun_tables import GROUPINGS, PayRun
from billbot.storage.tables import PaymentIntent

from .bindings import API_ASYNC, api_of

EACH, SUPPLIER, BATCH = GROUPINGS
# Codat: "In some accounting software (for example, Xero) your SMB customer can make a batch
# payment ... leave the supplierRef parameter blank." Only the platform it names.
BATCH_PLATFORMS = frozenset({"Xero"})
BATCH_REFUSED = ("One batch payment is not available for this company ({why}); nothing was "
                 "recorded. Open the pay run again and choose another way to pay.")
GroupKey = tuple[str, str]


def offered_for(session: Session, *, company_id: str, connection_id: str) -> bool:
    """Grouping is offered only where the company is used through the async API."""
    return api_of(session, company_id=company_id, connection_id=connection_id) == API_ASYNC


def batch_offered(session: Session, run: PayRun) -> bool:
    """One batch payment: the async API, a platform read from Codat that takes batch
    payments, and a known base currency (the batch's currency)."""
    return (run.platform in BATCH_PLATFORMS and run.base_currency is not None
            and offered_for(session, company_id=run.company_id,
                            connection_id=run.connection_id))


def choice_problem(session: Session, run: PayRun, grouping: str) -> str | None:
    """Why the confirmation's choice cannot be taken (a forged or stale form), or None."""
    if grouping not in GROUPINGS:
        return "That way of paying is unknown; nothing was recorded."
    if grouping != BATCH or batch_offered(session, run):
        return None
    if not offered_for(session, company_id=run.company_id, connection_id=run.connection_id):
        why = "it is used through Codat's sync API, which pays each bill on its own"
    elif run.platform not in BATCH_PLATFORMS:
        why = (f"its accounting platform, {run.platform}, does not take batch payments"
               if run.platform else "billbot could not read its accounting platform")
    else:
        why = "billbot could not read its base currency, the batch's currency"
    return BATCH_REFUSED.format(why=why)


def group_key(grouping: str, *, supplier_id: str, currency: str,
              base_currency: str | None) -> GroupKey | None:
    """The group a bill's payment joins under `grouping` (None: a payment of its own).
    A batch takes the base currency only: other bills fall back to their supplier's."""
    currency = currency.upper()
    if grouping == BATCH and base_currency is not None and currency == base_currency.upper():
        return ("", currency)  # every supplier
    if grouping in (SUPPLIER, BATCH):
        return (supplier_id, currency)
    return None


def payment_count(grouping: str, bills: Iterable[tuple[str, str, Decimal]],
                  base_currency: str | None,
                  limits: Mapping[str, Decimal] | None = None) -> int:
    """How many payments the (supplier id, currency, amount) bills make under `grouping`,
    with groups split where one payment would exceed the payer's limit."""
    alone = 0
    groups: dict[GroupKey, list[Decimal]] = {}
    for supplier_id, currency, amount in bills:
        key = group_key(grouping, supplier_id=supplier_id, currency=currency,
                        base_currency=base_currency)
        if key is None:
            alone += 1
        else:
            groups.setdefault(key, []).append(amount)
    return alone + sum(len(within_limit(amounts, _limit(limits, key[1])))
                       for key, amounts in groups.items())


def within_limit(amounts: Sequence[Decimal], limit: Decimal | None) -> list[list[int]]:
    """The positions of `amounts` in payments of at most `limit` each (None: one payment),
    in order: a payer's limit is the most ONE payment may be, so a group above it is split.
    Every amount alone is within it (each bill was checked when its payment was started)."""
    chunks: list[list[int]] = []
    total = Decimal(0)
    for position, amount in enumerate(amounts):
        if chunks and (limit is None or total + amount <= limit):
            chunks[-1].append(position)
            total += amount
        else:
            chunks.append([position])
            total = amount
    return chunks


def _limit(limits: Mapping[str, Decimal] | None, currency: str) -> Decimal | None:
    return limits.get(currency.upper()) if limits else None


def is_batch(intents: Iterable[PaymentIntent]) -> bool:
    """One payment's bills belong to several suppliers: it carries no supplierRef."""
    return len({str(i.bill_version.get("supplierId")) for i in intents}) > 1


def to_send(session: Session, run: PayRun, started: Sequence[tuple[str, uuid.UUID]], *,
            fresh: Mapping[str, Bill], at: datetime, actor: str, request_id: str | None,
            grouping: str | None = None,
            limits: Mapping[str, Decimal] | None = None) -> list[uuid.UUID]:
    """The intents to send for a run's `started` (bill id, intent) pairs: every one, or
    each group's lead and the bills alone in theirs. `grouping` (the confirmation's choice,
    checked by `choice_problem`) is stored on the run; None: as stored. `limits`: the
    payer's, which no one payment of a group may exceed."""
    if grouping is not None:
        session.exec(update(PayRun).where(col(PayRun.id) == run.id).values(grouping=grouping))
    grouping = run.grouping if grouping is None else grouping
    if grouping == EACH or not offered_for(session, company_id=run.company_id,
                                           connection_id=run.connection_id):
        return [intent_id for _, intent_id in started]
    if grouping == BATCH and not batch_offered(session, run):
        grouping = SUPPLIER  # never a batch the platform would refuse (checked before)
    groups: dict[GroupKey, list[tuple[str, uuid.UUID]]] = {}
    send: list[uuid.UUID] = []
    for bill_id, intent_id in started:
        bill = fresh[bill_id]
        key = group_key(grouping, supplier_id=bill.supplier_ref.id, currency=bill.currency,
                        base_currency=run.base_currency)
        if key is None:
            send.append(intent_id)
        else:
            groups.setdefault(key, []).append((bill_id, intent_id))
    amounts = _amounts(session, [i for members in groups.values() for _, i in members])
    for key, members in groups.items():
        for chunk in within_limit([amounts[i] for _, i in members], _limit(limits, key[1])):
            tied = [members[position] for position in chunk]
            send.append(tied[0][1])
            if len(tied) > 1:
                _tie(session, run, tied, at=at, actor=actor, request_id=request_id, fresh=fresh)
    return send


def _amounts(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    """What each intent pays (its committed amount, as sent)."""
    found: dict[uuid.UUID, Decimal] = {}
    for start in range(0, len(ids), 500):
        found.update({row[0]: row[1] for row in session.exec(
            select(col(PaymentIntent.id), col(PaymentIntent.amount))
            .where(col(PaymentIntent.id).in_(ids[start:start + 500])))})
    return found


def _tie(session: Session, run: PayRun, members: list[tuple[str, uuid.UUID]], *,
         at: datetime, actor: str, request_id: str | None, fresh: Mapping[str, Bill]) -> None:
    lead = members[0][1]
    ids = [intent_id for _, intent_id in members]
    # Only never-sent intents (just committed by this transaction) can be tied.
    tied = session.exec(update(PaymentIntent).where(
        col(PaymentIntent.id).in_(ids), col(PaymentIntent.state) == "created",
        col(PaymentIntent.first_sent_at).is_(None), col(PaymentIntent.group_id).is_(None))
        .values(group_id=lead))
    if tied.rowcount != len(ids):
        raise RuntimeError("a pay run's new intents could not be grouped")  # rolls back all
    reference = session.exec(select(PaymentIntent.payment_reference)
                             .where(col(PaymentIntent.id) == lead)).one()
    references = [fresh[bill_id].reference or bill_id for bill_id, _ in members]
    suppliers = len({fresh[bill_id].supplier_ref.id for bill_id, _ in members})
    for bill_id, intent_id in members:
        record_audit(session, at=at, actor=actor, action="payment.grouped",
                     bill=BillRef(run.company_id, run.connection_id, bill_id),
                     request_id=request_id,
                     detail={"intent_id": str(intent_id), "group_id": str(lead),
                             "group_reference": reference, "run_id": str(run.id),
                             "group_bills": len(members), "group_suppliers": suppliers,
                             "batch": suppliers > 1, "bills": references})


__all__ = ["BATCH", "BATCH_PLATFORMS", "EACH", "SUPPLIER", "batch_offered", "choice_problem",
           "group_key", "is_batch", "offered_for", "payment_count", "to_send"]
