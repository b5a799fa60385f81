"""`/bills policy` (the policy in words, old versions listed), `/bills policy check <bill>`
(which rule applies and why), `/bills policy reload` (re-read BILLBOT_POLICY_FILE, keeping the
running version when the file is broken); role commands answered when the file decides."""

from __future__ import annotations

import logging

from sqlmodel import Session

from billbot import tenancy
from billbot.codat.errors import CodatError
from billbot.config import policy_file_problems, read_policy_text
from billbot.domain.approval_rules import legacy_policy
from billbot.domain.policy import Role
from billbot.domain.policy_eval import BillFacts, match_rule
from billbot.domain.policy_file import parse_policy
from billbot.domain.policy_words import match_words, policy_words, step_words
from billbot.runtime import Billbot
from billbot.services import approvals, bill_search, policy_versions, roles
from billbot.services.bindings import NOT_BOUND_COMMAND
from billbot.slackapp import commands as cmd
from billbot.slackapp.audit_text import matches_text
from billbot.slackapp.mrkdwn import escape, user_text

logger = logging.getLogger("billbot.policy")

IN_FILE = ("The approval policy is kept in BILLBOT_POLICY_FILE, so it cannot be changed from "
           "Slack: edit the file, then `/bills policy reload`. Nothing changed.")
# OAuth mode: each workspace edits its own policy in Slack; the file is read at start only
# for single-workspace mode.
FILE_SINGLE_WORKSPACE = ("BILLBOT_POLICY_FILE applies to single-workspace mode only: in this "
                         "installation each workspace's admins change its policy with "
                         "`/bills policy edit`. Nothing changed.")
_SOURCES = {"file": "from BILLBOT_POLICY_FILE", "env": "from BILLBOT_APPROVERS and "
            "BILLBOT_DUAL_APPROVAL_OVER", "db": "changed in Slack"}


IN_RULES = ("The approval rules name who approves each bill (see `/bills policy`), so an "
            "approver added or removed here would change nothing: an admin changes the rules "
            "with `/bills policy edit`. Nothing changed.")
IN_PAYERS = ("The policy's `payers` section names who pays, with their limits (see "
             "`/bills policy`): an admin changes it with `/bills policy edit`. Nothing changed.")


def kept_in_file(bot: Billbot, role_name: str) -> str | None:
    """The answer to a role change the policy decides rather than a role grant: the policy
    file, or rules that name their approvers (payers: when it has a `payers` section)."""
    policy = bot.policy
    if role_name == "admin" or (policy.rules is None and not policy.in_file):
        return None  # no policy names admins; the variables' rule follows the roles
    if role_name == "payer" and (policy.rules is None or policy.rules.payers is None):
        return None
    if policy.in_file:
        return IN_FILE
    return IN_RULES if role_name == "approver" else IN_PAYERS


async def record_role_change(bot: Billbot, user: str, note: str, rid: str) -> None:
    """Without a file, a change of approvers or payers is a new policy version of the acting
    workspace (audited in it); in OAuth mode, as in single-workspace mode."""
    team = bot.policy_team()
    if bot.policy.in_file or team is None:
        return
    active = bot.active_policy
    policy = active.policy if active else legacy_policy(bot.settings.billbot_dual_approval_over)

    def write(session: Session) -> policy_versions.ActivePolicy:
        people = sorted(roles.members(session, bot.policy, Role.APPROVER))
        return policy_versions.record(
            session, team, source="db", policy=policy, text=None, author=user,
            at=bot.clock.now(), note=f"{note}; approvers now {', '.join(people) or 'nobody'}",
            request_id=rid)
    bot.use_policy(team, await bot.db(write))


async def answer(bot: Billbot, user: str, channel: str, command: cmd.Policy, rid: str) -> str:
    if command.action == "check":
        return await _check(bot, channel, command.reference or "")
    if command.action == "reload":
        return await _reload(bot, user, rid)
    return await _show(bot)


async def _show(bot: Billbot) -> str:
    policy = bot.policy
    team = bot.policy_team()
    listed = [] if team is None else await bot.db(
        lambda s: policy_versions.versions(s, team, 6), read_only=True)
    lines: list[str] = []
    if listed:
        now = listed[0]
        lines.append(f"*Approval policy, version {now.number}* ({_SOURCES.get(now.source, '')}, "
                     f"{now.created_at:%Y-%m-%d %H:%M} UTC, by {_author(now.author)})")
    lines.extend(policy_words(policy.approval_policy))
    if policy.rules is None:
        approvers = await bot.db(lambda s: roles.members(s, policy, Role.APPROVER),
                                 read_only=True)
        lines.append("Approvers: " + (", ".join(f"<@{a}>" for a in sorted(approvers))
                                      or "nobody"))
    if len(listed) > 1:
        lines.append("Older versions:")
        lines.extend(f"• {v.number}: {_SOURCES.get(v.source, v.source)}, "
                     f"{v.created_at:%Y-%m-%d %H:%M} UTC, by {_author(v.author)}"
                     for v in listed[1:])
    return "\n".join(lines)


def _author(author: str) -> str:
    return "configuration at start" if author in ("config", "billbot") else f"<@{author}>"


async def _check(bot: Billbot, channel: str, reference: str) -> str:
    binding = await bot.binding_for(channel)
    if binding is None:
        return NOT_BOUND_COMMAND
    try:
        found = await bill_search.find_bills(bot.codat, binding.company_id,
                                             binding.connection_id, reference)
    except CodatError as exc:
        return f"Codat did not answer just now ({str(exc)[:200] or type(exc).__name__})."
    if len(found) != 1:
        if not found:
            return f"No bill matches `{escape(reference[:80])}` in this company."
        return matches_text(found, reference[:80], shown=bill_search.MAX_LISTED)
    bill = found[0]
    policy = bot.policy
    facts = BillFacts.of(bill)
    match = match_rule(policy.approval_policy, facts)
    lines = [f"*{user_text(bill.reference or bill.id, 80)}* · "
             f"{user_text(bill.supplier_ref.supplier_name or bill.supplier_ref.id, 80)}"]
    lines.extend(match_words(match, facts))
    state = await bot.db(lambda s: approvals.state_of(s, bill=bill, binding=binding,
                                                      policy=policy), read_only=True)
    chain = state.chain
    if chain is not None and match.rule is not None and not chain.auto:
        current = chain.current
        if state.rejected is not None:
            lines.append(f"It is rejected by <@{state.rejected.by}>.")
        elif current is None:
            lines.append("Its approval chain is complete.")
        else:
            lines.append("It waits for " + step_words(current.number, current.step,
                                                      legacy=match.rule.role_approvers) + ".")
    return "\n".join(lines)


async def _reload(bot: Billbot, user: str, rid: str) -> str:
    user_roles = await bot.db(lambda s: roles.roles_of(s, bot.policy, user), read_only=True)
    if Role.ADMIN not in user_roles:
        return "Only billbot admins can reload the approval policy."
    path = bot.settings.billbot_policy_file
    if bot.settings.oauth_mode:
        return FILE_SINGLE_WORKSPACE
    if not path:
        return ("No BILLBOT_POLICY_FILE is set: the policy lives in the database. Change "
                "approvers and payers with `/bills approvers|payers add|remove`.")
    running = bot.active_policy.number if bot.active_policy else 0
    problems = policy_file_problems(bot.settings)
    if problems:
        why = "; ".join(f"{name}: {text}" for name, text in sorted(problems.items()))
        return f"The policy file cannot work, so billbot kept version {running}. {why}"
    text = read_policy_text(path)
    policy = parse_policy(text)
    active = bot.active_policy
    if active is not None and active.number and active.source == "file" and active.text == text:
        return f"BILLBOT_POLICY_FILE is unchanged; version {running} stays in force."
    team = tenancy.SINGLE_WORKSPACE
    created = await bot.db(lambda s: policy_versions.record(
        s, team, source="file", policy=policy, text=text, author=user, at=bot.clock.now(),
        note="/bills policy reload", request_id=rid))
    bot.use_policy(team, created)
    return (f"Version {created.number} from BILLBOT_POLICY_FILE is in force now (every "
            "replica within a minute); it applies to every unpaid bill at once.\n"
            + "\n".join(policy_words(policy)))


__all__ = ["FILE_SINGLE_WORKSPACE", "IN_FILE", "IN_PAYERS", "IN_RULES", "answer", "kept_in_file",
           "record_role_change"]
