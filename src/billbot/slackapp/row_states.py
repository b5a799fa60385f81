"""A bill's row state (approvals, rejection, payments) read from the services, for every
place that renders a row: channel messages, DM cards and App Home."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import Session

from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings, Role
from billbot.services import approvals, bill_edits, controls, undo
from billbot.services.bill_status import BillApprovalState, PaymentView
from billbot.services.bindings import API_ASYNC, Binding
from billbot.services.roles import members
from billbot.slackapp.policy_lines import chain_lines
from billbot.slackapp.row_model import PaymentState, PaymentSummary, RowState, UndoView

# When rows are drawn and the undo window (BILLBOT_UNDO_WINDOW_HOURS): async bindings' rows
# then offer Undo payment and Delete bill where they apply.
UndoClock = tuple[datetime, timedelta]

_STATES = {"succeeded": PaymentState.SUCCEEDED, "failed": PaymentState.FAILED}


def _payment(view: PaymentView) -> PaymentSummary:
    return PaymentSummary(state=_STATES.get(view.state, PaymentState.IN_PROGRESS),
                          amount=view.amount, currency=view.currency, payer_id=view.payer_id,
                          at=view.at, reason=view.reason, currency_rate=view.currency_rate,
                          base_currency=view.base_currency,
                          recording=view.codat_api == "async",
                          credit_amount=view.credit_amount)


def row_state_from(state: BillApprovalState, *, currency: str = "",
                   admins: Sequence[str] = ()) -> RowState:
    payments = tuple(_payment(p) for p in state.payments)
    lines = chain_lines(state.match, state.chain, currency=currency, admins=admins)
    met = state.chain.met if lines and state.chain is not None else None
    return RowState(approvers=state.approvers, needed=state.needed,
                    rejected_by=state.rejected.by if state.rejected else None,
                    reject_reason=state.rejected.reason if state.rejected else None,
                    paid_in_round=state.paid_in_round,
                    last_payment=payments[-1] if payments else None, payments=payments,
                    held_by=state.held.by if state.held else None,
                    hold_question=state.held.question if state.held else None,
                    chain_lines=lines, chain_met=met)


def row_state_for(session: Session, binding: Binding, bill: Bill,
                  policy: PolicySettings, *, undo_clock: UndoClock | None = None) -> RowState:
    state = row_state_from(approvals.state_of(session, bill=bill, binding=binding, policy=policy),
                           currency=bill.currency, admins=_admins(session, policy))
    state = _with_edit(state, bill.id in bill_edits.created_here(session, binding, [bill.id]))
    state = replace(state, credit_notes=binding.codat_api == API_ASYNC)
    state = _with_warnings(state, _warnings(session, binding, [bill.id]).get(bill.id))
    return _with_undo(session, binding, [bill], {bill.id: state}, undo_clock)[bill.id]


def _with_undo(session: Session, binding: Binding, bills: Sequence[Bill],
               states: dict[str, RowState], at: UndoClock | None) -> dict[str, RowState]:
    if at is None:
        return states
    facts = undo.row_facts(session, binding, list(bills), now=at[0], window=at[1])
    out = dict(states)
    for bill_id, fact in facts.items():
        if bill_id in out:
            last = fact.last
            view = None if last is None else UndoView(kind=last.kind, state=last.state,
                                                      by=last.actor, reason=last.reason,
                                                      error=last.last_error)
            out[bill_id] = replace(out[bill_id], can_undo=fact.can_undo,
                                   can_delete=fact.can_delete, undo=view)
    return out


def row_states_for(session: Session, binding: Binding, bills: Sequence[Bill],
                   policy: PolicySettings, *,
                   undo_clock: UndoClock | None = None) -> dict[str, RowState]:
    states = approvals.states_of(session, bills=bills, binding=binding, policy=policy)
    created = bill_edits.created_here(session, binding, states)
    admins = _admins(session, policy)
    currency = {b.id: b.currency for b in bills}
    warned = _warnings(session, binding, states)
    credit = binding.codat_api == API_ASYNC
    return _with_undo(session, binding, bills, {
        bill_id: _with_warnings(replace(_with_edit(row_state_from(
            state, currency=currency.get(bill_id, ""), admins=admins), bill_id in created),
            credit_notes=credit), warned.get(bill_id))
        for bill_id, state in states.items()}, undo_clock)


def _admins(session: Session, policy: PolicySettings) -> tuple[str, ...]:
    """Named on a row no rule matches (only looked up under rules)."""
    return tuple(sorted(members(session, policy, Role.ADMIN))) if policy.rules else ()


def _warnings(session: Session, binding: Binding,
              bill_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    return controls.row_lines(session, company_id=binding.company_id,
                              connection_id=binding.connection_id, bill_ids=bill_ids)


def _with_warnings(state: RowState, lines: tuple[str, ...] | None) -> RowState:
    return replace(state, warnings=lines) if lines else state


def _with_edit(state: RowState, created_here: bool) -> RowState:
    """A bill created in billbot offers Edit on its channel rows (services/bill_edits decides
    who may use it when pressed)."""
    return replace(state, editable=True) if created_here else state


__all__ = ["row_state_for", "row_state_from", "row_states_for"]
