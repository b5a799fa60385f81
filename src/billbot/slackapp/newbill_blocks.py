"""Block Kit of Create bill (`/bills new`, the `Create bill` message shortcut): the form, the
views shown while the bill is created, and the outcome. Render only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from billbot.codat.models import AccountOption, TaxRateOption
from billbot.domain.bill_suggestions import BillSuggestions
from billbot.slackapp.mrkdwn import clip, user_text
from billbot.slackapp.newbill_lines import add_line_block
from billbot.slackapp.newbill_totals import DISPATCH, totals_block
from billbot.slackapp.suggestion_blocks import suggested_hint, suggestion_context

Block = dict[str, Any]

CALLBACK_NEW_BILL = "bill_new"
ACTION_SUPPLIER = "supplier"  # the external select (block_suggestion from Codat's suppliers)
SHORTCUT_CREATE_BILL = "create_bill"  # manifest: features.shortcuts (type message)
TITLE = "Create bill"
# block id = action id for every input, so inline errors name the block.
FIELDS = ("supplier", "new_supplier", "reference", "issue_date", "due_date", "currency",
          "currency_rate", "description", "amount", "account", "tax_rate")
MAX_OPTIONS = 100  # Slack: a static select offers at most 100 options


@dataclass(frozen=True)
class FormStart:
    """What the form opens with (the document's suggestions may fill these in)."""

    base_currency: str
    today: date
    accounts: list[AccountOption]
    tax_rates: list[TaxRateOption]
    file_name: str | None = None
    reference: str | None = None
    issue_date: date | None = None
    due_date: date | None = None
    amount: str | None = None
    new_supplier: str | None = None
    note: str | None = None  # e.g. "suggested from the document — check"
    suggestions: BillSuggestions | None = None  # read from the file's text layer


def suggested(start: FormStart) -> FormStart:
    """`start` with the document's suggestions as the inputs' initial values."""
    s = start.suggestions
    if s is None:
        return start
    return FormStart(
        base_currency=start.base_currency, today=start.today, accounts=start.accounts,
        tax_rates=start.tax_rates, file_name=start.file_name,
        reference=start.reference or s.reference, issue_date=start.issue_date or s.issue_date,
        due_date=start.due_date or s.due_date,
        amount=start.amount or (format(s.total, "f") if s.total is not None else None),
        new_supplier=start.new_supplier, note=start.note, suggestions=s)


def _plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def _section(text: str, block_id: str) -> Block:
    return {"type": "section", "block_id": block_id,
            "text": {"type": "mrkdwn", "text": clip(text, 3000)}}


def _input(block_id: str, label: str, element: Block, *, hint: str | None = None,
           optional: bool = False, suggested_from: object | None = None) -> Block:
    """An input; one prefilled from the document (`suggested_from`) is hinted to check."""
    block: Block = {"type": "input", "block_id": block_id, "label": _plain(label, 2000),
                    "optional": optional, "element": {"action_id": block_id, **element}}
    if hint:
        block["hint"] = _plain(hint, 2000)
    if element.get("dispatch_action_config"):
        block["dispatch_action"] = True  # the element's value is sent as the person types
    marked = suggested_hint(suggested_from)
    if marked is not None:
        block["hint"] = marked
    return block


def _supplier_element(s: BillSuggestions | None) -> Block:
    element: Block = {"type": "external_select", "min_query_length": 1,
                      "placeholder": _plain("Type to search the company's suppliers", 150)}
    if s is not None and s.supplier_id and s.supplier_name:
        element["initial_option"] = _option(s.supplier_name, s.supplier_id)
    return element


def _text(max_length: int, initial: str | None = None, **extra: Any) -> Block:
    element: Block = {"type": "plain_text_input", "max_length": max_length, **extra}
    if initial:
        element["initial_value"] = initial
    return element


def _date(initial: date | None) -> Block:
    element: Block = {"type": "datepicker"}
    if initial is not None:
        element["initial_date"] = initial.isoformat()
    return element


def _option(text: str, value: str) -> Block:
    return {"text": _plain(text, 75), "value": value}


def _account_options(accounts: list[AccountOption]) -> list[Block]:
    return [_option(" ".join(p for p in (a.nominal_code, a.name or a.id) if p), a.id)
            for a in accounts[:MAX_OPTIONS]]


def _tax_options(rates: list[TaxRateOption]) -> list[Block]:
    shown = []
    for rate in rates[:MAX_OPTIONS]:
        percent = rate.effective_tax_rate if rate.effective_tax_rate is not None \
            else rate.total_tax_rate
        label = rate.name or rate.code or rate.id
        shown.append(_option(f"{label} ({percent:f}%)" if percent is not None else label,
                             rate.id))
    return shown


def new_bill_form(start: FormStart, *, metadata: str) -> Block:
    start = suggested(start)
    s = start.suggestions
    intro = ("A new bill in the books, awaiting approval in this channel once created.")
    if start.file_name:
        intro += f" The invoice *{user_text(start.file_name, 200)}* is attached to it."
    if start.note:
        intro += f"\n_{user_text(start.note, 300)}_"
    currency = (s.currency if s and s.currency else None) or start.base_currency
    blocks: list[Block] = [_section(intro, "new-bill-intro")]
    if s is not None:
        blocks.append(suggestion_context(s))
    blocks += [
        _input("supplier", "Supplier", _supplier_element(s),
               hint="Not there yet? Leave this empty and type the new supplier's name below.",
               optional=True, suggested_from=s.supplier_id if s else None),
        _input("new_supplier", "New supplier", _text(100, start.new_supplier),
               hint="Creates the supplier in the books (only if none is picked above).",
               optional=True),
        _input("reference", "Reference", _text(255, start.reference),
               hint="The invoice number.", optional=True,
               suggested_from=s.reference if s else None),
        _input("issue_date", "Issue date", _date(start.issue_date or start.today),
               suggested_from=s.issue_date if s else None),
        _input("due_date", "Due date", _date(start.due_date),
               suggested_from=s.due_date if s else None),
        _input("currency", "Currency", _text(3, currency, min_length=3),
               hint=f"ISO 4217. The company's base currency is {start.base_currency}.",
               suggested_from=s.currency if s else None),
        _input("currency_rate", "Rate", _text(20),
               hint=f"Only for another currency: {start.base_currency} per 1 unit of it.",
               optional=True),
        _input("description", "Line: description", _text(200)),
        _input("amount", "Line: amount", _text(40, start.amount, **DISPATCH),
               hint="Net of tax, in the bill's currency.",
               suggested_from=s.total if s else None),
        _input("account", "Line: expense account",
               {"type": "static_select", "options": _account_options(start.accounts)}),
    ]
    tax = _tax_options(start.tax_rates)
    if tax:
        blocks.append(_input("tax_rate", "Line: tax rate",
                             {"type": "static_select", "options": tax}, optional=True))
    blocks += [add_line_block(), totals_block()]
    return {"type": "modal", "callback_id": CALLBACK_NEW_BILL, "private_metadata": metadata,
            "title": _plain(TITLE, 24), "submit": _plain("Create bill", 24),
            "close": _plain("Cancel", 24), "blocks": blocks}


def outcome_view(text: str, *, metadata: str | None = None, retry: bool = False) -> Block:
    view: Block = {"type": "modal", "callback_id": CALLBACK_NEW_BILL, "title": _plain(TITLE, 24),
                   "close": _plain("Close", 24), "blocks": [_section(text, "new-bill-outcome")]}
    if retry and metadata:
        view["private_metadata"] = metadata
        view["submit"] = _plain("Try again", 24)
    return view


def creating_view() -> Block:
    return outcome_view(":hourglass_flowing_sand: Creating the bill in the books…")


def created_text(reference: str | None, supplier: str, *, attached: bool,
                 channel_id: str | None) -> str:
    what = f"*{user_text(reference, 120)}*" if reference else "The bill"
    where = f" Its row is in <#{channel_id}>, awaiting approval." if channel_id else ""
    invoice = " The invoice is attached." if attached else ""
    return (f":white_check_mark: {what} from {user_text(supplier, 120)} is in the books."
            f"{invoice}{where}")


def pending_text() -> str:
    return (":warning: Codat has not confirmed the bill yet. billbot keeps trying with the "
            "same request, so it is never created twice; its row appears in the channel once "
            "it is in the books.")


def failed_text(reason: str) -> str:
    return (f":x: Codat refused the bill: {user_text(reason, 1500)}\nNothing was created. "
            "Open the form again to correct it.")


__all__ = ["ACTION_SUPPLIER", "CALLBACK_NEW_BILL", "FIELDS", "SHORTCUT_CREATE_BILL", "FormStart",
           "created_text", "creating_view", "failed_text", "new_bill_form", "outcome_view",
           "pending_text"]
