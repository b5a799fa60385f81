"""Create bill: `/bills new` and the `Create bill` message shortcut open the form; its
submission creates supplier, bill and attachment exactly once (services/bill_creation.py),
then the new bill's row is posted in the bound channel with its invoice in the thread.

Who may create: anyone holding a role (approver, payer or admin): a created bill still needs
its approvals before anyone can pay it, and segregation of duties applies to it as to any.
The form's signed context carries a server-made form id: every submission of that form (a
double click, a Slack retry, "Try again") lands on the same creation and its keys.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Any

import httpx
from slack_sdk.errors import SlackApiError

from billbot.codat.errors import CodatError
from billbot.codat.models import SupplierPrototype
from billbot.context_token import BadContext, ModalContext
from billbot.domain.bill_input import read_bill_input
from billbot.domain.bill_suggestions import BillSuggestions
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import bill_creation, roles
from billbot.services.bill_creation import (
    BillCreator,
    CreationOutcome,
    CreatorSettings,
    Draft,
    SourceFile,
)
from billbot.services.bindings import NOT_BOUND_COMMAND
from billbot.services.document_suggestions import suggest_for_file
from billbot.slackapp.blocks import loading_modal
from billbot.slackapp.interactions import read_signed_form
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.newbill_blocks import (
    FIELDS,
    TITLE,
    FormStart,
    created_text,
    creating_view,
    failed_text,
    new_bill_form,
    outcome_view,
    pending_text,
)
from billbot.slackapp.newbill_lines import LINE_FIELDS, field_id, line_count, with_line_added
from billbot.slackapp.newbill_row import post_new_bill
from billbot.slackapp.payload import text_at, view_value
from billbot.storage import bill_creations
from billbot.testhooks import no_crash, sigkill_at

logger = logging.getLogger("billbot.newbill")

ROLES_ONLY = ("Only approvers, payers and admins may create bills; ask an admin to add you "
              "(`/bills approvers add @you`).")
NOT_A_DOCUMENT = ("Create bill takes a message carrying a PDF or an image of the invoice; "
                  "this message has none.")
DOCUMENT_TYPES = ("application/pdf", "image/")
SUGGEST_SECONDS = 2.0  # the supplier search must answer within Slack's 3 seconds
READ_DOCUMENT_SECONDS = 10.0  # past it the form opens unfilled rather than keep the person
MAX_SUGGESTIONS = 100


def creator(bot: Billbot) -> BillCreator:
    """The creation runner, leased like payments (BILLBOT_PAYMENT_LEASE_SECONDS)."""
    crash_at = bot.settings.billbot_crash_at
    lease = timedelta(seconds=bot.settings.billbot_payment_lease_seconds)
    settings = CreatorSettings(lease=lease, recheck_after=min(lease, timedelta(minutes=1)),
                               unclaimed_grace=min(lease, timedelta(seconds=30)))
    return BillCreator(bot.engine, bot.clock, settings=settings,
                       crash=sigkill_at(crash_at) if crash_at else no_crash)


def slack_files(bot: Billbot) -> bill_creation.FileSource:
    """A Slack file's bytes: files.info, then its private URL with the bot token."""
    async def fetch(file_id: str) -> SourceFile:
        info = (await bot.slack.files_info(file=file_id))["file"]
        response = await bot.http.get(str(info["url_private_download"]),
                                      headers={"Authorization": f"Bearer {bot.slack.token}"})
        if response.status_code != 200:  # Slack redirects a request without the token
            raise OSError(f"Slack answered HTTP {response.status_code} for the file")
        return SourceFile(str(info["name"]), response.content,
                          str(info.get("mimetype") or "application/octet-stream"))
    return fetch


def _document_of(message: Any) -> tuple[str, str] | None:
    """(file id, name) of the message's first PDF or image."""
    files = message.get("files") if isinstance(message, dict) else None
    for item in files if isinstance(files, list) else []:
        mimetype = str(item.get("mimetype") or "") if isinstance(item, dict) else ""
        if mimetype.startswith(DOCUMENT_TYPES) and isinstance(item.get("id"), str):
            return item["id"], str(item.get("name") or item["id"])
    return None


async def may_create(bot: Billbot, user_id: str) -> bool:
    found = await bot.db(lambda s: roles.roles_of(s, bot.policy, user_id), read_only=True)
    return bool(found)


async def open_form(bot: Billbot, *, user_id: str, channel_id: str, trigger_id: str,
                    message: Any = None) -> str | None:
    """Open the form (from the command, or the shortcut's `message`); else what to say."""
    document = _document_of(message) if message is not None else None
    if message is not None and document is None:
        return NOT_A_DOCUMENT
    if not await may_create(bot, user_id):
        return ROLES_ONLY
    binding = await bot.binding_for(channel_id)
    if binding is None:
        return NOT_BOUND_COMMAND
    # The trigger lives 3 s: open at once, then fill the form in once Codat has answered.
    opened = await open_modal(bot, trigger_id=trigger_id, channel_id=channel_id,
                              user_id=user_id, view=loading_modal(TITLE, "Reading the books…"))
    if opened is None:
        return None
    view_id = str(opened["view"]["id"])
    try:
        info = await bot.codat.get_company_info(binding.company_id, binding.connection_id)
        options = await bot.codat.get_bill_mapping_options(binding.company_id,
                                                           binding.connection_id)
    except CodatError:
        await bot.slack.views_update(view_id=view_id, view=outcome_view(
            ":warning: Codat did not answer just now, so the form cannot be filled in. "
            "Nothing was created; try again in a moment."))
        return None
    ctx = ModalContext(bill_id="", channel_id=channel_id, message_ts=None, user_id=user_id,
                       issued_at=bot.clock.now().isoformat(), form_id=uuid.uuid4().hex,
                       base_currency=info.base_currency or "GBP",
                       file_id=document[0] if document else None)
    suggestions = (await _suggestions(bot, document[0], binding.company_id,
                                      binding.connection_id) if document else None)
    start = FormStart(base_currency=ctx.base_currency or "GBP", today=bot.today(),
                      accounts=[a for a in options.accounts if a.status != "Archived"],
                      tax_rates=[t for t in options.tax_rates if t.status != "Archived"],
                      file_name=document[1] if document else None, suggestions=suggestions)
    await bot.slack.views_update(view_id=view_id,
                                 view=new_bill_form(start, metadata=bot.signer.dump(ctx)))
    return None


async def _suggestions(bot: Billbot, file_id: str, company_id: str,
                       connection_id: str) -> BillSuggestions | None:
    """What the file's text layer suggests; None when it cannot be read in time (the
    person then types everything, as without a file)."""
    try:
        async with asyncio.timeout(READ_DOCUMENT_SECONDS):
            source = await slack_files(bot)(file_id)
            return await suggest_for_file(bot.codat, company_id=company_id,
                                          connection_id=connection_id,
                                          document=source.content,
                                          media_type=source.content_type)
    except (SlackApiError, OSError, httpx.HTTPError, CodatError, TimeoutError):
        logger.info("the document was not read for suggestions")
        return None


async def supplier_options(bot: Billbot, ack: Any, body: dict[str, Any]) -> None:
    """The supplier search: Codat's suppliers whose name holds what was typed."""
    user = text_at(body, "user", "id", limit=64)
    token = text_at(body, "view", "private_metadata", limit=3000)
    typed = (text_at(body, "value", limit=100) or "").casefold().strip()
    try:
        if not user or not token:
            raise BadContext("no context")
        ctx = bot.signer.load(token, now=bot.clock.now(), user_id=user)
        binding = await bot.binding_for(ctx.channel_id)
        if binding is None:
            raise BadContext("not bound")
        async with asyncio.timeout(SUGGEST_SECONDS):
            suppliers = await bot.codat.list_suppliers(binding.company_id,
                                                       binding.connection_id)
    except (BadContext, CodatError, TimeoutError):
        await ack(options=[])
        return
    matching = [s for s in suppliers if s.status != "Archived"
                and typed in (s.supplier_name or "").casefold()][:MAX_SUGGESTIONS]
    await ack(options=[{"text": {"type": "plain_text", "text": (s.supplier_name or s.id)[:75]},
                        "value": s.id} for s in matching])


def _typed(view: Any) -> dict[str, str | None]:
    fields: dict[str, str | None] = {}
    for name in FIELDS:
        state = view_value(view, name, name) or {}
        option = state.get("selected_option")
        value = (option.get("value") if isinstance(option, dict)
                 else state.get("selected_date") or state.get("value"))
        fields[name] = value if isinstance(value, str) else None
    return fields


def _extra_lines(view: Any) -> list[dict[str, str | None]]:
    """Lines 2.. of the form, under line 1's field names."""
    blocks = view.get("blocks", []) if isinstance(view, dict) else []
    lines = []
    for line in range(2, line_count(blocks) + 1):
        fields: dict[str, str | None] = {}
        for name in LINE_FIELDS:
            key = field_id(name, line)
            state = view_value(view, key, key) or {}
            option = state.get("selected_option")
            value = option.get("value") if isinstance(option, dict) else state.get("value")
            fields[name] = value if isinstance(value, str) else None
        lines.append(fields)
    return lines


async def add_line(bot: Billbot, body: dict[str, Any]) -> None:
    """"Add line": the same modal with one more line group, updated against the hash the
    click saw so a concurrent update is never clobbered (a refused update is dropped: the
    person clicks again on what is shown)."""
    view = body.get("view")
    view_id = text_at(body, "view", "id", limit=64)
    if not isinstance(view, dict) or not view_id:
        return
    updated = with_line_added(view)
    if updated is None:
        return
    try:
        await bot.slack.views_update(view_id=view_id, hash=text_at(body, "view", "hash",
                                                                     limit=200),
                                     view=updated)
    except SlackApiError as exc:
        logger.info("Add line not shown: %s", exc.response.get("error"))


def _offered(view: Any, block_id: str) -> frozenset[str]:
    """The option values the form itself offered in a static select."""
    for block in view.get("blocks", []) if isinstance(view, dict) else []:
        if isinstance(block, dict) and block.get("block_id") == block_id:
            options = (block.get("element") or {}).get("options") or []
            return frozenset(str(o.get("value")) for o in options if isinstance(o, dict))
    return frozenset()


async def submitted(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    form = await read_signed_form(bot, ack, body, raw_body, action="bill.new",
                                  error_field="supplier")
    if form is None:
        return
    ctx = form.ctx
    if not ctx.form_id or not ctx.base_currency:
        await ack(response_action="errors", errors={"supplier": "This form is malformed."})
        return
    typed, errors = read_bill_input(
        _typed(form.view), base_currency=ctx.base_currency,
        accounts=_offered(form.view, "account"), tax_rates=_offered(form.view, "tax_rate"),
        today=bot.today(), extra_lines=_extra_lines(form.view))
    if typed is None:
        await ack(response_action="errors", errors=errors)
        return
    if not await may_create(bot, form.user):
        await ack(response_action="errors", errors={"supplier": ROLES_ONLY})
        return
    binding = await bot.binding_for(ctx.channel_id)
    if binding is None:
        await ack(response_action="errors", errors={"supplier": NOT_BOUND_COMMAND})
        return
    new_supplier = (SupplierPrototype(supplier_name=typed.new_supplier_name,
                                      default_currency=typed.bill.currency)
                    if typed.new_supplier_name else None)
    draft = Draft(bill=typed.bill, supplier_id=typed.supplier_id, new_supplier=new_supplier,
                  file_id=ctx.file_id)
    form_id = ctx.form_id
    creation_id = await bot.db(lambda s: bill_creation.begin(
        s, request_key=form_id, company_id=binding.company_id,
        connection_id=binding.connection_id, user_id=form.user, draft=draft,
        channel_id=ctx.channel_id, at=bot.clock.now()))
    await ack(response_action="update", view=creating_view())
    outcome = await creator(bot).run(creation_id, bot.payment_codat, slack_files(bot))
    event(logger, "bill creation", outcome=outcome.step)
    await show(bot, outcome)
    view_id = text_at(body, "view", "id", limit=64)
    if view_id:
        try:
            await bot.slack.views_update(view_id=view_id, view=_outcome_view(
                outcome, metadata=text_at(body, "view", "private_metadata", limit=3000)))
        except SlackApiError:
            logger.info("the Create bill modal was closed before its outcome")


def _outcome_view(outcome: CreationOutcome, *, metadata: str | None) -> dict[str, Any]:
    if outcome.step == "done":
        return outcome_view(created_text(None, "the supplier",
                                         attached=outcome.attachment_id is not None,
                                         channel_id=outcome.channel_id)
                            + (f"\n{outcome.error}" if outcome.error else ""))
    if outcome.step == "failed":
        return outcome_view(failed_text(outcome.error or "no reason given"))
    return outcome_view(pending_text())


async def show(bot: Billbot, outcome: CreationOutcome) -> None:
    """Post the new bill's row once (the creation's `shown_at` is the claim)."""
    if not outcome.finished:
        return
    claimed = await bot.db(lambda s: bill_creations.mark_shown(
        s, outcome.creation_id, now=bot.clock.now()))
    if not claimed or outcome.step != "done":
        return
    try:
        await post_new_bill(bot, outcome, slack_files(bot))
    except (SlackApiError, CodatError, OSError):
        logger.warning("the new bill's row was not posted; recovery tries again")
        await bot.db(lambda s: bill_creations.unmark_shown(s, outcome.creation_id))


async def recover_bill_creations(bot: Billbot) -> None:
    """Recovery tick step: finish creations left open, then post rows never shown."""
    for outcome in await creator(bot).recover(bot.payment_codat, slack_files(bot)):
        await show(bot, outcome)
    for row in await bot.db(lambda s: bill_creations.unshown(
            s, finished_before=bot.clock.now() - bill_creation.SHOW_GRACE, limit=20)):
        await show(bot, bill_creation.outcome_of(row))


__all__ = ["add_line", "creator", "open_form", "recover_bill_creations", "show", "slack_files",
           "submitted", "supplier_options"]
