"""A row's line for what was paid: "Paid GBP 900.03 in 3 payments by <@U1> · GBP 99.97
remains", every payment counted. What a credit note covered (async API) is told apart, as
"credit GBP 40.00 applied": it took money off the bill but none out of the bank account."""

from __future__ import annotations

from decimal import Decimal

from billbot.money import format_money
from billbot.slackapp.row_model import PaymentState, RowState


def paid_line(state: RowState, *, remains: str | None) -> str | None:
    """The line, or None before any payment succeeded; `remains`: what is still due (None
    when the bill is settled)."""
    done = [p for p in state.payments if p.state is PaymentState.SUCCEEDED]
    if not done:
        return None
    settled = remains is None
    cash = [p for p in done if p.cash > 0]
    said: list[str] = []
    if cash:
        # One payment shows itself (with both amounts when it crossed currencies); several, totals.
        paid = cash[0].cash_shown if len(cash) == 1 else _totals([(p.cash, p.currency) for p in cash])
        said.append(f"{'*Paid*' if settled else 'Paid'} {paid} in {len(cash)} "
                    f"payment{'s' if len(cash) != 1 else ''}")
    credits = [(p.credit_amount, p.currency) for p in done if p.credit_amount > 0]
    if credits:
        word = "credit" if cash else "*Credit*" if settled else "Credit"
        said.append(f"{word} {_totals(credits)} applied")
    payers = list(dict.fromkeys(p.payer_id for p in done))
    line = (f"{':moneybag:' if cash else ':receipt:'} {' and '.join(said)} by "
            + ", ".join(f"<@{u}>" for u in payers[:5]))
    return line if settled else f"{line} · *{remains}* remains"


def _totals(amounts: list[tuple[Decimal, str]]) -> str:
    totals: dict[str, Decimal] = {}
    for amount, currency in amounts:
        totals[currency] = totals.get(currency, Decimal(0)) + amount
    return " + ".join(format_money(amount, cur) for cur, amount in totals.items())


__all__ = ["paid_line"]
