"""Details (issue 15 item 1): on every row and in `/bills show`, a modal with the supplier and
its contacts, every line adding up with its tax, the totals, payments and decisions, and the
attachments; refused for a bill the channel's company does not hold."""

from __future__ import annotations

from billbot.sandbox.codat.seed import BILL_ID_BASE
from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_DETAILS, ACTION_REJECT, actions_block_id
from billbot.slackapp.details_blocks import ACTION_VIEW_INVOICE
from billbot.slackapp.interactions import NOT_IN_COMPANY
from tests.e2e.conftest import (
    ANN,
    BEN,
    CHANNEL,
    OSCAR,
    PAT,
    Stack,
    all_blocks,
    approve,
    audit,
    buttons,
    click,
    current,
    due_bills,
    ephemeral_texts,
    eventually,
    first_due,
    modal_account_ids,
    no_slack_violations,
    open_pay_modal,
    pay_values,
    post_digest,
    row_text,
    today,
)
from tests.security.forge import click_payload, post_interaction
from tests.support.details import details_text, modal_where, open_details
from tests.support.pay_review import submit_pay


async def test_details_shows_supplier_lines_with_tax_totals_and_attachments(
        stack: Stack) -> None:
    main = await post_digest(stack)
    bill_id = str(BILL_ID_BASE + 8)  # INV-00008: three GBP lines at 20% VAT, two attachments
    view = await open_details(stack, ANN, main, bill_id)
    text = details_text(view)
    assert "Pemberton &amp; Hale Solicitors" in text
    for contact in ("Eleanor Hale", "accounts@pemberton.example", "+44 20 7946 0000", "Leeds"):
        assert contact in text
    assert "INV-00008" in text and "Open" in text
    # Every line shows its sum, tax included, and the names the books give its account and rate.
    assert "1.00 × GBP 1,800.00 + tax GBP 360.00 = *GBP 2,160.00*" in text
    assert "8.00 × GBP 32.00 + tax GBP 51.20 = *GBP 307.20*" in text
    assert "441 Legal Expenses" in text and "20% (VAT on Expenses)" in text
    assert "*Subtotal* GBP 6,056.00 + *tax* GBP 1,211.20 = *total* GBP 7,267.20" in text
    assert "*Amount due* GBP 7,267.20" in text
    assert "invoice-INV-00008.pdf" in text and "timesheet.csv" in text
    invoice_buttons = [b for b in view.definition["blocks"]
                       if b.get("accessory", {}).get("action_id") == ACTION_VIEW_INVOICE]
    assert [b["accessory"]["text"]["text"] for b in invoice_buttons] == ["View invoice"] * 2
    assert len(view.definition["blocks"]) <= 100
    no_slack_violations(stack)


async def test_every_row_has_details_and_show_offers_it(stack: Stack) -> None:
    main = await post_digest(stack)
    blocks = all_blocks(stack, main)
    actions = [b for b in blocks if b["type"] == "actions"
               and str(b.get("block_id", "")).startswith("bill-actions:")]
    assert actions and all(
        any(e["action_id"] == ACTION_DETAILS for e in b["elements"]) for b in actions)
    assert all(len(b["elements"]) <= 5 for b in actions)

    await stack.driver.slash_command(ANN, CHANNEL, "show INV-00018")  # a paid bill
    shown = await eventually(lambda: [e for e in stack.workspace.ephemerals(CHANNEL, ANN)
                                      if "Line items" in str(e.blocks)])
    response = await stack.driver.click(ANN, CHANNEL, shown[-1].ts, ACTION_DETAILS)
    assert response.status == 200
    view = await modal_where(stack, ANN, lambda v: "Stationery" in details_text(v))
    assert "Paid" in details_text(view)
    assert "GBP 114.00 recorded in the books outside billbot" in details_text(view)
    no_slack_violations(stack)


async def test_details_lists_payments_and_decisions_billbot_recorded(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, current(stack, main.ts), bill["id"])
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0], "10.00",
                                                   today().isoformat()))
    await eventually(lambda: len(stack.payments()) == 1)
    await eventually(lambda: "Paid" in str(current(stack, main.ts).blocks))
    details = await open_details(stack, OSCAR, current(stack, main.ts), bill["id"])
    text = details_text(details)
    assert f"<@{ANN}> approved" in text
    assert "GBP 10.00 · by <@U0PAT>" in text
    assert "*paid* GBP 10.00" in text  # total − paid = amount due, shown as such
    assert "Details" in buttons(current(stack, main.ts), bill["id"])


async def test_a_tampered_bill_id_is_refused_with_a_clear_message(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    payload = click_payload(stack, ANN, CHANNEL, main, ACTION_DETAILS, "QB-0001",
                            block_id=actions_block_id(bill["id"]))  # another company's bill
    assert (await post_interaction(stack, payload)).status == 200
    await eventually(lambda: any(NOT_IN_COMPANY in t for t in ephemeral_texts(stack, ANN)))
    view = await modal_where(stack, ANN, lambda v: "could not show" in details_text(v))
    assert "Supplies" not in details_text(view)  # nothing of the other company's bill
    [refusal] = audit(stack, "access.refused")
    assert refusal.detail["attempted"] == "details" and refusal.bill_id == "QB-0001"


async def test_details_names_rejections_with_reasons_and_delegates(stack: Stack) -> None:
    main = await post_digest(stack)
    bills = sorted(due_bills(stack), key=lambda b: b["dueDate"])
    rejected, delegated = bills[0]["id"], bills[1]["id"]
    await click(stack, BEN, main, rejected, ACTION_REJECT)
    await modal_where(stack, BEN, lambda v: v.definition.get("callback_id") == "reject_bill")
    await stack.driver.submit_view(BEN, {"reason": {"reason": {
        "type": "plain_text_input", "value": "Duplicate of last month's <!here> invoice"}}})
    await eventually(lambda: "Rejected by" in row_text(current(stack, main.ts), rejected))
    text = details_text(await open_details(stack, ANN, current(stack, main.ts), rejected))
    assert f"<@{BEN}> rejected: “Duplicate of last month's &lt;!here&gt; invoice”" in text

    await stack.driver.slash_command(BEN, CHANNEL, f"away {today().isoformat()} "
                                     f"{today().isoformat()} <@{OSCAR}|oscar>")
    await eventually(lambda: any("approver" in t for t in ephemeral_texts(stack, BEN)))
    await click(stack, OSCAR, current(stack, main.ts), delegated, ACTION_APPROVE)
    await eventually(lambda: f"<@{BEN}>" in row_text(current(stack, main.ts), delegated))
    text = details_text(await open_details(stack, ANN, current(stack, main.ts), delegated))
    assert f"<@{BEN}> approved (clicked by <@{OSCAR}> as delegate)" in text
