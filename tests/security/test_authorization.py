"""Authorization is decided on the server, at execution time, from the database.

Each test sends correctly signed requests (they pass verification) whose content a real
Slack UI would not produce, or whose sender lost the right in between, and checks that
nothing was recorded, that the refusal is in the audit trail, and that the person was told.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from billbot.context_token import ModalContext
from billbot.sandbox.slack.model import View
from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_PAY, ACTION_REJECT
from billbot.slackapp.interactions import NOT_IN_COMPANY
from tests.e2e.conftest import (
    ADA,
    ANN,
    BEN,
    CHANNEL,
    OSCAR,
    OTHER_CHANNEL,
    PAT,
    Stack,
    approve,
    buttons,
    current,
    eventually,
    first_due,
    modal_account_ids,
    open_pay_modal,
    pay_values,
    post_digest,
    today,
)
from tests.security.forge import (
    audit_rows,
    changed,
    click_payload,
    effects,
    post_interaction,
    quiet,
    submission_payload,
)
from tests.support.pay_review import submit_pay


def other_company(stack: Stack) -> tuple[str, str, str]:
    """(company id, connection id, one of its bill ids): a company not bound to CHANNEL."""
    for (company, connection), ledger in stack.sandbox.ledgers.items():
        if company != stack.company_id and ledger.bills:
            return company, connection, next(iter(ledger.bills))
    raise AssertionError("the seed has a second company with bills")


def shows(stack: Stack, user: str, text: str) -> View | None:
    """The user's open modal if it shows `text`."""
    view = stack.workspace.open_view(user)
    return view if view is not None and text in str(view.definition) else None


def refusals(stack: Stack, user: str) -> list[Any]:
    return [r for r in audit_rows(stack, "access.refused", "payment.refused") if r.actor == user]


async def test_a_bill_of_a_company_not_bound_to_the_channel_is_refused(stack: Stack) -> None:
    company, connection, foreign_bill = other_company(stack)
    answer = await stack.driver.slash_command(ADA, OTHER_CHANNEL, f"connect {company} {connection}")
    assert answer.status == 200
    await eventually(lambda: any("now bound" in e.text
                                 for e in stack.workspace.ephemerals(OTHER_CHANNEL, ADA)))
    main = await post_digest(stack)
    own_bill = first_due(stack)["id"]
    await quiet(stack)
    before = effects(stack)

    # Another company's bill id on a button in this channel (a tampered value): Approve, Pay.
    for user, action in ((ANN, ACTION_APPROVE), (PAT, ACTION_PAY), (BEN, ACTION_REJECT)):
        response = await post_interaction(stack, click_payload(stack, user, CHANNEL, main,
                                                               action, foreign_bill))
        assert response.status == 200
    # This company's bill clicked in a channel bound to the other company.
    await post_interaction(stack, click_payload(stack, ANN, OTHER_CHANNEL, main, ACTION_APPROVE,
                                                own_bill))

    await eventually(lambda: sum(NOT_IN_COMPANY in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, ANN)) >= 1
                     and any(NOT_IN_COMPANY in e.text
                             for e in stack.workspace.ephemerals(OTHER_CHANNEL, ANN)))
    await eventually(lambda: len(refusals(stack, PAT)) >= 1 and len(refusals(stack, ANN)) >= 2)
    # Reject opens the reason modal first (trigger ids live 3 s); the reason is refused later.
    rejected = stack.workspace.open_view(BEN)
    assert rejected is not None
    await post_interaction(stack, submission_payload(
        stack, BEN, rejected, {"reason": {"reason": {"type": "plain_text_input",
                                                     "value": "not our company"}}}))
    await eventually(lambda: len(refusals(stack, BEN)) >= 1)

    assert changed(effects(stack), before) == 0, effects(stack) - before
    assert stack.payments() == []
    for entry in refusals(stack, ANN) + refusals(stack, PAT) + refusals(stack, BEN):
        assert entry.detail["reason"] == NOT_IN_COMPANY
        assert entry.request_id and entry.request_id.startswith("slk-")
    assert {r.company_id for r in refusals(stack, ANN)} == {stack.company_id, company}


async def test_a_payer_whose_role_is_removed_after_opening_the_modal_is_refused(
        stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, main, bill["id"], user=PAT)
    removed = await stack.driver.slash_command(ADA, CHANNEL, f"payers remove <@{PAT}>")
    assert removed.status == 200
    await eventually(lambda: any(r.action == "role.revoked" for r in audit_rows(stack)))

    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0],
                                                   str(bill["amountDue"]), today().isoformat()))
    await eventually(lambda: any(r.detail.get("attempted") == "pay" for r in refusals(stack, PAT)))
    assert stack.payments() == []
    refusal = next(r for r in refusals(stack, PAT) if r.detail.get("attempted") == "pay")
    assert refusal.bill_id == bill["id"] and refusal.bill_version is not None
    assert "payer" in refusal.detail["reason"].lower()
    # The modal says so too (views.update with the refusal; asserted on the call because
    # the stand-in may apply the submission's own "Recording…" answer after it).
    await eventually(lambda: any("Cannot pay" in str(c.params)
                                 for c in stack.workspace.calls("views.update")))
    # ...and the same holds for a fresh click: no modal at all.
    await post_interaction(stack, click_payload(stack, PAT, CHANNEL, current(stack, main.ts),
                                                ACTION_PAY, bill["id"]))
    await eventually(lambda: any("Only payers" in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, PAT)))


async def test_an_approver_whose_role_is_removed_before_the_reason_is_refused(
        stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await post_interaction(stack, click_payload(stack, BEN, CHANNEL, main, ACTION_REJECT,
                                                bill["id"]))
    view = await eventually(lambda: stack.workspace.open_view(BEN))
    assert view is not None
    await stack.driver.slash_command(ADA, CHANNEL, f"approvers remove <@{BEN}>")
    await eventually(lambda: any(r.action == "role.revoked" for r in audit_rows(stack)))
    await quiet(stack)
    before = effects(stack)
    await post_interaction(stack, submission_payload(
        stack, BEN, view, {"reason": {"reason": {"type": "plain_text_input", "value": "not approved here"}}}))
    await eventually(lambda: any(r.detail.get("attempted") == "reject"
                                 for r in refusals(stack, BEN)))
    await quiet(stack)
    after = effects(stack)
    assert changed(after, before) == 0, after - before


async def test_only_the_signed_user_id_counts_never_values_in_the_payload(stack: Stack) -> None:
    """The modal's private_metadata names who opened it and is HMAC-signed: another user
    submitting it (even a payer), an edited copy, or an expired one is refused."""
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, main, bill["id"], user=PAT)
    values = pay_values(modal_account_ids(view)[0], str(bill["amountDue"]), today().isoformat())
    payload_part, _, mac = view.private_metadata.rpartition(".")
    ctx = ModalContext(bill_id=bill["id"], channel_id=CHANNEL, message_ts=main.ts, user_id=ANN,
                       issued_at=(stack.bot.clock.now() - timedelta(minutes=31)).isoformat(),
                       amount_due=str(bill["amountDue"]), currency=bill["currency"])
    forged = {
        "someone else's form (an outsider)": (OSCAR, None, "opened by someone else"),
        "someone else's form (another payer)": (ANN, None, "opened by someone else"),
        "an edited form": (PAT, payload_part[:-2] + "AA." + mac, "not issued by billbot"),
        "a form with no signature": (PAT, payload_part, "not issued by billbot"),
        "an expired form": (ANN, stack.bot.signer.dump(ctx), "expired"),
    }
    await quiet(stack)
    before = effects(stack)
    for name, (user, metadata, why) in forged.items():
        response = await post_interaction(stack, submission_payload(
            stack, user, view, values, private_metadata=metadata))
        answer = response.json()
        assert answer["response_action"] == "errors", name
        assert why in answer["errors"]["account"], (name, answer)
    await eventually(lambda: len(refusals(stack, PAT)) >= 2 and len(refusals(stack, ANN)) >= 2
                     and len(refusals(stack, OSCAR)) >= 1)
    assert changed(effects(stack), before) == 0
    assert stack.payments() == []
    # The body's own user.id is the only identity: a payload naming PAT elsewhere (username,
    # button value) but sent by OSCAR is OSCAR's click.
    payload = click_payload(stack, OSCAR, CHANNEL, current(stack, main.ts), ACTION_PAY,
                            bill["id"])
    payload["user"].update({"username": "pat", "name": "pat"})
    payload["actions"][0]["value"] = bill["id"]
    await post_interaction(stack, payload)
    await eventually(lambda: any("Only payers" in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, OSCAR)))
    assert stack.workspace.open_view(OSCAR) is None


async def test_a_payer_who_approved_cannot_pay_when_duties_are_segregated(
        stack_factory: Any) -> None:
    stack = stack_factory(billbot_payer_cannot_approve=True)
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"], ANN)  # ANN approves and is a payer too
    await post_interaction(stack, click_payload(stack, ANN, CHANNEL, current(stack, main.ts),
                                                ACTION_PAY, bill["id"]))
    refused = await eventually(lambda: shows(stack, ANN, "Cannot pay"))
    assert refused is not None and refused.definition.get("callback_id") != "pay_bill"

    # At execution time: PAT opens the modal, then becomes an approver of the bill.
    view = await open_pay_modal(stack, main, bill["id"], user=PAT)
    await stack.driver.slash_command(ADA, CHANNEL, f"approvers add <@{PAT}>")
    await eventually(lambda: any(r.action == "role.granted" for r in audit_rows(stack)))
    await approve(stack, main, bill["id"], PAT)
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0],
                                                   str(bill["amountDue"]), today().isoformat()))
    await eventually(lambda: any(r.detail.get("attempted") == "pay" for r in refusals(stack, PAT)))
    assert stack.payments() == []
    # A payer who did not approve it may pay.
    await stack.driver.slash_command(ADA, CHANNEL, f"payers add <@{BEN}>")
    await eventually(lambda: sum(r.action == "role.granted" for r in audit_rows(stack)) >= 2)
    view = await open_pay_modal(stack, main, bill["id"], user=BEN)
    await submit_pay(stack.driver, BEN, pay_values(modal_account_ids(view)[0],
                                                   str(bill["amountDue"]), today().isoformat()))
    await eventually(lambda: len(stack.payments()) == 1)


async def test_admin_commands_are_for_admins_and_every_change_is_audited(stack: Stack) -> None:
    company, connection, _ = other_company(stack)
    await quiet(stack)
    before = effects(stack)
    for user in (ANN, PAT, OSCAR):
        for text in (f"approvers add <@{OSCAR}>", f"payers remove <@{PAT}>", "approvers list",
                     f"connect {company} {connection}", "audit"):
            await stack.driver.slash_command(user, CHANNEL, text)
    await eventually(lambda: sum(len(refusals(stack, u)) for u in (ANN, PAT, OSCAR)) == 15)
    assert changed(effects(stack), before) == 0
    assert all("Only billbot admins" in e.text for u in (ANN, PAT, OSCAR)
               for e in stack.workspace.ephemerals(CHANNEL, u))

    changes = [f"approvers add <@{OSCAR}>", f"payers add <@{OSCAR}>",
               f"approvers remove <@{OSCAR}>", f"payers remove <@{PAT}>",
               f"connect {company} {connection}"]
    for text in changes:
        await stack.driver.slash_command(ADA, OTHER_CHANNEL if "connect" in text else CHANNEL,
                                         text)
    admin = ("role.granted", "role.revoked", "binding.set")

    def made() -> list[Any]:
        return [r for r in audit_rows(stack, *admin) if r.actor == ADA]

    await eventually(lambda: len(made()) == len(changes))
    entries = made()
    assert sorted((e.action, e.detail.get("user_id") or e.detail.get("channel_id"))
                  for e in entries) == sorted([
        ("role.granted", OSCAR), ("role.granted", OSCAR), ("role.revoked", OSCAR),
        ("role.revoked", PAT), ("binding.set", OTHER_CHANNEL)])
    assert next(e for e in entries if e.action == "binding.set").company_id == company
    assert len({e.request_id for e in entries}) == len(changes)
    assert all(e.request_id and e.at for e in entries)
    # The changes took effect: OSCAR pays but no longer approves; PAT no longer pays.
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"], ANN)
    assert "Pay" in buttons(current(stack, main.ts), bill["id"])
    await post_interaction(stack, click_payload(stack, PAT, CHANNEL, current(stack, main.ts),
                                                ACTION_PAY, bill["id"]))
    await eventually(lambda: any("Only payers" in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, PAT)))
    await open_pay_modal(stack, main, bill["id"], user=OSCAR)
