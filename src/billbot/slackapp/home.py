"""App Home: publishing each person's Home tab (views.publish) when they open it and again,
coalesced, whenever a bill their view shows (or that now waits on them) changes."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import partial

from sqlmodel import Session

from billbot.codat.models import Bill
from billbot.domain.copies import version_token
from billbot.domain.policy import Role
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import approvals, roles
from billbot.services import bindings as bindings_service
from billbot.services.bill_search import bills_by_id
from billbot.services.bill_status import BillApprovalState
from billbot.services.bindings import Binding
from billbot.services.recent_payments import RecentPayment, paid_since
from billbot.services.waiting import waits_on
from billbot.slackapp.blocks import Block
from billbot.slackapp.digest_actions import approve_all_button, pay_approved_bills_button
from billbot.slackapp.home_blocks import (
    ACTION_HOME_APPROVE_ALL,
    ACTION_HOME_PAYRUN,
    HELD,
    PAGE_SIZE,
    PAID,
    REJECTED,
    WAITING,
    HomeContent,
    HomeRow,
    PaidLine,
    home_view,
    no_role_view,
    page_of,
    rows_sorted,
)
from billbot.slackapp.row_states import row_state_from
from billbot.storage import delegations, personal

logger = logging.getLogger("billbot.home")

# Home lists every open bill, not only the digest's window.
HOME_HORIZON_DAYS = 3650
PAID_WITHIN = timedelta(days=7)
_ROLE_ORDER = (Role.APPROVER, Role.PAYER, Role.ADMIN)


def home_actions(user_roles: frozenset[Role]) -> list[Block]:
    """Buttons acting on many bills, under the title: `Pay approved bills` for payers,
    `Approve all` for approvers."""
    buttons: list[Block] = []
    if Role.PAYER in user_roles:
        buttons.append({**pay_approved_bills_button(), "action_id": ACTION_HOME_PAYRUN})
    if Role.APPROVER in user_roles:
        buttons.append({**approve_all_button(), "action_id": ACTION_HOME_APPROVE_ALL})
    return [{"type": "actions", "block_id": "home-actions", "elements": buttons}] if buttons else []


def held_bills(bot: Billbot, binding: Binding, bills: Sequence[Bill], *,
               states: Mapping[str, BillApprovalState] | None = None) -> set[str]:
    """The ids of the bills on hold (the hold is part of each bill's approval state)."""
    return {b.id for b in bills if states and (st := states.get(b.id)) and st.held is not None}


async def home_opened(bot: Billbot, user_id: str) -> None:
    await bot.db(lambda s: personal.opened_home(s, user_id=user_id, at=bot.clock.now()))
    await publish_home(bot, user_id)


async def turn_page(bot: Billbot, user_id: str, value: str) -> None:
    section, _, page = value.partition(":")
    if section not in (WAITING, HELD, REJECTED, PAID) or not page.isdigit() or len(page) > 4:
        return
    await bot.db(lambda s: personal.set_home_page(s, user_id=user_id, section=section,
                                                  page=int(page), at=bot.clock.now()))
    await publish_home(bot, user_id)


async def publish_home(bot: Billbot, user_id: str) -> None:
    """Read what waits on the person now and publish their Home tab."""
    now = bot.clock.now()

    def who(session: Session) -> tuple[frozenset[Role], list[str], dict[str, int], list[str]]:
        # A delegate (`/bills away`) holds the roles of the people they cover, and what waits
        # on those people waits on them.
        return (roles.roles_of(session, bot.policy, user_id, at=now),
                sorted(roles.members(session, bot.policy, Role.ADMIN)),
                personal.home_pages(session, user_id=user_id),
                delegations.absentees_covered_by(session, user_id, now))

    user_roles, admins, pages, covered = await bot.db(who, read_only=True)
    keys: dict[str, str] = {}
    if not user_roles:
        view = no_role_view(admins)
    else:
        content, keys = await _content(bot, user_id, user_roles, pages, covered=covered)
        view = home_view(content, today=bot.today())
    await bot.slack.views_publish(user_id=user_id, view=view)
    await bot.db(lambda s: personal.home_published(s, user_id=user_id, keys=list(keys),
                                                   at=bot.clock.now(), tokens=keys))
    event(logger, "home published", blocks=len(view["blocks"]))


async def _content(bot: Billbot, user_id: str, user_roles: frozenset[Role],
                   pages: dict[str, int], *, covered: Sequence[str] = ()
                   ) -> tuple[HomeContent, dict[str, str]]:
    """The sections, and each bill shown with the figures shown (bill key -> version token)."""
    content = HomeContent(roles=[r.value for r in _ROLE_ORDER if r in user_roles], pages=pages,
                          extra_actions=home_actions(user_roles))
    waiting: list[HomeRow] = []
    held: list[HomeRow] = []
    rejected: list[HomeRow] = []
    keys: dict[str, str] = {}
    bound = await bot.db(lambda s: bindings_service.list_bindings(s), read_only=True)
    for binding in _one_per_company(bound):
        bills = await bot.due_bills(binding, within_days=HOME_HORIZON_DAYS)
        states, approvers, payers = await _states(bot, binding, bills)
        # The viewer with a delegated role counts among that role's people here.
        approvers |= {user_id} if Role.APPROVER in user_roles else set()
        payers |= {user_id} if Role.PAYER in user_roles else set()
        on_hold = held_bills(bot, binding, bills, states=states)
        for bill in bills:
            state = states.get(bill.id)
            if state is None:
                continue
            row = HomeRow(bill=bill, state=row_state_from(state, currency=bill.currency),
                          channel_id=binding.channel_id)
            if bill.id in on_hold:
                held.append(row)
            elif state.rejected is not None:
                rejected.append(row)
            elif {user_id, *covered} & set(waits_on(bill, state, approvers=approvers,
                                                    payers=payers, policy=bot.policy)):
                waiting.append(row)
            else:
                continue
            key = personal.bill_key(binding.company_id, binding.connection_id, bill.id)
            keys[key] = version_token(bill)
    content.sections = {WAITING: rows_sorted(waiting), HELD: rows_sorted(held),
                        REJECTED: rows_sorted(rejected)}
    content.paid = await _paid_lines(bot, bound, pages)
    return content, keys


def _one_per_company(bound: Sequence[Binding]) -> list[Binding]:
    """Two channels bound to one company show its bills once (the first channel's)."""
    seen: dict[tuple[str, str], Binding] = {}
    for b in sorted(bound, key=lambda b: b.channel_id):
        seen.setdefault((b.company_id, b.connection_id), b)
    return list(seen.values())


async def _states(bot: Billbot, binding: Binding, bills: Sequence[Bill]
                  ) -> tuple[dict[str, BillApprovalState], frozenset[str], frozenset[str]]:
    def read(session: Session) -> tuple[dict[str, BillApprovalState], frozenset[str],
                                         frozenset[str]]:
        return (approvals.states_of(session, bills=bills, binding=binding, policy=bot.policy),
                roles.members(session, bot.policy, Role.APPROVER),
                roles.members(session, bot.policy, Role.PAYER))
    return await bot.db(read, read_only=True)


async def _paid_lines(bot: Billbot, bound: Sequence[Binding],
                      pages: dict[str, int]) -> list[PaidLine]:
    """The payments of the last 7 days; the bills of the page shown are read from Codat for
    their reference and supplier (one query per company)."""
    since = bot.clock.now() - PAID_WITHIN
    known = {(b.company_id, b.connection_id) for b in bound}
    paid = [p for p in await bot.db(lambda s: paid_since(s, since), read_only=True)
            if (p.company_id, p.connection_id) in known]
    page, _ = page_of(len(paid), PAID, pages)
    size = PAGE_SIZE[PAID]
    shown = paid[page * size:(page + 1) * size]
    bills: dict[tuple[str, str, str], Bill] = {}
    for company, connection in {(p.company_id, p.connection_id) for p in shown}:
        try:
            found = await bills_by_id(bot.codat, company, connection,
                                      [p.bill_id for p in shown if p.company_id == company])
        except Exception:
            logger.warning("paid bills could not be read for Home")
            found = {}
        bills.update({(company, connection, k): v for k, v in found.items()})
    lines = [_paid_line(p, bills.get((p.company_id, p.connection_id, p.bill_id))) for p in paid]
    return lines


def _paid_line(payment: RecentPayment, bill: Bill | None) -> PaidLine:
    return PaidLine(reference=(bill.reference or bill.id) if bill else payment.bill_id,
                    supplier=(bill.supplier_ref.supplier_name or bill.supplier_ref.id)
                    if bill else "", amount=payment.amount, currency=payment.currency,
                    payer_id=payment.payer_id, at=payment.at)


async def bill_changed(bot: Billbot, binding: Binding, bill: Bill) -> None:
    """Re-publish (coalesced) the Home of everyone whose view shows the bill or whom it now
    waits on, among the people who have opened Home."""
    key = personal.bill_key(binding.company_id, binding.connection_id, bill.id)
    states, approvers, payers = await _states(bot, binding, [bill])
    state = states.get(bill.id)
    waiting = set() if state is None else set(waits_on(bill, state, approvers=approvers,
                                                       payers=payers, policy=bot.policy))

    def read(session: Session) -> set[str]:
        viewers = personal.home_viewers(session)
        return {v.user_id for v in viewers if key in (v.bill_keys or []) or v.user_id in waiting}

    for user in sorted(await bot.db(read, read_only=True)):
        bot.later.request(f"home:{user}", partial(publish_home, bot, user))


__all__ = ["bill_changed", "held_bills", "home_opened", "publish_home", "turn_page"]
