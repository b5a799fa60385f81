"""Who is reminded of which bill, and which bills are escalated to the admins.

A bill due within BILLBOT_REMIND_DAYS_BEFORE days (or overdue) that still awaits approval is
a reminder to every approver whose approval it still lacks, or to their delegate while they
are away; one still unapproved BILLBOT_ESCALATE_AFTER_HOURS after the end of its due date is
escalated to the admins. Rejected bills wait on their rejection and held bills on their
release, not on approvers, and a bill being paid waits on nobody: none of them is reminded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlmodel import Session

from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings, Role
from billbot.domain.reminders import escalation_due
from billbot.storage import delegations

from .approvals import states_of
from .bindings import Binding
from .roles import members
from .waiting import asked_to_approve

Kind = Literal["reminder", "escalation"]


@dataclass(frozen=True)
class Notice:
    kind: Kind
    bill: Bill
    recipients: tuple[str, ...]
    # recipient -> the absent approver they cover (reminders sent to a delegate)
    covering: dict[str, str] = field(default_factory=dict)
    # escalations: the approvers (or delegates) the bill still waits on
    waiting_on: tuple[str, ...] = ()


def plan(session: Session, policy: PolicySettings, *, binding: Binding, bills: Sequence[Bill],
         now: datetime, tz: ZoneInfo, escalate_after_hours: float) -> list[Notice]:
    """The reminders and escalations these bills call for now (the caller has already kept
    only bills inside the reminder window)."""
    if not bills:
        return []
    states = states_of(session, bills=bills, binding=binding, policy=policy)
    approvers = members(session, policy, Role.APPROVER)
    admins = tuple(sorted(members(session, policy, Role.ADMIN)))
    notices: list[Notice] = []
    for bill in bills:
        state = states[bill.id]
        if (state.is_approved or state.rejected is not None or state.payment_in_progress
                or state.held is not None):  # a held bill waits on its release, not approvers
            continue
        recipients: list[str] = []
        covering: dict[str, str] = {}
        for approver in sorted(asked_to_approve(state, approvers)):  # the current step's
            delegate = delegations.delegate_of(session, approver, now)
            person = delegate or approver
            if delegate:
                covering.setdefault(delegate, approver)
            if person not in recipients:
                recipients.append(person)
        if recipients:
            notices.append(Notice("reminder", bill, tuple(recipients), covering))
        if admins and escalation_due(bill.due_date, now, tz, escalate_after_hours):
            notices.append(Notice("escalation", bill, admins, waiting_on=tuple(recipients)))
    return notices


__all__ = ["Kind", "Notice", "plan"]
