"""The Details modal: everything the books and billbot hold about one bill, to decide on it.

Render only. Slack's limits hold by construction: at most 100 blocks (lines are packed
several to a section, attachments capped), every section under 3000 characters, untrusted
text (names, descriptions, reasons) clipped field by field and made inert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from billbot.codat.models import Attachment, Bill, Supplier
from billbot.domain.bill_figures import BillFigures, LineFigures, bill_figures, quantity_text
from billbot.domain.digest import due_in_words
from billbot.money import format_money
from billbot.services.bill_history import BillHistory
from billbot.slackapp.blocks import Block, _mrkdwn, _plain, mention
from billbot.slackapp.mrkdwn import user_text

CALLBACK_DETAILS = "bill_details"
ACTION_VIEW_INVOICE = "bill_view_invoice"
MAX_VIEW_BLOCKS = 100
MAX_ATTACHMENTS_SHOWN = 20
SECTION_BUDGET = 2900  # characters of one section's text (Slack: 3000)
NAME_LIMIT = 120


@dataclass(frozen=True)
class DetailsData:
    """What the modal shows, gathered by details_flow."""

    bill: Bill
    supplier: Supplier | None
    account_names: dict[str, str] = field(default_factory=dict)
    tax_rate_names: dict[str, str] = field(default_factory=dict)
    attachments: list[Attachment] | None = None  # None: Codat did not answer
    history: BillHistory = field(default_factory=lambda: BillHistory([], []))
    shared: dict[str, str] = field(default_factory=dict)  # attachment id -> permalink


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _money(amount: Decimal | None, currency: str) -> str:
    return "unknown" if amount is None else format_money(amount, currency)


def _supplier_text(bill: Bill, supplier: Supplier | None) -> str:
    name = supplier.supplier_name if supplier else (bill.supplier_ref.supplier_name or
                                                     bill.supplier_ref.id)
    lines = [f"*Supplier:* {user_text(name, NAME_LIMIT)}"]
    if supplier is None:
        lines.append("_The books hold no contact details for this supplier._")
        return "\n".join(lines)
    if supplier.contact_name:
        lines.append(f"Contact: {user_text(supplier.contact_name, NAME_LIMIT)}")
    if supplier.email_address:
        lines.append(f"Email: {user_text(supplier.email_address, NAME_LIMIT)}")
    if supplier.phone:
        lines.append(f"Phone: {user_text(supplier.phone, 60)}")
    for address in (supplier.addresses or [])[:2]:
        parts = [address.line1, address.line2, address.city, address.region,
                 address.postal_code, address.country]
        text = ", ".join(p for p in parts if p)
        if text:
            lines.append(f"Address: {user_text(text, 300)}")
    return "\n".join(lines)


def _line_text(index: int, item_description: str | None, figures: LineFigures, currency: str,
               account: str | None, tax_rate: str | None) -> str:
    desc = user_text(item_description or "Item", NAME_LIMIT)
    sum_text = (f"{quantity_text(figures.quantity)} × {format_money(figures.unit_amount, currency)}"
                f" + tax {format_money(figures.tax, currency)}")
    if figures.adds_up:
        sum_text += f" = *{format_money(figures.total, currency)}*"
    else:
        sum_text += (f" = {format_money(figures.net + figures.tax, currency)}; the books' line "
                     f"total is *{format_money(figures.total, currency)}*")
    extra = " · ".join(x for x in (f"Account: {account}" if account else None,
                                   f"Tax rate: {tax_rate}" if tax_rate else None) if x)
    return f"{index}. {desc}\n{sum_text}" + (f"\n{extra}" if extra else "")


def _lines_blocks(data: DetailsData, figures: BillFigures, budget: int) -> list[Block]:
    bill, items = data.bill, data.bill.line_items or []
    if not items:
        return [_section("*Lines*\n_The books hold no lines for this bill._")]
    texts = []
    for index, (item, line) in enumerate(zip(items, figures.lines, strict=True), start=1):
        account = item.account_ref.id if item.account_ref else None
        tax_rate = item.tax_rate_ref.id if item.tax_rate_ref else None
        texts.append(_line_text(
            index, item.description, line, bill.currency,
            user_text(data.account_names.get(account, account), NAME_LIMIT) if account else None,
            user_text(data.tax_rate_names.get(tax_rate, tax_rate), NAME_LIMIT)
            if tax_rate else None))
    blocks: list[Block] = []
    chunk = f"*Lines ({len(items)})*"
    shown = 0
    for text in texts:
        if len(chunk) + len(text) + 2 > SECTION_BUDGET:
            if len(blocks) + 2 >= budget:
                break
            blocks.append(_section(chunk))
            chunk = ""
        chunk = f"{chunk}\n\n{text}" if chunk else text
        shown += 1
    blocks.append(_section(chunk))
    if shown < len(texts):
        blocks.append({"type": "context", "elements": [_mrkdwn(
            f"…and {len(texts) - shown} more lines, not shown here; the totals below count "
            "every line.")]})
    return blocks


def _totals_text(bill: Bill, figures: BillFigures) -> str:
    cur = bill.currency
    text = (f"*Subtotal* {format_money(figures.subtotal, cur)} + *tax* "
            f"{format_money(figures.tax, cur)} = *total* "
            f"{_money(figures.total if figures.total is not None else figures.lines_total, cur)}")
    if not figures.total_adds_up:
        text += (f"\n:warning: The lines add up to {format_money(figures.lines_total, cur)}; "
                 f"the books' total is {_money(figures.total, cur)}.")
    if figures.paid is not None and figures.paid > 0:
        text += (f"\n*Total* {_money(figures.total, cur)} − *paid* "
                 f"{format_money(figures.paid, cur)} = *amount due* "
                 f"{_money(figures.amount_due, cur)}")
    else:
        text += f"\n*Amount due* {_money(figures.amount_due, cur)}"
    return text


def _payments_text(data: DetailsData, figures: BillFigures) -> str:
    history, cur = data.history, data.bill.currency
    lines = []
    for p in history.payments[:30]:
        state = " _(being recorded)_" if p.in_progress else ""
        behalf = f" for {mention(p.on_behalf_of)}" if p.on_behalf_of else ""
        lines.append(f"• {p.paid_on.isoformat()} · {user_text(p.account, 80)} · "
                     f"{format_money(p.amount, p.currency)} · by {mention(p.payer_id)}{behalf}"
                     f"{state}")
    by_billbot = history.paid_by_billbot.get(cur, Decimal(0))
    if figures.paid is not None and figures.paid > by_billbot:
        lines.append(f"• {format_money(figures.paid - by_billbot, cur)} recorded in the books "
                     "outside billbot (date and account not available through Codat)")
    return "*Payments*\n" + ("\n".join(lines) if lines else "_None yet._")


def _decisions_text(history: BillHistory) -> str:
    lines = []
    for d in history.decisions[-30:]:
        when = d.at.strftime("%Y-%m-%d %H:%M UTC")
        reason = f": “{user_text(d.reason, 300)}”" if d.reason else ""
        delegate = f" (clicked by {mention(d.acted_by)} as delegate)" if d.acted_by and \
            d.acted_by != d.user_id else ""
        lines.append(f"• {mention(d.user_id)} {d.what}{delegate}{reason} · {when}")
    return "*Approvals and rejections*\n" + ("\n".join(lines) if lines else "_None yet._")


def _size(size: int | None) -> str:
    if size is None:
        return ""
    return f" · {size / 1024:.0f} KB" if size >= 1024 else f" · {size} bytes"


def _attachment_blocks(data: DetailsData) -> list[Block]:
    if data.attachments is None:
        return [_section("*Attachments*\n_Codat did not list the attachments just now; open "
                         "Details again to retry._")]
    if not data.attachments:
        return [_section("*Attachments*\n_The books hold no attachment for this bill._")]
    blocks: list[Block] = [_section(f"*Attachments ({len(data.attachments)})*")]
    for n, att in enumerate(data.attachments[:MAX_ATTACHMENTS_SHOWN]):
        text = f":page_facing_up: {user_text(att.name or att.id, NAME_LIMIT)}{_size(att.file_size)}"
        link = data.shared.get(att.id)
        if link:
            text += f"\nAlready in the bill's thread: <{link}|open the file>"
        blocks.append({"type": "section", "block_id": f"attachment-{n}", "text": _mrkdwn(text),
                       "accessory": {"type": "button", "action_id": ACTION_VIEW_INVOICE,
                                     "text": _plain("View invoice", 75), "value": att.id}})
    if len(data.attachments) > MAX_ATTACHMENTS_SHOWN:
        blocks.append({"type": "context", "elements": [_mrkdwn(
            f"…and {len(data.attachments) - MAX_ATTACHMENTS_SHOWN} more attachments.")]})
    return blocks


def details_view(data: DetailsData, *, today: date, metadata: str) -> Block:
    bill = data.bill
    figures = bill_figures(bill)
    status = bill.status.value + (" · overdue" if bill.due_date < today and bill.status.payable
                                  else "")
    head: list[Block] = [
        {"type": "header", "text": _plain(f"Bill {bill.reference or bill.id}", 150)},
        _section(_supplier_text(bill, data.supplier)),
        {"type": "section", "fields": [
            _mrkdwn(f"*Reference*\n{user_text(bill.reference or '—', NAME_LIMIT)}"),
            _mrkdwn(f"*Status*\n{status}"),
            _mrkdwn(f"*Issued*\n{bill.issue_date.isoformat()}"),
            _mrkdwn(f"*Due*\n{bill.due_date.isoformat()} ({due_in_words(bill.due_date, today)})"),
        ]},
        {"type": "divider"},
    ]
    tail: list[Block] = [
        {"type": "divider"}, _section(_totals_text(bill, figures)),
        _section(_payments_text(data, figures)), _section(_decisions_text(data.history)),
        {"type": "divider"}, *_attachment_blocks(data),
    ]
    lines = _lines_blocks(data, figures, MAX_VIEW_BLOCKS - len(head) - len(tail))
    return {"type": "modal", "callback_id": CALLBACK_DETAILS, "private_metadata": metadata,
            "title": _plain("Bill details", 24), "close": _plain("Close", 24),
            "blocks": head + lines + tail}


def details_loading(metadata: str) -> Block:
    return {"type": "modal", "callback_id": CALLBACK_DETAILS, "private_metadata": metadata,
            "title": _plain("Bill details", 24), "close": _plain("Close", 24),
            "blocks": [_section(":hourglass_flowing_sand: Reading the bill from the books…")]}
