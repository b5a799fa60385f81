"""Create bill (issue 18 items 1, 3, 4): from a PDF posted in the channel to a paid bill, with
exactly one supplier, one bill and one attachment in the sandbox under a double submit and a
lost response; `/bills new` without a file; who may create; inline errors."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from billbot.domain.bill_suggestions import SUGGESTED_HINT
from billbot.sandbox.codat.faults import FaultKind
from billbot.sandbox.slack.typing_in import type_and_dispatch, type_into
from billbot.slackapp.newbill_blocks import SHORTCUT_CREATE_BILL
from billbot.slackapp.newbill_flow import NOT_A_DOCUMENT, ROLES_ONLY
from billbot.slackapp.newbill_lines import ACTION_ADD_LINE
from tests.domain.text_pdfs import lines_pdf
from tests.e2e.conftest import (
    ANN,
    BEN,
    CHANNEL,
    OSCAR,
    PAT,
    Stack,
    approve,
    audit,
    current,
    ephemeral_texts,
    eventually,
    modal_account_ids,
    no_slack_violations,
    open_pay_modal,
    pay_values,
    today,
)
from tests.support.new_bill import PDF, bill_values, new_bill_form, view_text
from tests.support.pay_review import submit_pay

NAME = "Fabrikam Fresh Ltd"


def created(stack: Stack) -> tuple[list[str], list[dict[str, Any]], int]:
    ledger = stack.sandbox.main_ledger
    suppliers = [s["id"] for s in ledger.suppliers.values() if s["supplierName"] == NAME]
    bills = [b for b in ledger.bills.values() if b["reference"] == "FAB-77"]
    attachments = sum(len(ledger.attachments.get(b["id"], {})) for b in bills)
    return suppliers, bills, attachments


def new_rows(stack: Stack) -> list[Any]:
    return [m for m in stack.workspace.messages(CHANNEL)
            if m.text.startswith("New bill") and m.thread_ts is None]


async def shortcut_form(stack: Stack, user: str = ANN) -> Any:
    posted = stack.driver.post_file(user, CHANNEL, "fabrikam-FAB-77.pdf", PDF,
                                    text="Invoice from Fabrikam")
    answer = await stack.driver.message_shortcut(user, CHANNEL, posted.ts, SHORTCUT_CREATE_BILL)
    assert answer.status == 200
    return await eventually(lambda: new_bill_form(stack.workspace, user))


async def test_a_posted_pdf_becomes_one_bill_that_is_approved_and_paid(stack: Stack) -> None:
    form = await shortcut_form(stack)
    assert "fabrikam-FAB-77.pdf" in view_text(form)
    # The supplier search is Codat's supplier list.
    found = await stack.driver.suggest(ANN, "supplier", "supplier", "a")
    assert found.status == 200 and found.json()["options"]
    # Inline errors: a zero amount, a due date before the issue date.
    answer = await stack.driver.submit_view(ANN, bill_values(form, amount="0",
                                                             due="2026-11-01"))
    assert set(answer.json()["errors"]) == {"amount", "due_date"}
    assert created(stack) == ([], [], 0)

    # A double submit: both leave before either is answered.
    values = bill_values(form)
    await asyncio.gather(stack.driver.submit_view(ANN, values, form.id),
                         stack.driver.submit_view(ANN, values, form.id))
    [row] = await eventually(lambda: new_rows(stack), within=20)
    await asyncio.sleep(0.3)  # let the second submission finish too
    suppliers, bills, attachments = created(stack)
    assert (len(suppliers), len(bills), attachments) == (1, 1, 1)
    bill = bills[0]
    assert str(bill["totalAmount"]) == "1250.40" and bill["status"] == "Open"
    assert bill["supplierRef"]["id"] == suppliers[0]
    [stored] = stack.sandbox.main_ledger.attachments[bill["id"]].values()
    assert stored.content == PDF
    assert len(audit(stack, "bill.created")) == 1
    # The invoice is in the row's thread; the modal says it is done.
    await eventually(lambda: [m for m in stack.workspace.thread(CHANNEL, row.ts)
                              if m.text.startswith("Invoice for bill")])
    await eventually(lambda: "is in the books" in view_text(stack.workspace.views.get(form.id)))
    assert len(new_rows(stack)) == 1

    # Into the approval flow: approved on its row, then paid.
    await approve(stack, row, bill["id"], user=BEN)
    pay_form = await open_pay_modal(stack, current(stack, row.ts), bill["id"], PAT)
    account = modal_account_ids(pay_form)[0]
    answer = await submit_pay(stack.driver, PAT, pay_values(account, "1250.40", today().isoformat()))
    assert answer.status == 200
    await eventually(lambda: stack.sandbox.main_ledger.bills[bill["id"]]["status"] == "Paid",
                     within=20)
    assert len(stack.payments()) == 1
    no_slack_violations(stack)


async def test_a_lost_answer_creates_the_bill_once(stack: Stack) -> None:
    form = await shortcut_form(stack)
    faults = stack.sandbox.faults
    faults.lose_response_hold_seconds = 0.3
    faults.next(FaultKind.LOSE_RESPONSE, path="bills$", method="POST")
    await stack.driver.submit_view(ANN, bill_values(form))
    await eventually(lambda: new_rows(stack), within=60)
    suppliers, bills, attachments = created(stack)
    assert (len(suppliers), len(bills), attachments) == (1, 1, 1)
    posts = [r for r in stack.sandbox.requests
             if r.method == "POST" and r.path.endswith("/bills")]
    assert len(posts) >= 2 and len({r.idempotency_key for r in posts}) == 1


async def test_bills_new_with_an_existing_supplier_and_who_may_create(stack: Stack) -> None:
    await stack.driver.slash_command(OSCAR, CHANNEL, "new")
    await eventually(lambda: any(ROLES_ONLY in t for t in ephemeral_texts(stack, OSCAR)))
    await stack.driver.slash_command(PAT, CHANNEL, "new")
    form = await eventually(lambda: new_bill_form(stack.workspace, PAT))
    supplier = next(iter(stack.sandbox.main_ledger.suppliers.values()))
    before = len(stack.sandbox.main_ledger.suppliers)
    found = await stack.driver.suggest(PAT, "supplier", "supplier", supplier["supplierName"])
    assert supplier["id"] in [o["value"] for o in found.json()["options"]]
    answer = await stack.driver.submit_view(PAT, bill_values(form, supplier_id=supplier["id"]))
    assert set(answer.json()["errors"]) == {"new_supplier"}  # both given
    await stack.driver.submit_view(PAT, bill_values(form, supplier_id=supplier["id"],
                                                    new_supplier=None))
    [row] = await eventually(lambda: new_rows(stack), within=20)
    [bill] = created(stack)[1]
    assert bill["supplierRef"]["id"] == supplier["id"]
    assert len(stack.sandbox.main_ledger.suppliers) == before
    assert stack.sandbox.main_ledger.attachments.get(bill["id"], {}) == {}
    assert bill["id"] in str(row.blocks) or "FAB-77" in row.text


async def test_the_shortcut_on_a_message_without_a_document_says_so(stack: Stack) -> None:
    posted = stack.driver.post_file(ANN, CHANNEL, "notes.txt", b"just words")
    await stack.driver.message_shortcut(ANN, CHANNEL, posted.ts, SHORTCUT_CREATE_BILL)
    await eventually(lambda: any(NOT_A_DOCUMENT in t for t in ephemeral_texts(stack, ANN)))
    assert new_bill_form(stack.workspace, ANN) is None


async def test_a_text_layer_pdf_prefills_the_form_marked_to_check(stack: Stack) -> None:
    supplier = next(s for s in stack.sandbox.main_ledger.suppliers.values()
                    if s.get("status", "Active") == "Active")
    pdf = lines_pdf([supplier["supplierName"].upper(), "Invoice No: S-77",
                     "Invoice date: 3 Nov 2026", "Due date: 2026-12-03",
                     "Amount due: £1,020.50"])
    posted = stack.driver.post_file(ANN, CHANNEL, "s-77.pdf", pdf, text="Invoice")
    await stack.driver.message_shortcut(ANN, CHANNEL, posted.ts, SHORTCUT_CREATE_BILL)
    form = await eventually(lambda: new_bill_form(stack.workspace, ANN))
    blocks = {b["block_id"]: b for b in form.definition["blocks"]}
    assert "S-77" in blocks["suggestions"]["elements"][0]["text"]
    element = {k: blocks[k]["element"] for k in blocks if "element" in blocks[k]}
    assert element["supplier"]["initial_option"]["value"] == supplier["id"]
    assert element["reference"]["initial_value"] == "S-77"
    assert element["issue_date"]["initial_date"] == "2026-11-03"
    assert element["due_date"]["initial_date"] == "2026-12-03"
    assert (element["amount"]["initial_value"], element["currency"]["initial_value"]) == (
        "1020.50", "GBP")
    for key in ("supplier", "reference", "issue_date", "due_date", "amount"):
        assert blocks[key]["hint"]["text"] == SUGGESTED_HINT
    assert blocks["description"].get("hint") is None
    no_slack_violations(stack)


async def test_add_line_keeps_what_was_typed_and_the_bill_has_every_line(stack: Stack) -> None:
    form = await shortcut_form(stack)
    type_into(stack.driver, ANN, {"description": {"description": {
        "type": "plain_text_input", "value": "Widgets"}}})
    await stack.driver.click_in_view(ANN, ACTION_ADD_LINE)
    form = await eventually(lambda: (v := new_bill_form(stack.workspace, ANN)) and any(
        b.get("block_id") == "amount_2" for b in v.definition["blocks"]) and v)
    assert form.state_values["description"]["description"]["value"] == "Widgets"
    values = bill_values(form)
    account = values["account"]["account"]
    values.update({"description_2": {"description_2": {"type": "plain_text_input",
                                                         "value": "Delivery"}},
                   "amount_2": {"amount_2": {"type": "plain_text_input", "value": "0"}},
                   "account_2": {"account_2": account}})
    answer = await stack.driver.submit_view(ANN, values)
    assert set(answer.json()["errors"]) == {"amount_2"}
    values["amount_2"]["amount_2"]["value"] = "49.60"
    await stack.driver.submit_view(ANN, values)
    await eventually(lambda: new_rows(stack), within=20)
    [bill] = created(stack)[1]
    assert [Decimal(str(x["unitAmount"])) for x in bill["lineItems"]] == [
        Decimal("1250.40"), Decimal("49.60")]
    assert str(bill["totalAmount"]) == "1300.00"
    no_slack_violations(stack)


async def test_totals_follow_the_amounts_as_they_are_typed(stack: Stack) -> None:
    form = await shortcut_form(stack)
    await type_and_dispatch(stack.driver, ANN, "amount", "100")

    def totals() -> str:
        view = stack.workspace.views.get(form.id)
        assert view is not None
        return str(next(b["text"]["text"] for b in view.definition["blocks"]
                        if b.get("block_id") == "new-bill-totals"))
    await eventually(lambda: "100.00" in totals())
    await type_and_dispatch(stack.driver, ANN, "amount", "1,250.40")
    await eventually(lambda: "total *GBP 1,250.40*" in totals())
    shown = stack.workspace.views.get(form.id)
    assert shown is not None and shown.state_values["amount"]["amount"]["value"] == "1,250.40"
    no_slack_violations(stack)
