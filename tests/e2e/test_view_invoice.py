"""View invoice (issue 15 item 2): the bill's attachment, downloaded from Codat, is uploaded
into the bill's thread through Slack's strict file API, once per attachment however many
clicks arrive at once; a later click gets the permalink; failures are told to the clicker and
the next click tries again."""

from __future__ import annotations

import asyncio

from billbot.codat.retry import RetryPolicy
from billbot.sandbox.codat.faults import FaultKind
from billbot.sandbox.codat.ledger import StoredAttachment
from billbot.sandbox.codat.seed import BILL_ID_BASE
from billbot.sandbox.slack.model import Message
from billbot.slackapp.details_blocks import ACTION_VIEW_INVOICE
from tests.e2e.conftest import (
    ANN,
    BEN,
    CHANNEL,
    OSCAR,
    Stack,
    audit,
    ephemeral_texts,
    eventually,
    no_slack_violations,
    post_digest,
)
from tests.support.details import details_text, open_details

INV8 = str(BILL_ID_BASE + 8)  # INV-00008: invoice PDF and a timesheet CSV
INV4 = str(BILL_ID_BASE + 4)  # INV-00004: no attachment


def thread_files(stack: Stack, main: Message) -> list[Message]:
    """The bot's file shares in the digest's thread."""
    return [m for m in stack.workspace.thread(CHANNEL, main.ts)
            if m.text.startswith("Invoice for bill")]


def uploads(stack: Stack) -> int:
    return len(stack.workspace.calls("files.getUploadURLExternal"))


async def view_invoice(stack: Stack, user: str, block_id: str = "attachment-0") -> None:
    response = await stack.driver.click_in_view(user, ACTION_VIEW_INVOICE, block_id=block_id)
    assert response.status == 200


async def test_concurrent_double_clicks_upload_one_file_into_the_bills_thread(
        stack: Stack) -> None:
    main = await post_digest(stack)
    await open_details(stack, ANN, main, INV8)
    await asyncio.gather(view_invoice(stack, ANN), view_invoice(stack, ANN))
    [shared] = await eventually(lambda: thread_files(stack, main))
    assert "INV-00008" in shared.text and f"<@{ANN}>" in shared.text
    told = await eventually(lambda: [t for t in ephemeral_texts(stack, ANN)
                                     if "invoice-INV-00008.pdf" in t])
    assert "already in the bill's thread" in told[0] or "being uploaded" in told[0]
    await eventually(lambda: len(audit(stack, "invoice.shared")) == 1)
    assert uploads(stack) == 1
    [stored] = [f for f in stack.workspace.files.all() if f.completed]
    assert stored.name == "invoice-INV-00008.pdf" and stored.content is not None
    assert stored.content.startswith(b"%PDF-1.4") and stored.content.rstrip().endswith(b"%%EOF")
    assert stored.shares == {CHANNEL: [shared.ts]}

    # A later click, by anyone, gets the existing file; the modal links it too.
    await open_details(stack, BEN, main, INV8)
    assert "Already in the bill's thread" in details_text(stack.workspace.open_view(BEN))
    await view_invoice(stack, BEN)
    link = await eventually(lambda: [t for t in ephemeral_texts(stack, BEN) if "open it" in t])
    assert "/files/" in link[0] and stored.id in link[0]
    assert uploads(stack) == 1 and len(thread_files(stack, main)) == 1
    no_slack_violations(stack)


async def test_several_attachments_are_offered_by_name_and_each_uploads_once(
        stack: Stack) -> None:
    main = await post_digest(stack)
    view = await open_details(stack, OSCAR, main, INV8)
    text = details_text(view)
    assert "invoice-INV-00008.pdf" in text and "timesheet.csv" in text
    await view_invoice(stack, OSCAR, "attachment-0")
    await eventually(lambda: len(thread_files(stack, main)) == 1)
    await view_invoice(stack, OSCAR, "attachment-1")
    await eventually(lambda: len(thread_files(stack, main)) == 2)
    names = sorted(f.name for f in stack.workspace.files.all())
    assert names == ["invoice-INV-00008.pdf", "timesheet.csv"]


async def test_a_bill_without_attachments_says_so(stack: Stack) -> None:
    main = await post_digest(stack)
    view = await open_details(stack, ANN, main, INV4)
    assert "The books hold no attachment for this bill." in details_text(view)
    assert ACTION_VIEW_INVOICE not in str(view.definition)


async def test_codat_failing_the_download_is_told_and_the_next_click_uploads(
        stack: Stack) -> None:
    # Two quick attempts instead of a 30-second retry budget: this test is about the message.
    stack.bot.codat = stack.bot.codat.with_retry(RetryPolicy(initial_interval=0.01,
                                                             max_attempts=2))
    main = await post_digest(stack)
    await open_details(stack, ANN, main, INV8)
    stack.sandbox.faults.next(FaultKind.SERVER_ERROR, 2, path="/download$")
    await view_invoice(stack, ANN)
    told = await eventually(lambda: [t for t in ephemeral_texts(stack, ANN)
                                     if "was not uploaded" in t])
    assert "Codat did not hand over the file" in told[0] and "try again" in told[0]
    assert uploads(stack) == 0 and thread_files(stack, main) == []
    await view_invoice(stack, ANN)  # the claim was given back
    await eventually(lambda: len(thread_files(stack, main)) == 1)


async def test_slack_file_limits_and_refusals_are_told_and_retried(stack: Stack) -> None:
    main = await post_digest(stack)
    ledger = stack.sandbox.main_ledger
    # Over Slack's 1 GB per file (as Codat lists it): refused before anything is downloaded.
    [(att_id, stored)] = [(k, v) for k, v in ledger.attachments[INV8].items()
                          if v.meta["name"] == "timesheet.csv"]
    ledger.attachments[INV8][att_id] = StoredAttachment(
        {**stored.meta, "fileSize": 1536 * 1024 ** 2}, stored.content)  # int32 in the spec
    await open_details(stack, ANN, main, INV8)
    await view_invoice(stack, ANN, "attachment-1")
    told = await eventually(lambda: [t for t in ephemeral_texts(stack, ANN) if "1 GB" in t])
    assert "timesheet.csv was not uploaded: The file is 1.5 GB" in told[0]
    assert uploads(stack) == 0
    assert not [r for r in stack.sandbox.requests if r.path.endswith("/download")]

    # Slack refusing the upload (an install that predates the files scopes): told, retried.
    granted = stack.workspace.credentials.scopes
    stack.workspace.credentials.scopes = tuple(s for s in granted if s != "files:write")
    await view_invoice(stack, ANN, "attachment-0")
    await eventually(lambda: any("missing_scope" in t for t in ephemeral_texts(stack, ANN)))
    stack.workspace.credentials.scopes = granted
    await view_invoice(stack, ANN, "attachment-0")
    await eventually(lambda: len(thread_files(stack, main)) == 1)
    await eventually(lambda: len(audit(stack, "invoice.shared")) == 1)
