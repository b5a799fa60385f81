"""Filling `/bills accounts add` as an admin does, for the e2e tests of bank accounts."""

from __future__ import annotations

from typing import Any

from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.slackapp.account_blocks import CALLBACK_ACCOUNT_ADD


def account_values(*, name: str = "Barclays Payables", number: str = "41234567",
                   currency: str = "GBP", sort_code: str | None = "20-00-00",
                   kind: str = "Debit", nominal: str | None = None) -> dict[str, Any]:
    def text(value: str | None) -> dict[str, Any]:
        return {"type": "plain_text_input", "value": value}

    return {
        "name": {"name": text(name)},
        "account_type": {"account_type": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": kind}, "value": kind}}},
        "account_number": {"account_number": text(number)},
        "currency": {"currency": text(currency)},
        "sort_code": {"sort_code": text(sort_code)},
        "nominal_code": {"nominal_code": text(nominal)},
    }


def account_form(workspace: SlackWorkspace, user: str) -> Any:
    view = workspace.open_view(user)
    if view is None or view.definition.get("callback_id") != CALLBACK_ACCOUNT_ADD:
        return None
    return view


def view_text(view: Any) -> str:
    return " ".join(str(b.get("text", {}).get("text", "")) for b in view.definition["blocks"])
