"""Block Kit of `/bills accounts add`: the form (the fields of Codat's create-bank-account
prototype), the view shown while Codat is asked, and the outcome. Render only."""

from __future__ import annotations

from typing import Any

from billbot.slackapp.mrkdwn import clip, user_text

Block = dict[str, Any]

CALLBACK_ACCOUNT_ADD = "bank_account_add"
# block id = action id for every input, so inline errors name the block.
FIELDS = ("name", "account_type", "account_number", "currency", "sort_code", "nominal_code")


def _plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def _section(text: str, block_id: str) -> Block:
    return {"type": "section", "block_id": block_id,
            "text": {"type": "mrkdwn", "text": clip(text, 3000)}}


def _text_input(block_id: str, label: str, *, hint: str, max_length: int,
                optional: bool = False, initial: str | None = None,
                min_length: int | None = None) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": block_id,
                      "max_length": max_length}
    if min_length is not None:
        element["min_length"] = min_length
    if initial:
        element["initial_value"] = initial
    return {"type": "input", "block_id": block_id, "label": _plain(label, 2000),
            "hint": _plain(hint, 2000), "optional": optional, "element": element}


def _option(text: str, value: str) -> Block:
    return {"text": _plain(text, 75), "value": value}


def account_form(*, metadata: str, company: str, base_currency: str | None) -> Block:
    debit = _option("Bank account", "Debit")
    return {"type": "modal", "callback_id": CALLBACK_ACCOUNT_ADD, "private_metadata": metadata,
            "title": _plain("Add bank account", 24), "submit": _plain("Create account", 24),
            "close": _plain("Cancel", 24), "blocks": [
                _section(f"A new payment account in *{user_text(company, 200)}*'s books. "
                         "Once created it is offered in every pay form for bills in its "
                         "currency or the company's base currency.", "account-intro"),
                _text_input("name", "Name", hint="As the books will show it.", max_length=255),
                {"type": "input", "block_id": "account_type", "label": _plain("Type", 2000),
                 "element": {"type": "static_select", "action_id": "account_type",
                             "initial_option": debit,
                             "options": [debit, _option("Credit card", "Credit")]}},
                _text_input("account_number", "Account number",
                            hint="The account number, or the IBAN outside the UK.",
                            max_length=34),
                _text_input("currency", "Currency", hint="ISO 4217, e.g. GBP, EUR, USD.",
                            max_length=3, min_length=3, initial=base_currency),
                _text_input("sort_code", "Sort code",
                            hint="UK bank accounts: six digits, 12-34-56.", max_length=8,
                            optional=True),
                _text_input("nominal_code", "Nominal code",
                            hint="The ledger code, if your books use one.", max_length=20,
                            optional=True),
            ]}


def _outcome(text: str, *, metadata: str | None = None, retry: bool = False) -> Block:
    view: Block = {"type": "modal", "callback_id": CALLBACK_ACCOUNT_ADD,
                   "title": _plain("Add bank account", 24), "close": _plain("Close", 24),
                   "blocks": [_section(text, "account-outcome")]}
    if retry and metadata:
        view["private_metadata"] = metadata
        view["submit"] = _plain("Try again", 24)
    return view


def creating_view(name: str) -> Block:
    return _outcome(f":hourglass_flowing_sand: Creating *{user_text(name, 255)}* in the books…")


def created_view(name: str, currency: str, *, again: bool = False) -> Block:
    lead = "was already created from this form" if again else "is created"
    return _outcome(f":white_check_mark: *{user_text(name, 255)}* ({currency}) {lead}. "
                    "Pay forms offer it from now on.")


def refused_view(name: str, reason: str) -> Block:
    return _outcome(f":x: Codat refused *{user_text(name, 255)}*: {user_text(reason, 1500)}\n"
                    "Nothing was created. Run `/bills accounts add` again to correct it.")


def unknown_view(name: str, *, metadata: str) -> Block:
    return _outcome(f":warning: Codat did not answer about *{user_text(name, 255)}*. It may "
                    "have been created. *Try again* asks once more with the same request, so "
                    "it is never created twice.", metadata=metadata, retry=True)


__all__ = ["CALLBACK_ACCOUNT_ADD", "FIELDS", "account_form", "created_view", "creating_view",
           "refused_view", "unknown_view"]
