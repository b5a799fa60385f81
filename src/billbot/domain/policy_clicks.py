"""Whether an Approve click counts under a bill's chain, in whose name, or what the clicker is
told (nothing recorded). Reject is open to anyone the bill's rule names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .policy_eval import Chain, StepProgress, describe_step


@dataclass(frozen=True)
class ClickAnswer:
    principal: str | None  # in whose name the approval counts; None: refused / nothing to do
    message: str
    already: bool = False  # the click is already done (not a refusal)


def _mention(approver_id: str) -> str:
    return f"<!subteam^{approver_id}>" if approver_id.startswith("S") else f"<@{approver_id}>"


def step_words(step: StepProgress) -> str:
    return f"step {step.number} ({describe_step(step, _mention)})"


def no_rule_message(admins: Sequence[str]) -> str:
    who = ", ".join(f"<@{a}>" for a in sorted(admins)) or "a billbot admin"
    return (f"No rule of the approval policy applies to this bill, so it cannot be approved; "
            f"ask {who} to add one. Nothing was recorded.")


def approval_click(chain: Chain, user_id: str, covered: Sequence[str],
                   admins: Sequence[str]) -> ClickAnswer:
    """`covered`: the people away whom `user_id` covers now (`/bills away`)."""
    if chain.rule is None:
        return ClickAnswer(None, no_rule_message(admins))
    if chain.auto:
        return ClickAnswer(None, f"The policy approves this bill itself (rule “{chain.rule.name}”); "
                                 "nothing to record.", already=True)
    if user_id in chain.involved:
        return ClickAnswer(None, "You have already approved this bill.", already=True)
    current = chain.current
    if current is None:
        return ClickAnswer(None, "This bill's approval chain is complete; nothing was recorded.",
                           already=True)
    people = current.people
    if people is None or user_id in people:
        return ClickAnswer(user_id, "")
    for absent in covered:
        if absent in people and absent not in chain.involved:
            return ClickAnswer(absent, "")
    later = chain.step_of(user_id)
    if later is not None:
        return ClickAnswer(None, f"This bill is waiting for {step_words(current)} of rule "
                                 f"“{chain.rule.name}”; you are asked at step {later.number}. "
                                 "Nothing was recorded.")
    return ClickAnswer(None, f"Rule “{chain.rule.name}”, which decides this bill, does not ask you "
                             f"now; it waits for {step_words(current)}. Nothing was recorded.")


def may_reject(chain: Chain, user_id: str,
               named: Callable[[], frozenset[str]]) -> bool:
    """Anyone a bill's rule names (any step, group members included) may reject it."""
    return chain.rule is not None and user_id in named()


__all__ = ["ClickAnswer", "approval_click", "may_reject", "no_rule_message", "step_words"]
