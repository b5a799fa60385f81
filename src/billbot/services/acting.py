"""Acting for someone away (`/bills away`): whose role a click uses, and separation of duties
counted over both people.

A delegate acts with an absent person's approver or payer role. An approval is recorded in
the absent person's name (`approval.user_id`) with the delegate as `acted_by`, so one person
counts once however many people click for them; a payment keeps the delegate as `payer_id`
(the outcome goes to who clicked) and the absent payer as `on_behalf_of`. Nobody gains both
approve and pay on one bill: whoever clicked and whoever they acted for are both counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from billbot.domain.policy import PolicySettings, Role
from billbot.storage.tables import Approval, BillTrack, PaymentIntent

from .roles import acting_for, roles_of


@dataclass(frozen=True)
class Acting:
    """Who clicked, and in whose name(s) they may act; `on_behalf` empty: their own role."""

    user_id: str
    on_behalf: tuple[str, ...] = ()


def acting_as(session: Session, policy: PolicySettings, user_id: str, role: Role,
              at: datetime) -> Acting | None:
    """How `user_id` may act with `role` at `at`: on their own (preferred), for the people
    they cover, or not at all (None)."""
    if role in roles_of(session, policy, user_id):
        return Acting(user_id)
    covered = acting_for(session, policy, user_id, role, at)
    return Acting(user_id, tuple(covered)) if covered else None


def people_who_approved(decisions: Sequence[Approval]) -> frozenset[str]:
    """Everyone an approval of the round involves: the people approved for and who clicked."""
    people: set[str] = set()
    for d in decisions:
        if d.decision == "approve":
            people.add(d.user_id)
            if d.acted_by:
                people.add(d.acted_by)
    return frozenset(people)


def people_who_paid(session: Session, track: BillTrack) -> frozenset[str]:
    """Everyone a payment of the track's round involves (failed ones aside)."""
    rows = session.exec(select(PaymentIntent).where(
        PaymentIntent.bill_track_id == track.id, PaymentIntent.round == track.round,
        PaymentIntent.state != "failed")).all()
    people: set[str] = set()
    for intent in rows:
        people.add(intent.payer_id)
        if intent.on_behalf_of:
            people.add(intent.on_behalf_of)
    return frozenset(people)


def approval_principal(acting: Acting, decisions: Sequence[Approval]) -> tuple[str | None, str]:
    """In whose name this approval is recorded, or None with what to tell the clicker."""
    clicked = {d.acted_by or d.user_id: d for d in decisions if d.decision == "approve"}
    mine = clicked.get(acting.user_id)
    if mine is not None:
        if mine.acted_by:
            return None, f"You have already approved this bill on behalf of <@{mine.user_id}>."
        return None, "You have already approved this bill."
    if not acting.on_behalf:
        return acting.user_id, ""
    named = {d.user_id: d for d in decisions if d.decision == "approve"}
    for absent in acting.on_behalf:
        if absent not in named:
            return absent, ""
    first = named[acting.on_behalf[0]]
    by = f" (by <@{first.acted_by}>)" if first.acted_by else ""
    return None, f"<@{first.user_id}> has already approved this bill{by}."


def payment_principal(acting: Acting, approved: frozenset[str], policy: PolicySettings
                      ) -> tuple[str | None, str | None]:
    """(on_behalf_of, refusal): the absent payer a delegate pays for, None for their own role;
    a refusal when every choice would let one person both approve and pay the bill."""
    if not acting.on_behalf:
        return None, None
    if policy.payer_cannot_approve and acting.user_id in approved:
        return None, "You approved this bill, so someone else has to pay it."
    for absent in acting.on_behalf:
        if not policy.payer_cannot_approve or absent not in approved:
            return absent, None
    names = ", ".join(f"<@{a}>" for a in acting.on_behalf)
    return None, (f"You would pay for {names}, who approved this bill, so someone else has to "
                  "pay it.")


__all__ = ["Acting", "acting_as", "approval_principal", "payment_principal",
           "people_who_approved", "people_who_paid"]
