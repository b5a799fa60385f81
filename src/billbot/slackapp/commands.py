"""`/bills` text parsed into a command, or a short explanation of what was wrong.

Pure: no Slack, no database. Anything unrecognised becomes `Help` with a hint, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

MAX_DAYS = 365
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>$")
_RAW_USER = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_CODAT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


@dataclass(frozen=True)
class Help:
    hint: str | None = None  # what was wrong with the text, if anything


@dataclass(frozen=True)
class Due:
    days: int | None  # None: the configured window


@dataclass(frozen=True)
class Digest:
    pass


@dataclass(frozen=True)
class Show:
    reference: str


@dataclass(frozen=True)
class RoleChange:
    role: Literal["approver", "payer", "admin"]
    action: Literal["add", "remove", "list"]
    user_id: str | None


@dataclass(frozen=True)
class Connect:
    company_id: str
    connection_id: str


@dataclass(frozen=True)
class ConnectModal:
    pass


@dataclass(frozen=True)
class Audit:
    reference: str | None


@dataclass(frozen=True)
class Payrun:
    pass


@dataclass(frozen=True)
class Away:
    first_day: date
    last_day: date
    delegate_id: str


@dataclass(frozen=True)
class Back:
    pass


@dataclass(frozen=True)
class AwayList:
    pass


@dataclass(frozen=True)
class AwayEnd:
    user_id: str


@dataclass(frozen=True)
class AccountsAdd:
    pass


@dataclass(frozen=True)
class NewBill:
    pass


@dataclass(frozen=True)
class Setup:
    pass


@dataclass(frozen=True)
class Policy:
    """`/bills policy` (show), `policy check <bill>`, `policy reload`, `policy edit`."""

    action: Literal["show", "check", "reload", "edit"]
    reference: str | None = None


Command = (Help | Due | Digest | Show | RoleChange | Connect | Audit | Payrun | Away | Back
           | AwayList | AwayEnd | ConnectModal | AccountsAdd | Setup | NewBill | Policy)

POLICY_USAGE = ("`/bills policy` shows the approval policy, `/bills policy check <bill>` says "
                "which rule applies to a bill and why, `/bills policy edit` edits it in a form "
                "and `/bills policy reload` re-reads BILLBOT_POLICY_FILE (admins).")

AWAY_USAGE = ("`/bills away <from> <to> @person` takes the first and last day as YYYY-MM-DD "
              "(both included) and who covers for you, e.g. `/bills away 2027-01-04 2027-01-08 "
              "@ben`; `/bills back` ends it.")


def _user(token: str) -> str | None:
    match = _MENTION.match(token)
    if match:
        return match[1]
    return token if _RAW_USER.match(token) else None


def parse(text: str) -> Command:
    words = text.strip().split()
    if not words:
        return Help()
    verb, args = words[0].lower(), words[1:]
    if verb == "help":
        return Help()
    if verb == "due":
        if not args:
            return Due(days=None)
        if len(args) == 1 and re.fullmatch(r"\d{1,3}", args[0]) and int(args[0]) <= MAX_DAYS:
            return Due(days=int(args[0]))
        return Help(hint=f"`/bills due [days]` takes a whole number of days from 0 to {MAX_DAYS}.")
    if verb == "digest":
        return Digest() if not args else Help(hint="`/bills digest` takes no arguments.")
    if verb == "show":
        if not args:
            return Help(hint="`/bills show <bill>` needs a reference, a supplier name or a "
                        "Codat bill id, e.g. `INV-1042`.")
        return Show(reference=" ".join(args)[:255])
    if verb in ("approvers", "payers", "admins"):
        role: Literal["approver", "payer", "admin"] = (
            "approver" if verb == "approvers" else "payer" if verb == "payers" else "admin")
        usage = f"`/bills {verb} add|remove @user` or `/bills {verb} list`."
        if args[:1] == ["list"] and len(args) == 1:
            return RoleChange(role=role, action="list", user_id=None)
        if len(args) == 2 and args[0] in ("add", "remove"):
            user = _user(args[1])
            if user is None:
                return Help(hint=f"{args[1][:40]!r} is not a Slack user. Use {usage}")
            action: Literal["add", "remove"] = "add" if args[0] == "add" else "remove"
            return RoleChange(role=role, action=action, user_id=user)
        return Help(hint=f"Use {usage}")
    if verb == "connect":
        if not args:
            return ConnectModal()
        if len(args) == 2 and all(_CODAT_ID.match(a) for a in args):
            return Connect(company_id=args[0], connection_id=args[1])
        return Help(hint="`/bills connect` opens a form to connect a company; "
                         "`/bills connect <companyId> <connectionId>` binds this channel to a "
                         "Codat company connection.")
    if verb == "payrun":
        return Payrun() if not args else Help(hint="`/bills payrun` takes no arguments.")
    if verb == "audit":
        return Audit(reference=" ".join(args)[:255] if args else None)
    if verb == "back":
        return Back() if not args else Help(hint="`/bills back` takes no arguments.")
    if verb == "away":
        return _away(args)
    if verb == "new":
        return NewBill() if not args else Help(hint="`/bills new` takes no arguments.")
    if verb == "accounts":
        if [a.lower() for a in args] == ["add"]:
            return AccountsAdd()
        return Help(hint="`/bills accounts add` opens a form to add a bank account (admins).")
    if verb == "policy":
        return _policy(args)
    if verb == "setup":
        return Setup() if not args else Help(hint="`/bills setup` takes no arguments.")
    return Help(hint=f"I don't know `{verb[:30]}`.")


def _policy(args: list[str]) -> Command:
    sub = args[0].lower() if args else ""
    if not args:
        return Policy("show")
    if sub == "check" and len(args) > 1:
        return Policy("check", " ".join(args[1:])[:255])
    if sub in ("reload", "edit") and len(args) == 1:
        return Policy("reload" if sub == "reload" else "edit")
    return Help(hint=POLICY_USAGE)


def _day(token: str) -> date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", token):
        return None
    try:
        return date.fromisoformat(token)
    except ValueError:
        return None


def _away(args: list[str]) -> Command:
    if args == ["list"]:
        return AwayList()
    if args[:1] == ["end"]:
        user = _user(args[1]) if len(args) == 2 else None
        if user is None:
            return Help(hint="`/bills away end @person` ends that person's delegation (admins).")
        return AwayEnd(user_id=user)
    if len(args) != 3:
        return Help(hint=AWAY_USAGE)
    first, last, delegate = _day(args[0]), _day(args[1]), _user(args[2])
    if first is None or last is None:
        bad = args[0] if first is None else args[1]
        return Help(hint=f"{bad[:40]!r} is not a date as YYYY-MM-DD. {AWAY_USAGE}")
    if delegate is None:
        return Help(hint=f"{args[2][:40]!r} is not a Slack user. {AWAY_USAGE}")
    return Away(first_day=first, last_day=last, delegate_id=delegate)
