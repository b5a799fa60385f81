"""`/bills` text parsing: every subcommand, and help for anything else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billbot.slackapp.commands import (
    Audit,
    Connect,
    Digest,
    Due,
    Help,
    Policy,
    RoleChange,
    Show,
    parse,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("", Help()),
    ("help", Help()),
    ("  HELP ", Help()),
    ("due", Due(days=None)),
    ("due 0", Due(days=0)),
    ("due 365", Due(days=365)),
    ("digest", Digest()),
    ("show INV-1042", Show(reference="INV-1042")),
    ("approvers add <@U123ABC|ann>", RoleChange(role="approver", action="add", user_id="U123ABC")),
    ("payers remove U999", RoleChange(role="payer", action="remove", user_id="U999")),
    ("payers list", RoleChange(role="payer", action="list", user_id=None)),
    ("admins add <@U0SAM>", RoleChange(role="admin", action="add", user_id="U0SAM")),
    ("admins list", RoleChange(role="admin", action="list", user_id=None)),
    ("connect 8a210b68-6988-11ed-a1eb-0242ac120002 2e9d2c44-f675-40ba-8049-353bfcb5e171",
     Connect(company_id="8a210b68-6988-11ed-a1eb-0242ac120002",
             connection_id="2e9d2c44-f675-40ba-8049-353bfcb5e171")),
    ("audit", Audit(reference=None)),
    ("audit INV-1", Audit(reference="INV-1")),
    ("policy", Policy("show")),
    ("policy check INV-1", Policy("check", "INV-1")),
    ("policy reload", Policy("reload")),
    ("policy EDIT", Policy("edit")),
])
def test_parse(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text", ["due -1", "due 366", "due 1.5", "due seven", "due 3 4",
                                  "digest now", "show", "approvers add bob", "connect x",
                                  "dgest", "approvers", "policy edit now",
                                  "policy check"])
def test_typos_get_help_with_a_hint(text: str) -> None:
    result = parse(text)
    assert isinstance(result, Help) and result.hint


@given(st.text(max_size=3000))
def test_any_text_parses_to_a_command(text: str) -> None:
    parse(text)  # never raises
