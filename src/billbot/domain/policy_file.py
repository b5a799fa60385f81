"""Read and check a `BILLBOT_POLICY_FILE` (YAML) into an `ApprovalPolicy`.

Every problem is collected (not just the first), each naming the rule (or payer) it is in, so
`billbot run` and `/bills policy reload` can say at once everything that stops the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import yaml

from .approval_rules import (
    GROUP_ID,
    USER_ID,
    ApprovalPolicy,
    Conditions,
    PayerLimit,
    Rule,
    Step,
)

_TOP = {"rules", "payers"}
_RULE = {"name", "when", "steps", "auto_approve"}
_WHEN = {"amount_over", "amount_up_to", "currency", "supplier", "account"}
_STEP = {"approvers", "need"}
_PAYER = {"user", "limit"}


class PolicyFileError(ValueError):
    """The file cannot work; `problems` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _unknown(where: str, data: Mapping[Any, Any], allowed: set[str], out: list[str]) -> None:
    for key in data:
        if key not in allowed:
            out.append(f"{where}: unknown key `{key}` (allowed: {', '.join(sorted(allowed))})")


def _amount(where: str, key: str, value: Any, out: list[str]) -> Decimal | None:
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        amount = Decimal(str(value))
    except InvalidOperation:
        out.append(f"{where}: `{key}` must be a number, not {value!r}")
        return None
    if not amount.is_finite() or amount < 0:
        out.append(f"{where}: `{key}` must be a number of zero or more, not {value!r}")
        return None
    return amount


def _strings(where: str, key: str, value: Any, out: list[str]) -> frozenset[str] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(
            isinstance(i, str) and i.strip() for i in items):
        out.append(f"{where}: `{key}` must be a non-empty list of names or ids")
        return None
    return frozenset(i.strip() for i in items)


def _conditions(where: str, raw: Any, out: list[str]) -> Conditions:
    if raw is None:
        return Conditions()
    if not isinstance(raw, dict):
        out.append(f"{where}: `when` must be a mapping of conditions")
        return Conditions()
    _unknown(f"{where} `when`", raw, _WHEN, out)
    over = _amount(where, "amount_over", raw.get("amount_over"), out)
    up_to = _amount(where, "amount_up_to", raw.get("amount_up_to"), out)
    if over is not None and up_to is not None and up_to <= over:
        out.append(f"{where}: `amount_up_to` ({up_to}) must be above `amount_over` ({over}); "
                   "no bill could match")
    currencies = _strings(where, "currency", raw.get("currency"), out)
    return Conditions(
        amount_over=over, amount_up_to=up_to,
        currencies=frozenset(c.upper() for c in currencies) if currencies is not None else None,
        suppliers=_strings(where, "supplier", raw.get("supplier"), out),
        accounts=_strings(where, "account", raw.get("account"), out))


def _step(where: str, raw: Any, out: list[str]) -> Step | None:
    if not isinstance(raw, dict):
        out.append(f"{where}: a step must be a mapping with `approvers` and `need`")
        return None
    _unknown(where, raw, _STEP, out)
    approvers = raw.get("approvers")
    if not isinstance(approvers, list) or not approvers:
        out.append(f"{where}: `approvers` must be a non-empty list of Slack user or group ids")
        return None
    ids: list[str] = []
    for a in approvers:
        text = str(a).strip()
        if not (USER_ID.match(text) or GROUP_ID.match(text)):
            out.append(f"{where}: {a!r} is not a Slack user id (U…/W…) or user group id (S…)")
        elif text in ids:
            out.append(f"{where}: {text} is listed twice")
        else:
            ids.append(text)
    need_raw = raw.get("need", 1)
    need: int | Literal["all"]
    if need_raw == "all":
        need = "all"
    elif isinstance(need_raw, int) and not isinstance(need_raw, bool) and need_raw >= 1:
        need = need_raw
        if need_raw > len(approvers):
            out.append(f"{where}: `need` is {need_raw} but the step names only "
                       f"{len(approvers)} approver(s)")
    else:
        out.append(f"{where}: `need` must be a whole number of 1 or more, or `all`, "
                   f"not {need_raw!r}")
        need = 1
    return Step(tuple(ids), need)


def _rule(index: int, raw: Any, names: set[str], out: list[str]) -> Rule | None:
    if not isinstance(raw, dict):
        out.append(f"rule {index}: must be a mapping with `name` and `steps` or `auto_approve`")
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        out.append(f"rule {index}: `name` is required")
        name = f"#{index}"
    name = name.strip()
    where = f"rule “{name}”"
    if name in names:
        out.append(f"{where}: two rules are named “{name}”; names must be unique")
    names.add(name)
    _unknown(where, raw, _RULE, out)
    auto = raw.get("auto_approve", False)
    if not isinstance(auto, bool):
        out.append(f"{where}: `auto_approve` must be true or false")
        auto = False
    steps_raw = raw.get("steps")
    steps: list[Step] = []
    if steps_raw is not None and not isinstance(steps_raw, list):
        out.append(f"{where}: `steps` must be a list")
    elif steps_raw:
        for n, s in enumerate(steps_raw, start=1):
            step = _step(f"{where} step {n}", s, out)
            if step is not None:
                steps.append(step)
    if not steps_raw and not auto:
        out.append(f"{where}: has neither `steps` nor `auto_approve: true`")
    if steps_raw and auto:
        out.append(f"{where}: has both `steps` and `auto_approve`; choose one")
    return Rule(name=name, when=_conditions(where, raw.get("when"), out), steps=tuple(steps),
                auto_approve=auto)


def _payers(raw: Any, out: list[str]) -> tuple[PayerLimit, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        out.append("payers: must be a list of `user` entries")
        return None
    payers: list[PayerLimit] = []
    seen: set[str] = set()
    for n, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            out.append(f"payer {n}: must be a mapping with `user`")
            continue
        user = str(entry.get("user", "")).strip()
        where = f"payer {user or n}"
        _unknown(where, entry, _PAYER, out)
        if not USER_ID.match(user):
            out.append(f"{where}: `user` must be a Slack user id (U…/W…)")
            continue
        if user in seen:
            out.append(f"{where}: listed twice")
        seen.add(user)
        limit = entry.get("limit") or {}
        limits: dict[str, Decimal] = {}
        if not isinstance(limit, dict):
            out.append(f"{where}: `limit` must map currencies to amounts, e.g. {{GBP: 10000}}")
        else:
            for currency, amount in limit.items():
                code = str(currency).strip().upper()
                if len(code) != 3 or not code.isalpha():
                    out.append(f"{where}: {currency!r} is not a currency code")
                    continue
                value = _amount(where, f"limit {code}", amount, out)
                if value is not None:
                    limits[code] = value
        payers.append(PayerLimit(user, limits))
    return tuple(payers)


def parse_policy(text: str) -> ApprovalPolicy:
    """The policy a file's text states; PolicyFileError naming every problem otherwise."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyFileError([f"not valid YAML: {exc}".splitlines()[0]]) from None
    if not isinstance(data, dict):
        raise PolicyFileError(["the file must be a mapping with a `rules` list"])
    out: list[str] = []
    _unknown("policy file", data, _TOP, out)
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        out.append("policy file: `rules` must be a non-empty list")
        raw_rules = []
    names: set[str] = set()
    rules = [r for i, raw in enumerate(raw_rules, start=1)
             if (r := _rule(i, raw, names, out)) is not None]
    payers = _payers(data.get("payers"), out)
    if out:
        raise PolicyFileError(out)
    return ApprovalPolicy(rules=tuple(rules), payers=payers)


__all__ = ["PolicyFileError", "parse_policy"]
