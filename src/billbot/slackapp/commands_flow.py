"""`/bills`: help, due, digest, show, and the admin subcommands.

Answers go to the caller only: the slash command's HTTP response (via `ack`) when it is
immediate, the response_url (`respond`) when Codat must be asked first.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlmodel import Session

from billbot.codat.errors import CodatError
from billbot.codat.models import Bill
from billbot.domain.bill_handles import handles_of
from billbot.domain.digest import summarise
from billbot.domain.policy import Role
from billbot.runtime import Billbot
from billbot.services import audit_history, bill_search, bindings, connect_watch, roles
from billbot.services.bindings import NOT_BOUND_COMMAND, Binding
from billbot.slackapp import (
    accounts_flow,
    connect_flow,
    delegation_flow,
    digests,
    newbill_flow,
    payrun_open,
    policy_edit_flow,
    policy_flow,
    setup_flow,
)
from billbot.slackapp import commands as cmd
from billbot.slackapp.audit_text import audit_text, matches_text
from billbot.slackapp.blocks import (
    ADMIN_HELP_TEXT,
    HELP_TEXT,
    bill_detail_blocks,
)
from billbot.slackapp.due_pages import due_page_blocks
from billbot.slackapp.interactions import is_admin
from billbot.slackapp.invite_notice import tell_admins_once, unpostable_error, what_to_do
from billbot.slackapp.mrkdwn import escape
from billbot.slackapp.payload import request_id, text_at
from billbot.slackapp.policy_edit_blocks import answer_blocks
from billbot.storage import bill_handles

logger = logging.getLogger("billbot.commands")

PAUSED = ("Digests are paused here: this channel's Codat connection is disconnected. They "
          "resume when it is linked again (Codat's link page, or `/bills connect`).")


def _help(hint: str | None, *, admin: bool = False) -> str:
    text = f"{HELP_TEXT}\n\n{ADMIN_HELP_TEXT}" if admin else HELP_TEXT
    return f"{hint}\n\n{text}" if hint else text


async def handle(bot: Billbot, *, ack: Any, body: dict[str, Any], respond: Any,
                 raw_body: str, first_delivery: Callable[[], Awaitable[bool]]) -> None:
    """Answer one `/bills` request. `first_delivery` is asked after the acknowledgement and
    before any change (a digest posted, a role or binding changed): False means this exact
    request was handled already. Read-only answers need no such check."""
    user = text_at(body, "user_id", limit=64)
    channel = text_at(body, "channel_id", limit=64)
    text = body.get("text") if isinstance(body.get("text"), str) else ""
    if not user or not channel:
        await ack(text="This request is missing its user or channel.")
        return
    command = cmd.parse(str(text)[:4000])
    rid = request_id(raw_body)
    match command:
        case cmd.Help(hint=hint):
            await ack(text=_help(hint, admin=await is_admin(bot, user)))
        case cmd.Due(days=days):
            await ack()
            await _due(bot, respond, user, channel, days)
        case cmd.Digest():
            await _digest(bot, ack, respond, user, channel, first_delivery)
        case cmd.Payrun():
            await ack()
            trigger = text_at(body, "trigger_id", limit=255)
            if trigger and await first_delivery():
                await payrun_open.open_payrun(bot, user_id=user, trigger_id=trigger,
                                              channel_id=channel, request=rid)
        case cmd.ConnectModal():
            await ack()
            trigger = text_at(body, "trigger_id", limit=255)
            if trigger and await first_delivery():
                await connect_flow.open_connect(bot, user_id=user, channel_id=channel,
                                                trigger_id=trigger, request=rid, respond=respond)
        case cmd.AccountsAdd():
            await ack()
            trigger = text_at(body, "trigger_id", limit=255)
            if trigger and await first_delivery():
                told = await accounts_flow.open_form(bot, user_id=user, channel_id=channel,
                                                     trigger_id=trigger)
                if told:
                    await respond(text=told, response_type="ephemeral")
        case cmd.NewBill():
            await ack()
            trigger = text_at(body, "trigger_id", limit=255)
            if trigger and await first_delivery():
                told = await newbill_flow.open_form(bot, user_id=user, channel_id=channel,
                                                    trigger_id=trigger)
                if told:
                    await respond(text=told, response_type="ephemeral")
        case cmd.Setup():
            await ack()
            await setup_flow.answer(bot, respond, user=user, channel=channel)
        case cmd.Show(reference=reference):
            await ack()
            await _show(bot, respond, channel, reference)
        case cmd.Away() | cmd.Back() | cmd.AwayList() | cmd.AwayEnd():
            await ack()
            if not await first_delivery():
                return
            await respond(text=await delegation_flow.answer(bot, user, command, rid),
                          response_type="ephemeral")
        case cmd.Policy(action="edit"):
            await ack()
            trigger = text_at(body, "trigger_id", limit=255)
            if trigger and await first_delivery():
                told = await policy_edit_flow.open_edit(bot, user_id=user, channel_id=channel,
                                                        trigger_id=trigger, request=rid)
                if told:
                    await respond(text=told, response_type="ephemeral")
        case cmd.Policy():
            await ack()
            if command.action == "reload" and not await first_delivery():
                return
            said = await policy_flow.answer(bot, user, channel, command, rid)
            # Admins of a database policy get an Edit policy button under it.
            editable = (command.action == "show" and not bot.policy.in_file
                        and await is_admin(bot, user))
            await respond(text=said, blocks=answer_blocks(said) if editable else None,
                          response_type="ephemeral")
        case cmd.RoleChange() | cmd.Connect() | cmd.Audit():
            await ack()
            if not await first_delivery():
                return
            await respond(text=await _admin(bot, user, channel, command, rid),
                          response_type="ephemeral")


async def _binding_or_explain(bot: Billbot, respond: Any, channel: str) -> Binding | None:
    binding = await bot.binding_for(channel)
    if binding is None:
        await respond(text=NOT_BOUND_COMMAND, response_type="ephemeral")
    return binding


async def _due(bot: Billbot, respond: Any, user: str, channel: str, days: int | None) -> None:
    binding = await _binding_or_explain(bot, respond, channel)
    if binding is None:
        return
    window = bot.settings.billbot_due_within_days if days is None else days
    try:
        bills = await bot.due_bills(binding, within_days=window)
    except CodatError as exc:
        logger.warning("due list failed: %s", exc.__class__.__name__)
        await respond(text=f"Codat did not answer just now ({_short(exc)}). Try again shortly.",
                      response_type="ephemeral")
        return
    today = bot.today()
    blocks = due_page_blocks(bills, summarise(bills, today=today), today=today, days=window)
    await respond(text=f"{len(bills)} bills due within {window} days", blocks=blocks,
                  response_type="ephemeral")


async def _digest(bot: Billbot, ack: Any, respond: Any, user: str, channel: str,
                  first_delivery: Callable[[], Awaitable[bool]]) -> None:
    user_roles = await bot.db(lambda s: roles.roles_of(s, bot.policy, user), read_only=True)
    if not user_roles:
        await ack(text="Only approvers, payers and admins can post the digest.")
        return
    binding = await bot.binding_for(channel)
    if binding is None:
        await ack(text=NOT_BOUND_COMMAND)
        return
    if await bot.db(lambda s: connect_watch.paused(
            s, channel_id=channel, company_id=binding.company_id,
            connection_id=binding.connection_id), read_only=True):
        await ack(text=PAUSED)
        return
    await ack()
    if not await first_delivery():
        return
    try:
        await digests.post_digest(bot, channel, binding)
    except CodatError as exc:
        await respond(text=f"The digest could not be built: Codat did not answer ({_short(exc)}).",
                      response_type="ephemeral")
    except Exception as exc:
        refused = unpostable_error(exc)
        if refused is not None:
            await respond(text=what_to_do(channel, refused), response_type="ephemeral")
            await tell_admins_once(bot, channel, refused)
            return
        logger.exception("manual digest failed")
        await respond(text="The digest could not be posted; the error is in billbot's log.",
                      response_type="ephemeral")


async def _show(bot: Billbot, respond: Any, channel: str, reference: str) -> None:
    binding = await _binding_or_explain(bot, respond, channel)
    if binding is None:
        return
    try:
        found = await bill_search.find_bills(bot.codat, binding.company_id,
                                             binding.connection_id, reference)
        if len(found) != 1:
            await respond(text=_not_one(found, reference), response_type="ephemeral")
            return
        bill = found[0]
        attachments = await bot.codat.list_attachments(binding.company_id, binding.connection_id,
                                                       bill.id)
    except CodatError as exc:
        await respond(text=f"Codat did not answer just now ({_short(exc)}).",
                      response_type="ephemeral")
        return
    names = [a.name or a.id for a in attachments]
    handles = handles_of([bill.id])
    if handles:  # the Details button carries a long id as its handle
        await bot.db(lambda s: bill_handles.remember(
            s, company_id=binding.company_id, connection_id=binding.connection_id,
            handles=handles, at=bot.clock.now()))
    await respond(text=f"Bill {bill.reference or bill.id}", response_type="ephemeral",
                  blocks=bill_detail_blocks(bill, names, today=bot.today()))


def _not_one(found: list[Bill], text: str) -> str:
    if not found:
        return (f"No bill matches `{escape(text[:80])}` in this company (a reference, a "
                "supplier's name or a Codat bill id; paid and void bills count too).")
    return matches_text(found, text[:80], shown=bill_search.MAX_LISTED)


async def _audit(bot: Billbot, binding: Binding, reference: str | None) -> str:
    """The audit trail of the bills `reference` names (any status), or the company's."""
    scope = (binding.company_id, binding.connection_id)
    found: list[Bill] = []
    try:
        if reference:
            found = await bill_search.find_bills(bot.codat, *scope, reference)
    except CodatError as exc:
        logger.warning("audit bill search failed: %s", exc.__class__.__name__)
    if reference and len(found) > bill_search.MAX_LISTED:
        return matches_text(found, reference[:80], shown=bill_search.MAX_LISTED)
    bill_ids = [b.id for b in found]
    entries = await bot.db(lambda s: audit_history.recent_entries(
        s, company_id=scope[0], connection_id=scope[1], reference=reference,
        bill_ids=bill_ids, limit=50 if bill_ids else audit_history.DEFAULT_LIMIT),
        read_only=True)
    bills = {b.id: b for b in found}
    missing = {e.bill_id for e in entries if e.bill_id and e.bill_id not in bills}
    try:
        bills.update(await bill_search.bills_by_id(bot.codat, *scope, missing))
    except CodatError as exc:  # the lines still show what the audit recorded
        logger.warning("audit bill read failed: %s", exc.__class__.__name__)
    return audit_text(entries, reference=reference, bills=bills)


async def _admin(bot: Billbot, user: str, channel: str, command: cmd.Command, rid: str) -> str:
    user_roles = await bot.db(lambda s: roles.roles_of(s, bot.policy, user), read_only=True)
    if Role.ADMIN not in user_roles:
        await bot.db(lambda s: roles.record_refusal(s, actor=user, action=type(command).__name__,
                                                    request_id=rid, at=bot.clock.now()))
        return "Only billbot admins can manage roles, bindings and the audit trail."
    now = bot.clock.now()
    match command:
        case cmd.RoleChange(role=role_name, action="list"):
            role = Role(role_name)
            members = await bot.db(lambda s: roles.members(s, bot.policy, role), read_only=True)
            who = ", ".join(f"<@{m}>" for m in sorted(members)) or "nobody"
            return f"{role_name.capitalize()}s: {who}"
        case cmd.RoleChange(role=role_name, action=action, user_id=target) if target:
            kept = policy_flow.kept_in_file(bot, role_name)
            if kept:
                return kept
            role = Role(role_name)
            present = action == "add"
            if role is Role.ADMIN and not present:
                left = await bot.db(lambda s: roles.members(s, bot.policy, Role.ADMIN) - {target},
                                    read_only=True)
                if not left:  # nobody could then grant roles or bind channels here
                    return (f"<@{target}> is the last billbot admin here: add another admin "
                            "first (`/bills admins add @person`). Nothing changed.")
            decided = await bot.db(lambda s: roles.set_role(
                s, bot.policy, user_id=target, role=role, present=present, actor=user,
                request_id=rid, at=now))
            if not decided:
                return "Only billbot admins can change roles. Nothing changed."
            if role is not Role.ADMIN:  # the approval policy names approvers and payers only
                await policy_flow.record_role_change(bot, user, f"{role_name} {action} {target}",
                                                     rid)
            verb = "is now" if present else "is no longer"
            article = "an" if role_name in ("approver", "admin") else "a"
            return f"<@{target}> {verb} {article} {role_name}."
        case cmd.Connect(company_id=company, connection_id=connection):
            try:
                conn = await bot.codat.get_connection(company, connection)
            except CodatError as exc:
                return f"Codat does not know that company connection ({_short(exc)})."
            try:
                company_name = (await bot.codat.get_company(company)).name
            except CodatError:
                company_name = company

            def bind(s: Session) -> None:
                bindings.bind(s, channel_id=channel, company_id=company,
                              connection_id=connection, actor=user, request_id=rid, at=now,
                              codat_api=bot.settings.codat_api)
                connect_watch.record_company(s, company_id=company, name=company_name,
                                             origin="bound", actor=user, at=now)
                connect_watch.watch_bound(s, channel_id=channel, company_id=company,
                                          connection_id=connection, actor=user,
                                          status=conn.status.value, at=now)
            try:
                await bot.db(bind)
            except bindings.CompanyTaken:
                return bindings.COMPANY_TAKEN
            bot.codat.forget(company, connection)
            return (f"This channel is now bound to company `{company}` "
                    f"({conn.platform_name}, connection `{connection}`).")
        case cmd.Audit(reference=reference):
            binding = await bot.binding_for(channel)
            if binding is None:
                return NOT_BOUND_COMMAND
            return await _audit(bot, binding, reference)
    return HELP_TEXT


def _short(exc: Exception) -> str:
    text = str(exc) or exc.__class__.__name__
    return text[:200]
