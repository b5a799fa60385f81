"""Filling Create bill as a person does, for the e2e tests of bills entered from Slack."""

from __future__ import annotations

from typing import Any

from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.slackapp.newbill_blocks import CALLBACK_NEW_BILL

PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% invoice FAB-77 from Fabrikam\n"
       + bytes(range(256)) * 8 + b"\n%%EOF\n")


def new_bill_form(workspace: SlackWorkspace, user: str) -> Any:
    """The user's Create bill form, once it is filled in (not while it is loading)."""
    view = workspace.open_view(user)
    if view is None or view.definition.get("callback_id") != CALLBACK_NEW_BILL:
        return None
    blocks = view.definition.get("blocks") or []
    return view if any(b.get("block_id") == "account" for b in blocks) else None


def offered(view: Any, block_id: str) -> list[str]:
    for block in view.definition["blocks"]:
        if block.get("block_id") == block_id:
            return [o["value"] for o in block["element"]["options"]]
    return []


def bill_values(view: Any, *, supplier_id: str | None = None,
                new_supplier: str | None = "Fabrikam Fresh Ltd", reference: str = "FAB-77",
                issue: str = "2026-11-20", due: str = "2026-12-20", currency: str = "GBP",
                description: str | None = "Widgets", amount: str | None = "1,250.40",
                account: str | None = "first") -> dict[str, Any]:
    def text(value: str | None) -> dict[str, Any]:
        return {"type": "plain_text_input", "value": value}

    def pick(kind: str, value: str | None) -> dict[str, Any]:
        option = ({"text": {"type": "plain_text", "text": "x"}, "value": value}
                  if value else None)
        return {"type": kind, "selected_option": option}

    chosen = offered(view, "account")[0] if account == "first" else account
    values: dict[str, Any] = {
        "supplier": {"supplier": pick("external_select", supplier_id)},
        "new_supplier": {"new_supplier": text(new_supplier)},
        "reference": {"reference": text(reference)},
        "issue_date": {"issue_date": {"type": "datepicker", "selected_date": issue}},
        "due_date": {"due_date": {"type": "datepicker", "selected_date": due}},
        "currency": {"currency": text(currency)},
        "currency_rate": {"currency_rate": text(None)},
        "description": {"description": text(description)},
        "amount": {"amount": text(amount)},
        "account": {"account": pick("static_select", chosen)},
    }
    if offered(view, "tax_rate"):
        values["tax_rate"] = {"tax_rate": pick("static_select", None)}
    return values


def view_text(view: Any) -> str:
    return " ".join(str(b.get("text", {}).get("text", "")) for b in view.definition["blocks"])
