"""What every button and form does first, whatever it then does: read the click and its
channel's binding, check the clicker's role, re-read the bill from Codat, check a submitted
form's signed context; refusals are audited and explained to the user (ephemeral or inline).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk.errors import SlackApiError

from billbot.codat.errors import CodatError, CodatNotFound
from billbot.codat.models import Bill
from billbot.context_token import BadContext, ModalContext
from billbot.domain.bill_handles import is_handle
from billbot.domain.policy import Role, reason_problem
from billbot.logs import bind, event
from billbot.runtime import Billbot
from billbot.services import roles
from billbot.services.bindings import NOT_BOUND, Binding
from billbot.slackapp.blocks import message_modal
from billbot.slackapp.direct_messages import send_dm
from billbot.slackapp.payload import Click, read_click, request_id, text_at, view_value
from billbot.storage import bill_handles

logger = logging.getLogger("billbot.interactions")

# Reasons (rejection, override) are kept to this many characters.
REASON_MAX_CHARS = 500

NOT_IN_COMPANY = "That bill is not a bill of the company connected to this channel."


async def ephemeral(bot: Billbot, channel: str, user: str, text: str) -> None:
    try:
        await bot.slack.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as exc:
        if exc.response.get("error") != "user_not_in_channel":
            logger.warning("ephemeral message not delivered")
            return
        # Someone outside the bound channel (a click from App Home or a DM card) is told
        # in their DM with billbot instead.
        try:
            await send_dm(bot, user, text=text)
        except Exception:
            logger.warning("answer not delivered by DM either")
    except Exception:
        # Ephemeral delivery is best effort.
        logger.warning("ephemeral message not delivered")


async def refuse(bot: Billbot, *, user: str, action: str, request_id: str, reason: str,
                 binding: Binding | None = None, bill_id: str | None = None) -> None:
    """Audit a refusal that no service recorded (nothing else is written) and log it."""
    await bot.db(lambda s: roles.record_refusal(
        s, actor=user, action=action, request_id=request_id, at=bot.clock.now(), reason=reason,
        company_id=binding.company_id if binding else None,
        connection_id=binding.connection_id if binding else None, bill_id=bill_id))
    event(logger, "refused", action=action, reason=reason)


UNQUERYABLE = ("billbot cannot look this bill up in Codat: its id holds characters Codat's "
               "query language cannot carry. Nothing was recorded.")


async def fresh_bill(bot: Billbot, click_channel: str, user: str, binding: Binding,
                     bill_id: str, *, action: str, request_id: str) -> Bill | None:
    """Re-read the bill from Codat in the channel's company; tell the user when that fails.

    A bill id the channel's company does not have (another company's, or a tampered button
    value) is a refusal: audited, and nothing else happens.
    """
    try:
        return await bot.codat.get_bill(binding.company_id, binding.connection_id, bill_id)
    except CodatNotFound:
        await refuse(bot, user=user, action=action, request_id=request_id, reason=NOT_IN_COMPANY,
                     binding=binding, bill_id=bill_id)
        await ephemeral(bot, click_channel, user, NOT_IN_COMPANY)
    except CodatError as exc:
        logger.warning("bill read failed: %s", exc.__class__.__name__)
        await ephemeral(bot, click_channel, user,
                        "Codat did not answer just now, so nothing was recorded. Try again shortly.")
    except ValueError:
        # An id Codat's query language cannot carry (`&&`, `||`, braces): no read can find it.
        await refuse(bot, user=user, action=action, request_id=request_id,
                     reason="bill id not expressible in Codat's query language",
                     binding=binding, bill_id=bill_id)
        await ephemeral(bot, click_channel, user, UNQUERYABLE)
    return None


async def start_click(bot: Billbot, body: dict[str, Any], raw_body: str,
                 action: str) -> tuple[Click, Binding] | None:
    """The click and its channel's binding; None (audited, explained) when either is unusable."""
    click = read_click(body, raw_body)
    if click is None:
        user = text_at(body, "user", "id", limit=64)
        channel = text_at(body, "channel", "id", limit=64)
        if user and channel:
            await refuse(bot, user=user, action=action, request_id=request_id(raw_body),
                         reason="malformed button payload")
            await ephemeral(bot, channel, user, "That button's message is malformed; nothing happened.")
        return None
    bind(bill_id=click.bill_id, user_id=click.user_id, channel_id=click.channel_id)
    binding = await bot.binding_for(click.channel_id, message_ts=click.message_ts)
    if binding is None:
        await refuse(bot, user=click.user_id, action=action, request_id=click.request_id,
                     reason=NOT_BOUND, bill_id=click.bill_id)
        await ephemeral(bot, click.channel_id, click.user_id, NOT_BOUND)
        return None
    if is_handle(click.bill_id):
        bill_id = await resolve_handle(bot, binding, click.bill_id)
        if bill_id is None:
            await refuse(bot, user=click.user_id, action=action, request_id=click.request_id,
                         reason=NOT_IN_COMPANY, binding=binding)
            await ephemeral(bot, click.channel_id, click.user_id, NOT_IN_COMPANY)
            return None
        click = replace(click, bill_id=bill_id)
        bind(bill_id=bill_id)
    return click, binding


async def resolve_handle(bot: Billbot, binding: Binding, handle: str) -> str | None:
    """The bill id a handle stands for in the binding's company; None when it is unknown
    there (forged, or another company's)."""
    return await bot.db(lambda s: bill_handles.resolve(
        s, company_id=binding.company_id, connection_id=binding.connection_id, handle=handle),
        read_only=True)


async def is_admin(bot: Billbot, user: str) -> bool:
    """Whether `user` holds the admin role (no delegation passes it on)."""
    user_roles = await bot.db(lambda s: roles.roles_of(s, bot.policy, user), read_only=True)
    return Role.ADMIN in user_roles


async def require_role(bot: Billbot, click: Click, binding: Binding, role: Role, *,
                       action: str, refusal: str) -> frozenset[Role] | None:
    """The clicker's roles if they include `role`; otherwise audit the refusal, tell them, None.

    Checked before Codat is asked: an outsider's click costs nothing and changes nothing.
    """
    now = bot.clock.now()  # a delegate covering someone away holds their role too
    user_roles = await bot.db(lambda s: roles.roles_of(s, bot.policy, click.user_id, at=now),
                              read_only=True)
    if role in user_roles:
        return user_roles
    await refuse(bot, user=click.user_id, action=action, request_id=click.request_id,
                 reason=f"not {role.value}", binding=binding, bill_id=click.bill_id)
    await ephemeral(bot, click.channel_id, click.user_id, refusal)
    return None


@dataclass(frozen=True)
class SignedForm:
    """A submitted modal whose signed context checked out."""

    user: str
    view: Any
    ctx: ModalContext
    request_id: str


async def read_signed_form(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str, *,
                           action: str, error_field: str) -> SignedForm | None:
    """The submitter, the view and its signed context; None when the form is malformed or its
    context is forged, expired or another user's (answered inline on `error_field`, audited)."""
    user = text_at(body, "user", "id", limit=64)
    view = body.get("view")
    token = text_at(view, "private_metadata", limit=3000)
    rid = request_id(raw_body)
    if not user or not token:
        await ack(response_action="errors", errors={error_field: "This form is malformed."})
        if user:
            await refuse(bot, user=user, action=action, request_id=rid, reason="malformed form")
        return None
    try:
        ctx = bot.signer.load(token, now=bot.clock.now(), user_id=user)
    except BadContext as exc:
        await ack(response_action="errors", errors={error_field: str(exc)})
        await refuse(bot, user=user, action=action, request_id=rid, reason=str(exc))
        return None
    if is_handle(ctx.bill_id):  # a long bill id travels as its handle (signed, so not forged)
        binding = await bot.binding_for(ctx.channel_id, message_ts=ctx.message_ts)
        bill_id = None if binding is None else await resolve_handle(bot, binding, ctx.bill_id)
        if bill_id is None:
            await ack(response_action="errors", errors={error_field: NOT_IN_COMPANY})
            await refuse(bot, user=user, action=action, request_id=rid, reason=NOT_IN_COMPANY)
            return None
        ctx = replace(ctx, bill_id=bill_id)
    return SignedForm(user=user, view=view, ctx=ctx, request_id=rid)


@dataclass(frozen=True)
class ReasonForm:
    """A submitted reason form (reject, override): who, why, where, and the bill read afresh."""

    form: SignedForm
    reason: str
    binding: Binding
    bill: Bill


async def read_reason_form(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str, *,
                           action: str) -> ReasonForm | None:
    """Check the signed context and the typed reason (answered inline), acknowledge, then find
    the channel's binding and read the bill afresh; None (audited, explained) when any fails."""
    form = await read_signed_form(bot, ack, body, raw_body, action=action, error_field="reason")
    if form is None:
        return None
    reason, problem = _typed_reason(form.view)
    if reason is None:
        await ack(response_action="errors", errors={"reason": problem})
        return None
    await ack()
    ctx = form.ctx
    bind(bill_id=ctx.bill_id, user_id=form.user, channel_id=ctx.channel_id)
    binding = await bot.binding_for(ctx.channel_id, message_ts=ctx.message_ts)
    if binding is None:
        await refuse(bot, user=form.user, action=action, request_id=form.request_id,
                     reason=NOT_BOUND, bill_id=ctx.bill_id)
        await ephemeral(bot, ctx.channel_id, form.user, NOT_BOUND)
        return None
    bill = await fresh_bill(bot, ctx.channel_id, form.user, binding, ctx.bill_id, action=action,
                            request_id=form.request_id)
    return None if bill is None else ReasonForm(form, reason, binding, bill)


def _typed_reason(view: Any) -> tuple[str | None, str | None]:
    """The reason typed in a reason form (block and action `reason`), trimmed and clipped,
    or the inline error that refuses it."""
    value = (view_value(view, "reason", "reason") or {}).get("value")
    text = value if isinstance(value, str) else None
    problem = reason_problem(text)
    if problem or text is None:
        return None, problem or "Say why."
    return text.strip()[:REASON_MAX_CHARS], None

def review_ack(ack: Any, title: str) -> Any:
    """For a review step, which has no input to put an error on: a refused signed form
    (stale, tampered, someone else's) replaces the view with `title` and the reason."""
    async def answer(**kwargs: Any) -> None:
        errors = kwargs.get("errors")
        if kwargs.get("response_action") == "errors" and isinstance(errors, dict):
            text = next(iter(errors.values()), "This form cannot be used.")
            await ack(response_action="update", view=message_modal(
                title, f"{text[:1].upper()}{text[1:]}. Nothing was recorded."))
        else:
            await ack(**kwargs)
    return answer

