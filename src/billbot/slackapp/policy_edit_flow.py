"""`/bills policy edit`: admins edit the database policy as policy-file YAML in a modal.

The form carries (signed) the version it was opened on. Saving writes exactly the next
version, in the same transaction that checks it is still next, so an edit never overwrites a
version saved since (another admin's edit, a role command): that form is refused and asked to
be opened again. The text passes the policy file's checks or nothing is saved.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel import Session

from billbot.context_token import ModalContext
from billbot.domain.approval_rules import ApprovalPolicy, legacy_policy
from billbot.domain.policy import Role
from billbot.domain.policy_file import PolicyFileError, parse_policy
from billbot.domain.policy_words import policy_words
from billbot.domain.policy_yaml import policy_yaml
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import policy_versions, roles
from billbot.slackapp.interactions import ephemeral, read_signed_form, refuse
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.mrkdwn import user_text
from billbot.slackapp.payload import request_id, text_at, view_value
from billbot.slackapp.policy_edit_blocks import (
    FIELD_NOTE,
    FIELD_POLICY,
    MAX_NOTE_CHARS,
    MAX_POLICY_CHARS,
    edit_view,
    too_long,
)
from billbot.slackapp.policy_flow import IN_FILE

logger = logging.getLogger("billbot.policy")

ACTION = "policy.edit"
# The form's answer is due within Slack's 3 seconds: a name not found by then shows as an id.
NAME_WAIT_SECONDS = 1.0
# Slack shows a field's error under it; a long list of problems is cut here.
MAX_ERROR_CHARS = 1500


async def _admins_only(bot: Billbot, user: str, rid: str) -> str | None:
    """None for an admin; otherwise the refusal (audited) naming who can."""
    def check(session: Session) -> list[str] | None:
        if Role.ADMIN in roles.roles_of(session, bot.policy, user):
            return None
        return sorted(roles.members(session, bot.policy, Role.ADMIN))
    admins = await bot.db(check, read_only=True)
    if admins is None:
        return None
    await refuse(bot, user=user, action=ACTION, request_id=rid, reason="not admin")
    who = ", ".join(f"<@{a}>" for a in admins) or "nobody is one yet"
    return f"Only billbot admins can edit the approval policy ({who}). Nothing changed."


def _running(bot: Billbot) -> tuple[int, ApprovalPolicy]:
    active = bot.active_policy
    if active is None:
        return 0, legacy_policy(bot.settings.billbot_dual_approval_over)
    return active.number, active.policy


def _shown(policy: ApprovalPolicy, approvers: frozenset[str]) -> ApprovalPolicy | None:
    """The policy the form showed, as saving it unchanged would state it."""
    try:
        return parse_policy(policy_yaml(policy, approvers))
    except PolicyFileError:  # e.g. a role rule while nobody holds the approver role
        return None


async def open_edit(bot: Billbot, *, user_id: str, channel_id: str, trigger_id: str,
                    request: str) -> str | None:
    """Open the form; the text to tell the caller instead when they may not or cannot."""
    refused = await _admins_only(bot, user_id, request)
    if refused:
        return refused
    if bot.policy.in_file:
        return IN_FILE
    await bot.refresh_policy()  # another replica may have saved a newer version
    number, policy = _running(bot)
    approvers = await bot.db(lambda s: roles.members(s, bot.policy, Role.APPROVER),
                             read_only=True)
    text = policy_yaml(policy, approvers)
    if len(text) > MAX_POLICY_CHARS:
        return too_long(len(text))
    ctx = ModalContext(bill_id="", channel_id=channel_id, message_ts=None, user_id=user_id,
                       issued_at=bot.clock.now().isoformat(), policy_version=number)
    await open_modal(bot, trigger_id=trigger_id, channel_id=channel_id, user_id=user_id,
                     view=edit_view(metadata=bot.signer.dump(ctx), text=text, version=number,
                                    role_rule=any(r.role_approvers for r in policy.rules)))
    return None


async def edit_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    """The Edit policy button under `/bills policy`: checked again as the command is."""
    user = text_at(body, "user", "id", limit=64)
    channel = (text_at(body, "channel", "id", limit=64)
               or text_at(body, "container", "channel_id", limit=64))
    trigger = text_at(body, "trigger_id", limit=255)
    if not (user and channel and trigger):
        return
    told = await open_edit(bot, user_id=user, channel_id=channel, trigger_id=trigger,
                           request=request_id(raw_body))
    if told:
        await ephemeral(bot, channel, user, told)


@dataclass(frozen=True)
class Saved:
    outcome: Literal["created", "repeat", "unchanged", "stale"]
    version: policy_versions.ActivePolicy | None


def save(session: Session, bot: Billbot, team: str, *, base: int, policy: ApprovalPolicy,
         text: str, note: str | None, author: str, request_id: str) -> Saved:
    """The workspace's version base + 1 from the edited text, unless a version came since or
    nothing changed."""
    newest = policy_versions.newest(session, team)
    if newest is None or newest.number == base:
        running = newest.policy if newest else legacy_policy(
            bot.settings.billbot_dual_approval_over)
        approvers = roles.members(session, bot.policy, Role.APPROVER)
        if policy in (running, _shown(running, approvers)):
            return Saved("unchanged", newest)
        created = policy_versions.record_after(
            session, team, base, source="db", policy=policy, text=text, author=author,
            at=bot.clock.now(), note=note, request_id=request_id)
        if created is not None:
            return Saved("created", created)
    since = policy_versions.version(session, team, base + 1)
    if since is not None and since.author == author and since.policy == policy:
        return Saved("repeat", since)  # this same save, submitted twice
    return Saved("stale", since)


async def _name(bot: Billbot, user: str) -> str:
    """`@name` as Slack shows the person (form errors are plain text: no mentions)."""
    if user in ("config", "billbot"):
        return "billbot's configuration at start"
    try:
        found = await asyncio.wait_for(bot.slack.users_info(user=user), NAME_WAIT_SECONDS)
        person = found.get("user") or {}
        profile = person.get("profile") or {}
        name = profile.get("display_name") or person.get("name") or person.get("real_name")
        if isinstance(name, str) and name:
            return f"@{name}"
    except Exception:
        logger.info("users.info did not name the policy's author in time")
    return f"@{user}"


def _typed(view: Any, field: str, limit: int) -> str | None:
    value = (view_value(view, field, field) or {}).get("value")
    return value[:limit] if isinstance(value, str) and value.strip() else None


async def submitted(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    form = await read_signed_form(bot, ack, body, raw_body, action=ACTION,
                                  error_field=FIELD_POLICY)
    if form is None:
        return
    base = form.ctx.policy_version
    if base is None:
        await ack(response_action="errors", errors={FIELD_POLICY: "This form is malformed."})
        return
    refused = await _admins_only(bot, form.user, form.request_id)
    team = bot.policy_team()
    if refused or bot.policy.in_file or team is None:
        await ack(response_action="errors", errors={FIELD_POLICY: refused or (
            IN_FILE if bot.policy.in_file else "This form is malformed.")})
        return
    text = _typed(form.view, FIELD_POLICY, MAX_POLICY_CHARS) or ""
    note = _typed(form.view, FIELD_NOTE, MAX_NOTE_CHARS)
    try:
        policy = parse_policy(text)
    except PolicyFileError as exc:
        why = "; ".join(exc.problems)
        await ack(response_action="errors", errors={FIELD_POLICY: (
            f"Nothing was saved; version {base} stays in force. {why}")[:MAX_ERROR_CHARS]})
        return
    saved = await bot.db(lambda s: save(s, bot, team, base=base, policy=policy, text=text,
                                        note=note and note.strip(), author=form.user,
                                        request_id=form.request_id))
    if saved.outcome == "unchanged":
        await ack(response_action="errors", errors={FIELD_POLICY: (
            f"This is the policy in force (version {base}); nothing was saved.")})
        return
    if saved.outcome == "stale":
        since = saved.version
        who = await _name(bot, since.author) if since else "someone"
        number = since.number if since else base + 1
        await ack(response_action="errors", errors={FIELD_POLICY: (
            f"The approval policy was changed by {who} (version {number}) since you opened "
            "this; open it again with /bills policy edit. Nothing was saved.")})
        return
    await ack()
    created = saved.version
    if saved.outcome == "repeat" or created is None:
        return
    bot.use_policy(team, created)
    event(logger, "policy version in force", version=created.number, source="db",
          team=team or None)
    head = f"Policy version {created.number} by <@{form.user}>" + (
        f": {user_text(note.strip(), MAX_NOTE_CHARS)}" if note else ".")
    await ephemeral(bot, form.ctx.channel_id, form.user, "\n".join(
        [head, "It applies to every unpaid bill now (every replica within a minute).",
         *policy_words(policy)]))


__all__ = ["edit_clicked", "open_edit", "save", "submitted"]
