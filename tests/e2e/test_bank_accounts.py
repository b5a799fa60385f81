"""`/bills accounts add` (issue 19, item 3): admins only; a form with the fields of Codat's
create-bank-account prototype, checked inline; the account created exactly once under a double
submit, a Slack retry or a lost answer; then offered in the pay form."""

from __future__ import annotations

import asyncio
from typing import Any

from billbot.sandbox.codat.faults import FaultKind
from billbot.services.bank_accounts import ADMINS_ONLY
from tests.e2e.conftest import (
    ADA,
    CHANNEL,
    OSCAR,
    PAT,
    Stack,
    approve,
    audit,
    ephemeral_texts,
    eventually,
    first_due,
    modal_account_ids,
    no_slack_violations,
    open_pay_modal,
    post_digest,
)
from tests.support.bank_accounts import account_form, account_values, view_text


def created_accounts(stack: Stack, name: str) -> list[str]:
    return [a["id"] for a in stack.sandbox.main_ledger.bank_accounts.values()
            if a["name"] == name]


async def open_form(stack: Stack, user: str = ADA) -> object:
    await stack.driver.slash_command(user, CHANNEL, "accounts add")
    return await eventually(lambda: account_form(stack.workspace, user))


async def test_an_admin_adds_an_account_once_and_payers_are_offered_it(stack: Stack) -> None:
    form = await open_form(stack)
    assert "GBP" in str(form.definition)  # type: ignore[attr-defined]  # the base currency
    # Inline errors: a currency that is no ISO code, a UK account without its sort code.
    answer = await stack.driver.submit_view(ADA, account_values(currency="GB1", sort_code=None))
    assert answer.status == 200 and "errors" in answer.json()
    assert set(answer.json()["errors"]) == {"currency"}  # no sort code asked: not GBP
    answer = await stack.driver.submit_view(ADA, account_values(sort_code=None))
    assert "sort code" in answer.json()["errors"]["sort_code"]
    answer = await stack.driver.submit_view(ADA, account_values(sort_code="12345"))
    assert set(answer.json()["errors"]) == {"sort_code"}
    assert created_accounts(stack, "Barclays Payables") == []

    # Double submit: both submissions leave before either is answered.
    view_id = form.id  # type: ignore[attr-defined]
    values = account_values()
    await asyncio.gather(stack.driver.submit_view(ADA, values, view_id),
                         stack.driver.submit_view(ADA, values, view_id))
    await eventually(lambda: created_accounts(stack, "Barclays Payables"))
    await eventually(lambda: (v := stack.workspace.views.get(view_id)) is not None
                     and "created" in view_text(v))
    await asyncio.sleep(0.3)  # let the second submission finish too
    # Both submissions shared the one call and answered with its outcome: no later answer
    # took the confirmation away.
    final = stack.workspace.views.get(view_id)
    assert final is not None and "created" in view_text(final)
    [account_id] = created_accounts(stack, "Barclays Payables")
    assert [e.detail["account_id"] for e in audit(stack, "bank_account.created")] == [account_id]
    created = stack.sandbox.main_ledger.bank_accounts[account_id]
    assert (created["sortCode"], created["accountNumber"], created["status"]) == (
        "20-00-00", "41234567", "Active")

    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"])
    assert account_id in modal_account_ids(await open_pay_modal(stack, main, bill["id"], PAT))
    no_slack_violations(stack)


async def test_only_admins_may_add_accounts(stack: Stack) -> None:
    for user in (OSCAR, PAT):
        await stack.driver.slash_command(user, CHANNEL, "accounts add")
        await eventually(lambda u=user: any(ADMINS_ONLY in t for t in ephemeral_texts(stack, u)))  # type: ignore[misc]
        assert account_form(stack.workspace, user) is None
    assert not [r for r in stack.sandbox.requests if r.path.endswith("/bankAccounts")]


async def test_a_lost_answer_is_retried_with_the_same_key_and_creates_one_account(
        stack: Stack) -> None:
    await open_form(stack)
    faults = stack.sandbox.faults
    faults.lose_response_hold_seconds = 0.3
    faults.next(FaultKind.LOSE_RESPONSE, path="bankAccounts$", method="POST")
    await stack.driver.submit_view(ADA, account_values(name="Lost and found"))
    await eventually(lambda: audit(stack, "bank_account.created"), within=60)
    assert len(created_accounts(stack, "Lost and found")) == 1
    posts = [r for r in stack.sandbox.requests if r.path.endswith("/bankAccounts")]
    assert len(posts) >= 2 and len({r.idempotency_key for r in posts}) == 1
    assert "lost" in posts[0].outcome and posts[-1].outcome == "replayed"


async def test_no_answer_at_all_offers_try_again_with_the_same_request(stack_factory: Any
                                                                      ) -> None:
    # A short payment lease makes the client give up after about 2 s of 503s.
    stack: Stack = stack_factory(billbot_payment_lease_seconds=8.0)
    form = await open_form(stack)
    view_id = form.id  # type: ignore[attr-defined]
    stack.sandbox.faults.next(FaultKind.UNAVAILABLE, 1000, path="bankAccounts$", method="POST")
    await stack.driver.submit_view(ADA, account_values(name="Patient"))
    view = await eventually(lambda: (v := stack.workspace.views.get(view_id)) is not None
                            and "Try again" in str(v.definition) and v, within=60)
    assert "may have been created" in view_text(view) and created_accounts(stack, "Patient") == []
    stack.sandbox.faults.clear()
    await stack.driver.submit_view(ADA, {}, view_id)  # Try again: the stored request, same key
    await eventually(lambda: created_accounts(stack, "Patient"), within=60)
    await eventually(lambda: "is created" in view_text(stack.workspace.views.get(view_id)))
    posts = [r for r in stack.sandbox.requests if r.path.endswith("/bankAccounts")]
    assert len({r.idempotency_key for r in posts}) == 1
    assert len(created_accounts(stack, "Patient")) == 1


async def test_a_refusal_from_the_books_is_shown_and_nothing_is_created(stack: Stack) -> None:
    form = await open_form(stack)
    view_id = form.id  # type: ignore[attr-defined]
    stack.sandbox.faults.next(FaultKind.REFUSE, path="bankAccounts$", method="POST")
    await stack.driver.submit_view(ADA, account_values(name="Refused"))
    await eventually(lambda: "Codat refused" in view_text(stack.workspace.views.get(view_id)))
    assert created_accounts(stack, "Refused") == []
    assert len(audit(stack, "bank_account.refused")) == 1
    assert not audit(stack, "bank_account.created")


async def test_a_slack_retry_of_the_submission_creates_nothing_twice(stack: Stack) -> None:
    await open_form(stack)
    seen: list[bytes] = []
    original = stack.driver.post_signed

    async def remember(raw_body: bytes | str, content_type: str, **kw: object) -> object:
        seen.append(raw_body if isinstance(raw_body, bytes) else raw_body.encode())
        return await original(raw_body, content_type, **kw)  # type: ignore[arg-type]

    stack.driver.post_signed = remember  # type: ignore[method-assign,assignment]
    await stack.driver.submit_view(ADA, account_values(name="Retried"))
    stack.driver.post_signed = original  # type: ignore[method-assign]
    again = await original(seen[-1], "application/x-www-form-urlencoded",
                           extra_headers={"X-Slack-Retry-Num": "1",
                                          "X-Slack-Retry-Reason": "http_timeout"})
    assert again.status == 200
    await eventually(lambda: audit(stack, "bank_account.created"))
    assert len(created_accounts(stack, "Retried")) == 1
    assert len(audit(stack, "bank_account.requested")) == 1
