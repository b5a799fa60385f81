"""A pay run's review: answered in the acknowledgement of the form's last page (no Codat
call), and the confirmation's choice of how the bills become payments read back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from billbot.context_token import ModalContext
from billbot.money import converted
from billbot.runtime import Billbot
from billbot.services import payment_groups, payruns
from billbot.services.payrun_plan import issued_after
from billbot.services.payruns import Choice
from billbot.slackapp.payer_limits import limits_for
from billbot.slackapp.payload import dig, view_value
from billbot.slackapp.payrun_review_blocks import BLOCK_GROUPING, ReviewLine, Way, review_modal
from billbot.storage.payrun_tables import PayRun, PayRunItem


def _first_group(view: Any) -> str:
    values = dig(view, "state", "values")
    return next((b for b in values if str(b).startswith("bills-")), "date") \
        if isinstance(values, dict) else "date"


def chosen_grouping(view: Any) -> str:
    """The review's choice as submitted (`payment_groups.choice_problem` judges it);
    one payment per bill when the review offered no choice."""
    picked = dig(view_value(view, BLOCK_GROUPING, BLOCK_GROUPING), "selected_option", "value")
    return picked[:32] if isinstance(picked, str) else payment_groups.EACH


def ways_of(session: Session, run: PayRun, paid: list[PayRunItem],
            limits: Mapping[str, Decimal] | None = None) -> list[Way]:
    """The groupings offered for `paid` and the payments each makes (none on the sync API;
    a batch only where the platform takes one; none above the payer's `limits`)."""
    if not payment_groups.offered_for(session, company_id=run.company_id,
                                      connection_id=run.connection_id):
        return []
    offered = [payment_groups.EACH, payment_groups.SUPPLIER]
    if payment_groups.batch_offered(session, run):
        offered.append(payment_groups.BATCH)
    bills = [(i.supplier_id or i.supplier or i.bill_id, i.currency, i.amount) for i in paid]
    return [Way(g, payment_groups.payment_count(g, bills, run.base_currency, limits))
            for g in offered]


async def answer_review(bot: Billbot, ack: Any, view: Any, ctx: ModalContext,
                        run_id: uuid.UUID, user: str) -> None:
    run = await bot.db(lambda s: payruns.get_run(s, run_id), read_only=True)
    items = await bot.db(lambda s: payruns.items_of(s, run_id), read_only=True)
    if run is None or run.payment_date is None:
        await ack(response_action="errors", errors={_first_group(view): "Start again."})
        return
    paid_on = run.payment_date
    ticked = [i for i in items if i.selected]
    skipped = {i.position: reason for i in ticked
               if (reason := issued_after(i.issue_date, paid_on))}
    if not ticked or len(skipped) == len(ticked):
        text = ("Tick at least one bill." if not ticked else
                "Every ticked bill was issued after the run's date; pick a later one.")
        await ack(response_action="errors", errors={_first_group(view): text})
        return
    await bot.db(lambda s: payruns.leave_out(s, run_id=run_id, skipped=skipped))
    lines = []
    base = ctx.base_currency
    paying: list[PayRunItem] = []
    for currency, raw in run.choices.items():
        choice = Choice.from_json(raw)
        paid = [i for i in ticked if i.currency == currency and i.position not in skipped]
        if not paid:
            continue
        paying += paid
        total = sum((i.amount for i in paid), Decimal(0))
        leaving = None
        if choice.rate is not None and base:
            leaving = sum((converted(i.amount, choice.rate, base) for i in paid), Decimal(0))
        lines.append(ReviewLine(currency, len(paid), total, choice.account_name or "the account",
                                choice.rate, leaving))
    by_position = {i.position: i for i in items}
    left_out = [f"• *{by_position[p].reference or by_position[p].bill_id}*: {reason}"
                for p, reason in sorted(skipped.items())]
    review_ctx = ModalContext(bill_id="", channel_id=ctx.channel_id, message_ts=None,
                              user_id=user, issued_at=bot.clock.now().isoformat(),
                              base_currency=base, run_id=str(run_id))
    limits = limits_for(bot, user)
    ways = await bot.db(lambda s: ways_of(s, run, paying, limits), read_only=True)
    await ack(response_action="update", view=review_modal(
        lines=lines, paid_on=paid_on, base_currency=base, skipped=left_out,
        metadata=bot.signer.dump(review_ctx), ways=ways))


__all__ = ["answer_review", "chosen_grouping", "ways_of"]
