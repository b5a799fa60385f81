"""A bill's row state (approvals, rejection, payments) read from the services, for every
place that renders a row: channel messages, DM cards and App Home."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlmodel import Session

from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings
from billbot.services import approvals, bill_edits
from billbot.services.bill_status import BillApprovalState, PaymentView
from billbot.services.bindings import Binding
from billbot.slackapp.row_model import PaymentState, PaymentSummary, RowState

_STATES = {"succeeded": PaymentState.SUCCEEDED, "failed": PaymentState.FAILED}


def _payment(view: PaymentView) -> PaymentSummary:
    return PaymentSummary(state=_STATES.get(view.state, PaymentState.IN_PROGRESS),
                          amount=view.amount, currency=view.currency, payer_id=view.payer_id,
                          at=view.at, reason=view.reason, currency_rate=view.currency_rate,
                          base_currency=view.base_currency)


def row_state_from(state: BillApprovalState) -> RowState:
    payments = tuple(_payment(p) for p in state.payments)
    return RowState(approvers=state.approvers, needed=state.needed,
                    rejected_by=state.rejected.by if state.rejected else None,
                    reject_reason=state.rejected.reason if state.rejected else None,
                    paid_in_round=state.paid_in_round,
                    last_payment=payments[-1] if payments else None, payments=payments,
                    held_by=state.held.by if state.held else None,
                    hold_question=state.held.question if state.held else None)


def row_state_for(session: Session, binding: Binding, bill: Bill,
                  policy: PolicySettings) -> RowState:
    state = row_state_from(approvals.state_of(session, bill=bill, binding=binding, policy=policy))
    return _with_edit(state, bill.id in bill_edits.created_here(session, binding, [bill.id]))


def row_states_for(session: Session, binding: Binding, bills: Sequence[Bill],
                   policy: PolicySettings) -> dict[str, RowState]:
    states = approvals.states_of(session, bills=bills, binding=binding, policy=policy)
    created = bill_edits.created_here(session, binding, states)
    return {bill_id: _with_edit(row_state_from(state), bill_id in created)
            for bill_id, state in states.items()}


def _with_edit(state: RowState, created_here: bool) -> RowState:
    """A bill created in billbot offers Edit on its channel rows (services/bill_edits decides
    who may use it when pressed)."""
    return replace(state, editable=True) if created_here else state


__all__ = ["row_state_for", "row_state_from", "row_states_for"]
