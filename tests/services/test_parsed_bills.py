"""The parsed bills kept between reads: reused for a company read again, bounded in all (the
least recently read company goes first), replaced by a full read, added to by an increment."""

from __future__ import annotations

import json

import pytest

from billbot.codat.models import Bill
from billbot.sandbox.codat.state import SandboxState
from billbot.services.parsed_bills import ParsedBills, text_digest

A = ("company-a", "connection-a")
B = ("company-b", "connection-b")
C = ("company-c", "connection-c")


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Stored texts of real sandbox bills (the shapes a ledger holds)."""
    state = SandboxState.seeded(bills=12, due_soon=12)
    return [json.dumps(bill, default=str) for bill in state.main_ledger.bills.values()][:12]


def test_a_company_read_again_reuses_its_parsed_bills(texts: list[str]) -> None:
    kept = ParsedBills(limit=100)
    first = kept.parse(A, texts[:4])
    again = kept.parse(A, texts[:4])
    assert [b.id for b in first] == [Bill.model_validate_json(t).id for t in texts[:4]]
    assert all(x is y for x, y in zip(first, again, strict=True))
    # A text no longer read is let go: the company keeps what its last read returned.
    kept.parse(A, texts[1:4])
    assert kept.count == 3


def test_the_least_recently_read_company_goes_first_past_the_bound(texts: list[str]) -> None:
    kept = ParsedBills(limit=8)
    a = kept.parse(A, texts[:4])
    kept.parse(B, texts[4:8])
    kept.parse(A, texts[:4])  # A is now the most recent
    kept.parse(C, texts[8:12])  # 12 > 8: B goes
    assert kept.count == 8
    assert all(x is y for x, y in zip(a, kept.parse(A, texts[:4]), strict=True))
    b = kept.parse(B, texts[4:8])  # parsed again (and now C, the oldest, went)
    assert kept.count == 8
    assert [x.id for x in b] == [Bill.model_validate_json(t).id for t in texts[4:8]]


def test_a_ledger_larger_than_the_bound_is_not_kept(texts: list[str]) -> None:
    kept = ParsedBills(limit=5)
    kept.parse(A, texts[:3])
    assert len(kept.parse(B, texts[:10])) == 10
    assert kept.count == 0


def by_digest(bills: dict[str, Bill]) -> list[tuple[bytes, Bill]]:
    return [(text_digest(text), bill) for text, bill in bills.items()]


def test_a_full_read_replaces_and_an_increment_adds(texts: list[str]) -> None:
    kept = ParsedBills(limit=100)
    kept.parse(A, texts[:4])
    bills = {t: Bill.model_validate_json(t) for t in texts[4:6]}
    kept.seed(A, by_digest(bills), replace=True)
    assert kept.count == 2
    assert all(x is bills[t] for x, t in zip(kept.parse(A, texts[4:6]), texts[4:6], strict=True))
    more = {texts[6]: Bill.model_validate_json(texts[6])}
    kept.seed(A, by_digest(more), replace=False)
    assert kept.count == 3
    assert kept.parse(A, [texts[6]])[0] is more[texts[6]]


def test_a_bill_read_again_unchanged_stays_the_object_handed_out(texts: list[str]) -> None:
    kept = ParsedBills(limit=100)
    first = kept.parse(A, texts[:2])
    kept.seed(A, [(text_digest(t), Bill.model_validate_json(t)) for t in texts[:2]], replace=False)
    kept.seed(A, [(text_digest(t), Bill.model_validate_json(t)) for t in texts[:2]], replace=True)
    assert all(x is y for x, y in zip(first, kept.parse(A, texts[:2]), strict=True))


def test_kept_bills_share_their_fields_sets_and_behave_as_parsed(texts: list[str]) -> None:
    """The memory saving (CodatModel: one set of fields set for equal sets) changes nothing
    a bill does: equal, dumped alike (with or without the unset fields), and a copy with
    changes gets a set of its own."""
    kept = ParsedBills(limit=100)
    bills = kept.parse(A, texts[:4]) + list(kept.parse(B, texts[4:8]))
    fresh = [Bill.model_validate_json(t) for t in texts[:8]]
    assert bills == fresh
    assert [b.to_api() for b in bills] == [b.to_api() for b in fresh]
    assert [b.model_dump(exclude_unset=True) for b in bills] == \
        [b.model_dump(exclude_unset=True) for b in fresh]
    assert bills[0].__pydantic_fields_set__ is bills[1].__pydantic_fields_set__
    before = set(bills[1].model_fields_set)
    changed = bills[0].model_copy(update={"reference": "CHANGED"})
    assert changed.reference == "CHANGED" and "reference" in changed.model_fields_set
    assert bills[1].model_fields_set == before
    assert changed.model_fields_set is not bills[1].model_fields_set


def test_background_reads_keep_no_company_but_bring_a_kept_one_up_to_date(
        texts: list[str]) -> None:
    """A day of digests (background) must not fill the bound with companies nobody is looking
    at; a company someone works on stays current whoever read it last."""
    kept = ParsedBills(limit=100)
    assert len(kept.parse(A, texts[:4], keep=False)) == 4
    kept.seed(B, [(text_digest(t), Bill.model_validate_json(t)) for t in texts[4:6]],
              replace=True, keep=False)
    assert kept.count == 0
    people = kept.parse(A, texts[:4])  # someone's /bills due: kept
    assert kept.count == 4
    again = kept.parse(A, texts[1:5], keep=False)  # a digest: one bill paid, one new
    assert kept.count == 4
    assert again[0] is people[1] and kept.parse(A, texts[1:5])[3] is again[3]
    kept.seed(A, [(text_digest(texts[6]), Bill.model_validate_json(texts[6]))],
              replace=False, keep=False)
    assert kept.count == 5
