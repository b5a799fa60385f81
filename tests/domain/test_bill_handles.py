"""Which bill ids travel as handles, and what the handles look like."""

from __future__ import annotations

from billbot.domain.bill_handles import (
    HANDLE_PREFIX,
    MAX_INLINE_ID,
    bill_handle,
    carried,
    handles_of,
    is_handle,
)


def test_a_short_id_travels_as_itself() -> None:
    """Rows in older digests carry the id: nothing changes for ordinary ids."""
    short = "7" * MAX_INLINE_ID
    assert carried(short) == short and not is_handle(carried(short))
    assert handles_of([short, "7110700004"]) == {}


def test_a_long_id_travels_as_a_short_stable_handle() -> None:
    long_id = "x" * (MAX_INLINE_ID + 1)
    handle = carried(long_id)
    assert handle == bill_handle(long_id) == carried(long_id)
    assert is_handle(handle) and len(handle) <= 40
    assert handle[len(HANDLE_PREFIX):].isalnum()
    assert handles_of([long_id, "short"]) == {handle: long_id}


def test_different_ids_get_different_handles() -> None:
    assert bill_handle("a" * 300) != bill_handle("a" * 299 + "b")


def test_a_short_id_that_looks_like_a_handle_travels_as_one() -> None:
    """Otherwise a bill whose id starts with the prefix would be read as an unknown handle."""
    odd = HANDLE_PREFIX + "ABC"
    assert carried(odd) == bill_handle(odd) != odd
