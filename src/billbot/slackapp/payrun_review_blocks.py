"""Block Kit for a pay run's review: what is about to be recorded, per currency and per
account, and (async API) how the bills become payments. Render only: the counts come from
`services.payment_groups`, the flow in `payrun_review`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billbot.money import format_money
from billbot.slackapp.blocks import Block, _mrkdwn, _plain
from billbot.slackapp.mrkdwn import user_text
from billbot.slackapp.payrun_blocks import CALLBACK_PAYRUN_REVIEW, lines_blocks

BLOCK_GROUPING = "grouping"
LABELS = {"each": "One payment per bill", "supplier": "One payment per supplier",
          "batch": "One batch payment"}
HINTS = {"each": "each bill its own payment",
         "supplier": "a supplier's bills in one currency: one payment, a line per bill",
         "batch": "every {base} bill, whatever its supplier: one payment, a line per bill"}


@dataclass(frozen=True)
class ReviewLine:
    """One currency of the run as the review shows it."""

    currency: str
    count: int
    total: Decimal
    account_label: str
    rate: Decimal | None
    leaving: Decimal | None  # in the base currency, when a rate applies


@dataclass(frozen=True)
class Way:
    """A way of paying the run offered on the review, and how many payments it makes."""

    grouping: str  # payment_groups: each | supplier | batch
    payments: int


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _way_text(way: Way, bills: int) -> str:
    if way.grouping == "each":
        return _count(way.payments, "payment")
    return f"{_count(bills, 'bill')} in {_count(way.payments, 'payment')}"


def _grouping_block(ways: Sequence[Way], bills: int) -> Block:
    """The choice (radio buttons: one way only); one payment per bill unless changed."""
    options = [{"text": _plain(LABELS[w.grouping], 75), "value": w.grouping,
                "description": _plain(_way_text(w, bills), 75)} for w in ways]
    return {"type": "input", "block_id": BLOCK_GROUPING, "label": _plain("Payments", 2000),
            "element": {"type": "radio_buttons", "action_id": BLOCK_GROUPING,
                        "options": options, "initial_option": options[0]}}


def _ways_text(ways: Sequence[Way], bills: int, lines: Sequence[ReviewLine],
               base: str | None) -> list[str]:
    text = ["", "*How they are recorded:*"]
    text += [f"• {LABELS[w.grouping]}: *{_way_text(w, bills)}* "
             f"({HINTS[w.grouping].format(base=base)})" for w in ways]
    others = [line for line in lines if line.currency != base]
    if base and others and any(w.grouping == "batch" for w in ways):
        many = sum(line.count for line in others) > 1
        text.append(f"A batch payment is in {base} only: with it, the "
                    + " and ".join(f"{_count(line.count, 'bill')} in {line.currency}"
                                   for line in others)
                    + f" {'are' if many else 'is'} paid one payment per supplier.")
    return text


def review_modal(*, lines: Sequence[ReviewLine], paid_on: date, base_currency: str | None,
                 skipped: Sequence[str], metadata: str, ways: Sequence[Way] = ()) -> Block:
    """`ways`: the payment groupings offered (async API only), the first preselected."""
    count = sum(line.count for line in lines)
    day = paid_on.strftime('%a %d %b %Y')
    if ways:
        text = [f"You are about to pay *{_count(count, 'bill')}*, dated *{day}*: "
                f"*{_count(count, 'payment')}* (one per bill) unless you choose otherwise "
                "below.", "", "*Per currency:*"]
    else:
        text = [f"You are about to record *{_count(count, 'payment')}*, each dated *{day}*.",
                "", "*Per currency:*"]
    per_account: dict[str, dict[str, Decimal]] = {}
    for line in lines:
        rate = ""
        leaving_cur, leaving = line.currency, line.total
        if line.rate is not None and line.leaving is not None and base_currency:
            rate = f" at {line.rate.normalize():f} {base_currency} per 1 {line.currency}"
            leaving_cur, leaving = base_currency, line.leaving
        text.append(f"• {_count(line.count, 'bill')} · "
                    f"*{format_money(line.total, line.currency)}*{rate}")
        account = per_account.setdefault(line.account_label, {})
        account[leaving_cur] = account.get(leaving_cur, Decimal(0)) + leaving
    text += ["", "*Per account:*"]
    for label, sums in per_account.items():
        money = " + ".join(format_money(a, c) for c, a in sums.items())
        text.append(f"• *{user_text(label, 100)}*: {money}")
    if ways:
        text += _ways_text(ways, count, lines, base_currency)
    blocks: list[Block] = [{"type": "section", "block_id": "review",
                            "text": _mrkdwn("\n".join(text))}]
    if skipped:
        blocks += lines_blocks("*Left out (not payable on that date):*", skipped, max_blocks=3)
    if ways:
        blocks.append(_grouping_block(ways, count))
    blocks.append({"type": "context", "elements": [_mrkdwn(
        ("Each bill is recorded as its own payment" if not ways else
         "The payments are recorded") + " in the company's accounting software through "
        "Codat. It does not move money by itself.")]})
    return {"type": "modal", "callback_id": CALLBACK_PAYRUN_REVIEW, "private_metadata": metadata,
            "title": _plain("Review pay run", 24), "submit": _plain("Confirm pay run", 24),
            "close": _plain("Cancel", 24), "blocks": blocks}


__all__ = ["BLOCK_GROUPING", "LABELS", "ReviewLine", "Way", "review_modal"]
