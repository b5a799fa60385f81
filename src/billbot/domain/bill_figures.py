"""A bill's figures as an approver checks them: each line's quantity × unit amount plus tax,
the subtotal, the tax, the total, what was paid and what remains. Pure arithmetic; where the
books' own figure differs from the sum (a discount, rounding in the platform) both are kept,
so nothing is shown adding up when it does not."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billbot.codat.models import Bill, BillLineItem
from billbot.money import quantize


@dataclass(frozen=True)
class LineFigures:
    quantity: Decimal
    unit_amount: Decimal
    net: Decimal  # quantity × unit amount, in the bill's currency's decimals
    tax: Decimal
    total: Decimal  # the books' line total (net + tax when the books give none)

    @property
    def adds_up(self) -> bool:
        return self.net + self.tax == self.total


@dataclass(frozen=True)
class BillFigures:
    lines: list[LineFigures]
    subtotal: Decimal
    tax: Decimal
    lines_total: Decimal
    total: Decimal | None  # the books' bill total
    amount_due: Decimal | None
    paid: Decimal | None  # total − amount due, when both are known

    @property
    def total_adds_up(self) -> bool:
        return self.total is None or self.lines_total == self.total


def line_figures(item: BillLineItem, currency: str) -> LineFigures:
    net = quantize(item.quantity * item.unit_amount, currency)
    tax = quantize(item.tax_amount or Decimal(0), currency)
    total = quantize(item.total_amount, currency) if item.total_amount is not None \
        else net + tax
    return LineFigures(item.quantity, item.unit_amount, net, tax, total)


def bill_figures(bill: Bill) -> BillFigures:
    lines = [line_figures(item, bill.currency) for item in bill.line_items or []]
    subtotal = sum((line.net for line in lines), Decimal(0))
    tax = sum((line.tax for line in lines), Decimal(0))
    lines_total = sum((line.total for line in lines), Decimal(0))
    total, due = bill.total_amount, bill.amount_due
    paid = quantize(total - due, bill.currency) if total is not None and due is not None \
        else None
    return BillFigures(lines, subtotal, tax, lines_total, total, due, paid)


def quantity_text(quantity: Decimal) -> str:
    """`1.00`, `12.00`, `2.50`, `0.125`: at least two decimals, more when the books have them."""
    text = f"{quantity.normalize():f}"
    whole, _, decimals = text.partition(".")
    return f"{int(whole or 0):,}.{decimals.ljust(2, '0')}" if not whole.startswith("-") \
        else text
