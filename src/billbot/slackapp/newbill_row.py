"""The new bill's row in its channel, awaiting approval, with the invoice in its thread.

The row is a message of its own (indexed like a digest's rows, so Approve, Details and the
row refreshes work on it as on any row); the invoice is shared into that message's thread
and recorded as View invoice's upload of that attachment, so a later View invoice reuses it.
"""

from __future__ import annotations

import logging

import httpx
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from billbot.domain.bill_handles import handles_of
from billbot.domain.copies import shown_of
from billbot.runtime import Billbot
from billbot.services.bill_creation import CreationOutcome, FileSource
from billbot.slack_web.file_upload import FileRefused, UploadFailed, share_file
from billbot.slackapp.blocks import bill_row, mention
from billbot.slackapp.mrkdwn import user_text
from billbot.slackapp.rows import row_states
from billbot.storage import bill_copies, bill_handles, invoice_uploads, slack_messages
from billbot.storage.audit import BillRef, record_audit
from billbot.storage.invoice_uploads import UploadKey

logger = logging.getLogger("billbot.newbill")


async def post_new_bill(bot: Billbot, outcome: CreationOutcome, files: FileSource) -> None:
    assert outcome.bill_id is not None and outcome.channel_id is not None
    channel_id = outcome.channel_id
    binding = await bot.binding_for(channel_id)
    if binding is None or (binding.company_id, binding.connection_id) != (
            outcome.company_id, outcome.connection_id):
        logger.warning("the new bill's channel is no longer bound to its company; no row")
        return
    bill = await bot.codat.get_bill(binding.company_id, binding.connection_id, outcome.bill_id)
    states = await row_states(bot, binding, [bill])
    intro = {"type": "context", "elements": [{"type": "mrkdwn", "text": (
        f":new: New bill created in billbot by {mention(outcome.created_by)}, "
        "awaiting approval.")}]}
    blocks = [intro, *bill_row(bill, states[bill.id], today=bot.today())]
    text = f"New bill {bill.reference or bill.id}, awaiting approval"
    handles = handles_of([bill.id])
    if handles:  # a click on a row posted a moment ago must find its bill
        await bot.db(lambda s: bill_handles.remember(
            s, company_id=binding.company_id, connection_id=binding.connection_id,
            handles=handles, at=bot.clock.now()))
    answer = await bot.slack.chat_postMessage(channel=channel_id, text=text, blocks=blocks,
                                              unfurl_links=False, unfurl_media=False)
    ts = str(answer["ts"])

    def save(session: Session) -> None:
        now = bot.clock.now()
        slack_messages.save_message(session, channel_id=channel_id, ts=ts, blocks=blocks,
                                    bill_ids=[bill.id], at=now)
        bill_copies.remember_new(session, channel_id=channel_id, ts=ts,
                                 company_id=binding.company_id,
                                 connection_id=binding.connection_id, digest_ts=ts,
                                 shown=[shown_of(bill)], at=now)
    await bot.db(save)
    if outcome.attachment_id is not None:
        await _share_invoice(bot, outcome, files, channel_id=channel_id, thread_ts=ts,
                             reference=bill.reference or bill.id,
                             supplier=bill.supplier_ref.supplier_name or "")


async def _share_invoice(bot: Billbot, outcome: CreationOutcome, files: FileSource, *,
                         channel_id: str, thread_ts: str, reference: str,
                         supplier: str) -> None:
    assert outcome.bill_id is not None and outcome.attachment_id is not None
    key = UploadKey(outcome.company_id, outcome.connection_id, outcome.bill_id,
                    outcome.attachment_id)
    claim = await bot.db(lambda s: invoice_uploads.claim(
        s, key, user_id=outcome.created_by, at=bot.clock.now(), stale_before=bot.clock.now()))
    if not claim.won:
        return
    try:
        assert outcome.file_id is not None
        source = await files(outcome.file_id)
        shared = await share_file(
            bot.slack, bot.http, content=source.content, filename=source.name,
            title=f"{reference} · {source.name}", channel_id=channel_id, thread_ts=thread_ts,
            comment=f"Invoice for bill *{user_text(reference, 120)}* from "
                    f"{user_text(supplier, 120)}, as attached in the books.")
    except (FileRefused, UploadFailed, OSError, SlackApiError, httpx.HTTPError):
        await bot.db(lambda s: invoice_uploads.release(s, key))
        logger.warning("the new bill's invoice was not shared in its thread")
        return

    def done(session: Session) -> None:
        at = bot.clock.now()
        invoice_uploads.mark_shared(session, key, channel_id=channel_id, thread_ts=thread_ts,
                                    file_id=shared.file_id, permalink=shared.permalink, at=at)
        record_audit(session, at=at, actor=outcome.created_by, action="invoice.shared",
                     bill=BillRef(outcome.company_id, outcome.connection_id, outcome.bill_id
                                  or ""),
                     detail={"attachment_id": outcome.attachment_id, "name": source.name,
                             "file_id": shared.file_id, "channel_id": channel_id,
                             "thread_ts": thread_ts})
    await bot.db(done)
