"""View invoice (a button in the Details modal): the attachment, downloaded from Codat, is
uploaded into the bill's thread once. A claim row is taken before any byte moves, so double
clicks, Slack's retries and other replicas yield one file; a later click is answered with the
file's permalink. A failure (Codat, Slack's limits, Slack itself) gives the claim back, so
the next click tries again, and tells the person in plain words, only to them."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from billbot.codat.errors import CodatError
from billbot.codat.models import Attachment, Bill
from billbot.context_token import BadContext, ModalContext
from billbot.domain.bill_handles import is_handle
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services.bindings import NOT_BOUND, Binding
from billbot.slack_web.file_upload import FileRefused, UploadFailed, share_file, size_problem
from billbot.slackapp.details_blocks import details_view
from billbot.slackapp.details_flow import gather_details
from billbot.slackapp.interactions import (
    NOT_IN_COMPANY,
    ephemeral,
    fresh_bill,
    refuse,
    resolve_handle,
)
from billbot.slackapp.invoice_thread import bill_thread_ts
from billbot.slackapp.mrkdwn import user_text
from billbot.slackapp.payload import request_id, text_at
from billbot.storage import invoice_uploads
from billbot.storage.audit import record_audit
from billbot.storage.invoice_uploads import UploadKey

logger = logging.getLogger("billbot.invoice")

# A claim still `uploading` after this long belongs to a replica that died mid-upload.
STALE_UPLOAD_CLAIM = timedelta(minutes=10)
NOT_THIS_BILLS = "That attachment is not one of this bill's, so nothing was uploaded."


async def _context(bot: Billbot, body: dict[str, Any], rid: str
                   ) -> tuple[ModalContext, Binding, str] | None:
    """The modal's signed context, its channel's binding and the clicked attachment id."""
    user = text_at(body, "user", "id", limit=64)
    token = text_at(body, "view", "private_metadata", limit=3000)
    attachment_id = text_at(body, "actions", 0, "value", limit=255)
    if not user:
        return None
    try:
        if not token:
            raise BadContext("This form is malformed.")
        ctx = bot.signer.load(token, now=bot.clock.now(), user_id=user)
    except BadContext as exc:
        await refuse(bot, user=user, action="view_invoice", request_id=rid, reason=str(exc))
        return None
    binding = await bot.binding_for(ctx.channel_id)
    if binding is None:
        await refuse(bot, user=user, action="view_invoice", request_id=rid, reason=NOT_BOUND)
        await ephemeral(bot, ctx.channel_id, user, NOT_BOUND)
        return None
    if is_handle(ctx.bill_id):
        bill_id = await resolve_handle(bot, binding, ctx.bill_id)
        if bill_id is None:
            await refuse(bot, user=user, action="view_invoice", request_id=rid,
                         reason=NOT_IN_COMPANY, binding=binding)
            await ephemeral(bot, ctx.channel_id, user, NOT_IN_COMPANY)
            return None
        ctx = replace(ctx, bill_id=bill_id)
    if not attachment_id:
        await ephemeral(bot, ctx.channel_id, user, NOT_THIS_BILLS)
        return None
    return ctx, binding, attachment_id


async def view_invoice_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    rid = request_id(raw_body)
    found = await _context(bot, body, rid)
    if found is None:
        return
    ctx, binding, attachment_id = found
    user, channel = ctx.user_id, ctx.channel_id
    bill = await fresh_bill(bot, channel, user, binding, ctx.bill_id, action="view_invoice",
                            request_id=rid)
    if bill is None:
        return
    try:
        listed = await bot.codat.list_attachments(binding.company_id, binding.connection_id,
                                                  bill.id)
    except CodatError as exc:
        logger.warning("attachment list failed: %s", exc.__class__.__name__)
        await ephemeral(bot, channel, user, "Codat did not list the bill's attachments just "
                        "now, so nothing was uploaded. Try View invoice again shortly.")
        return
    attachment = next((a for a in listed if a.id == attachment_id), None)
    if attachment is None:
        await refuse(bot, user=user, action="view_invoice", request_id=rid,
                     reason="attachment not on this bill", binding=binding, bill_id=bill.id)
        await ephemeral(bot, channel, user, NOT_THIS_BILLS)
        return
    name = user_text(attachment.name or attachment.id, 120)
    too_big = size_problem(attachment.file_size) if attachment.file_size else None
    if too_big:  # known from the listing: not worth downloading
        await ephemeral(bot, channel, user, f"{name} was not uploaded: {too_big}")
        return
    key = UploadKey(binding.company_id, binding.connection_id, bill.id, attachment.id)
    now = bot.clock.now()
    answer = await bot.db(lambda s: invoice_uploads.claim(
        s, key, user_id=user, at=now, stale_before=now - STALE_UPLOAD_CLAIM))
    if not answer.won:
        event(logger, "view invoice", outcome="already" if answer.permalink else "in_progress")
        await ephemeral(bot, channel, user, (
            f"{name} is already in the bill's thread: <{answer.permalink}|open it>."
            if answer.permalink else
            f"{name} is being uploaded into the bill's thread right now."))
        return
    try:
        problem = await _upload(bot, binding, bill, attachment, ctx, key, rid)
    except BaseException:
        # Anything unforeseen: give the claim back rather than block the file for minutes.
        await bot.db(lambda s: invoice_uploads.release(s, key))
        raise
    if problem is not None:
        await bot.db(lambda s: invoice_uploads.release(s, key))
        event(logger, "view invoice", outcome="failed")
        await ephemeral(bot, channel, user, f"{name} was not uploaded: {problem} "
                        "Press View invoice to try again.")
        return
    event(logger, "view invoice", outcome="shared")
    view_id = text_at(body, "view", "id", limit=64)
    if view_id:  # the open modal now links the file (best effort: it may be closed)
        try:
            data = await gather_details(bot, binding, bill)
            await bot.slack.views_update(view_id=view_id, view=details_view(
                data, today=bot.today(), metadata=str(body["view"]["private_metadata"])))
        except (SlackApiError, CodatError):
            logger.info("details modal not refreshed after the upload")


async def _upload(bot: Billbot, binding: Binding, bill: Bill, attachment: Attachment,
                  ctx: ModalContext, key: UploadKey, rid: str) -> str | None:
    """Download and share the file; None when it is in the thread, else why not."""
    try:
        content = await bot.codat.download_attachment(binding.company_id,
                                                      binding.connection_id, bill.id,
                                                      attachment.id)
    except CodatError as exc:
        logger.warning("attachment download failed: %s", exc.__class__.__name__)
        return "Codat did not hand over the file just now."
    thread_ts = await bill_thread_ts(bot, binding, bill_id=bill.id, channel_id=ctx.channel_id,
                                     message_ts=ctx.message_ts)
    reference = user_text(bill.reference or bill.id, 120)
    supplier = user_text(bill.supplier_ref.supplier_name or bill.supplier_ref.id, 120)
    filename = attachment.name or f"attachment-{attachment.id}"
    try:
        shared = await share_file(
            bot.slack, bot.http, content=content, filename=filename,
            title=f"{bill.reference or bill.id} · {filename}", channel_id=ctx.channel_id,
            thread_ts=thread_ts,
            comment=f"Invoice for bill *{reference}* from {supplier}, "
                    f"asked for by <@{ctx.user_id}>.")
    except FileRefused as exc:
        return str(exc)
    except (SlackApiError, UploadFailed, httpx.HTTPError) as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else \
            str(exc) or exc.__class__.__name__
        logger.warning("slack upload failed: %s", error)
        return f"Slack refused the upload ({error})."
    await bot.db(lambda s: _shared(s, key, ctx, thread_ts, shared.file_id, shared.permalink,
                                   attachment, rid, bot))
    return None


def _shared(session: Session, key: UploadKey, ctx: ModalContext, thread_ts: str | None,
            file_id: str, permalink: str, attachment: Attachment, rid: str,
            bot: Billbot) -> None:
    at = bot.clock.now()
    invoice_uploads.mark_shared(session, key, channel_id=ctx.channel_id, thread_ts=thread_ts,
                                file_id=file_id, permalink=permalink, at=at)
    record_audit(session, at=at, actor=ctx.user_id, action="invoice.shared",
                 company_id=key.company_id, connection_id=key.connection_id,
                 bill_id=key.bill_id, request_id=rid,
                 detail={"attachment_id": attachment.id, "name": attachment.name,
                         "file_id": file_id, "channel_id": ctx.channel_id,
                         "thread_ts": thread_ts})
