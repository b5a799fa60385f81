"""A bill's approval chain in words, for its row: the rule's name, each step's approvals, who
is asked next; a bill no rule matches (naming the admins); a missing exchange rate."""

from __future__ import annotations

from collections.abc import Sequence

from billbot.domain.policy_eval import Chain, Match, StepProgress
from billbot.slackapp.mrkdwn import user_text


def _who(approver_id: str) -> str:
    return f"<!subteam^{approver_id}>" if approver_id.startswith("S") else f"<@{approver_id}>"


def _step(step: StepProgress, current: bool) -> str:
    need = "all" if step.step.need == "all" else str(step.need)
    names = ", ".join(_who(a) for a in step.step.approvers)
    done = ", ".join(f"<@{u}>" for u in step.counted)
    mark = ":white_check_mark:" if step.complete else (":arrow_right:" if current else
                                                       ":white_circle:")
    count = f"{len(step.counted)}/{step.need}"
    return f"{mark} Step {step.number} ({need} of {names}): {count}" + (
        f" · {done}" if done else "")


def chain_lines(match: Match | None, chain: Chain | None, *, currency: str,
                admins: Sequence[str] = ()) -> tuple[str, ...]:
    """Nothing for the old single rule (the row shows approvals as it always has)."""
    if match is None or chain is None:
        return ()
    if match.rule is not None and match.rule.role_approvers:
        return ()
    lines: list[str] = []
    if match.rate_missing and match.base_amount is None:
        lines.append(f":warning: No {currency} exchange rate in the books: treated as above "
                     "every amount limit of the policy")
    if match.rule is None:
        who = ", ".join(f"<@{a}>" for a in sorted(admins)) or "a billbot admin"
        lines.append(f":no_entry: No approval rule applies to this bill, so it cannot be "
                     f"approved; ask {who}")
        return tuple(lines)
    name = user_text(match.rule.name, 100)
    if chain.auto:
        lines.append(f":robot_face: Approved by the policy (rule “{name}”)")
        return tuple(lines)
    lines.append(f":scroll: Rule “{name}”")
    current = chain.current
    lines.extend(_step(s, s is current) for s in chain.steps)
    asked = chain.asked_next()
    if current is not None and asked:
        lines.append("Asked next: " + ", ".join(f"<@{u}>" for u in sorted(asked)[:10]))
    return tuple(lines)


__all__ = ["chain_lines"]
