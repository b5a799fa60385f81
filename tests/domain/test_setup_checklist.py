"""`/bills setup`'s steps from the facts (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

from billbot.domain.setup_checklist import SetupFacts, checklist, missing

READY = SetupFacts(bot_in_channel=True, company="Acme Ltd", approvers=2, payers=1, admins=1,
                   payment_accounts=3, digest_at=time(9, 0), digest_days=frozenset(range(5)),
                   timezone="Europe/London", connection_status="Linked")


def test_a_ready_channel_misses_nothing() -> None:
    steps = checklist(READY)
    assert len(steps) == 7 and missing(steps) == []
    assert "Mon, Tue, Wed, Thu, Fri at 09:00 (Europe/London)" in steps[-1].what


def test_each_gap_names_its_fix() -> None:
    facts = replace(READY, bot_in_channel=False, company=None, approvers=0, payers=0,
                    payment_accounts=None, digest_days=frozenset())
    fixes = [s.fix for s in missing(checklist(facts))]
    assert fixes[:4] == ["`/invite @billbot` in this channel", "`/bills connect`",
                         "`/bills approvers add @person`", "`/bills payers add @person`"]
    assert "`/bills accounts add`" in fixes and len(fixes) == 6


def test_unknown_facts_are_neither_done_nor_failed() -> None:
    steps = checklist(replace(READY, bot_in_channel=None, payment_accounts=None))
    assert [s.done for s in steps if s.done is None] == [None, None]


def test_a_connection_that_is_not_linked_is_missing() -> None:
    step = checklist(replace(READY, connection_status="Unlinked"))[1]
    assert step.done is False and "Unlinked" in step.what
