"""`/bills setup`: what is still missing before billbot can work in a channel, each step with
the command that fixes it. Pure: the Slack layer gathers the facts, this decides the list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class SetupFacts:
    bot_in_channel: bool | None  # None: Slack did not say
    company: str | None  # the bound company's name or id; None: the channel is not bound
    approvers: int
    payers: int
    admins: int
    payment_accounts: int | None  # Active accounts in the books; None: not known
    digest_at: time
    digest_days: frozenset[int]
    timezone: str
    connection_status: str | None = None  # Codat's: Linked, PendingAuth, Unlinked, Deauthorized


@dataclass(frozen=True)
class Step:
    done: bool | None  # None: could not be checked
    what: str
    fix: str  # the command (or setting) that fixes it
    admin_only: bool = False


def _days(days: frozenset[int]) -> str:
    return ", ".join(DAY_NAMES[d] for d in sorted(days)) or "no day"


def _count(n: int, one: str) -> str:
    return f"{n} {one}" if n == 1 else f"{n} {one}s"


def _company_step(facts: SetupFacts) -> Step:
    if facts.company is None:
        return Step(False, "A Codat company is connected", "`/bills connect`", admin_only=True)
    status = facts.connection_status
    if status in (None, "Linked"):
        return Step(True, f"Connected to *{facts.company}*", "`/bills connect`",
                    admin_only=True)
    # Bound, but Codat cannot read the books: digests pause while it is disconnected.
    return Step(False, f"*{facts.company}* is bound but its connection is {status}",
                "authorise it again on Codat's link page, or `/bills connect`", admin_only=True)


def checklist(facts: SetupFacts) -> list[Step]:
    accounts = facts.payment_accounts
    return [
        Step(facts.bot_in_channel, "billbot is a member of this channel",
             "`/invite @billbot` in this channel"),
        _company_step(facts),
        Step(facts.approvers > 0, f"Approvers named ({facts.approvers})",
             "`/bills approvers add @person`", admin_only=True),
        Step(facts.payers > 0, f"Payers named ({facts.payers})",
             "`/bills payers add @person`", admin_only=True),
        Step(facts.admins > 0, f"Admins named ({facts.admins})",
             "`BILLBOT_ADMINS` in billbot's settings", admin_only=True),
        # No company, no account to pay from; None when Codat did not answer.
        Step(False if facts.company is None else None if accounts is None else accounts > 0,
             "A payment account to pay from" if not accounts
             else f"Payment accounts: {_count(accounts, 'active account')}",
             "`/bills accounts add`", admin_only=True),
        Step(bool(facts.digest_days),
             f"Digest every {_days(facts.digest_days)} at {facts.digest_at:%H:%M} "
             f"({facts.timezone})",
             "`BILLBOT_DIGEST_AT`, `BILLBOT_DIGEST_DAYS`, `BILLBOT_TIMEZONE`", admin_only=True),
    ]


def missing(steps: list[Step]) -> list[Step]:
    return [s for s in steps if s.done is not True]


__all__ = ["SetupFacts", "Step", "checklist", "missing"]
