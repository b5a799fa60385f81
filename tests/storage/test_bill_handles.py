"""bill_handle: idempotent writes, and a handle resolved only in its own company."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from billbot.storage import bill_handles
from billbot.storage.db import session_scope

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LONG = "B" * 2048  # the longest id billbot stores


def test_a_handle_resolves_in_its_company_only(engine: Engine) -> None:
    with session_scope(engine) as session:
        bill_handles.remember(session, company_id="c1", connection_id="k1",
                              handles={"bh:ONE": LONG}, at=AT)
    with session_scope(engine, read_only=True) as session:
        assert bill_handles.resolve(session, company_id="c1", connection_id="k1",
                                    handle="bh:ONE") == LONG
        assert bill_handles.resolve(session, company_id="c2", connection_id="k1",
                                    handle="bh:ONE") is None
        assert bill_handles.resolve(session, company_id="c1", connection_id="k2",
                                    handle="bh:ONE") is None
        assert bill_handles.resolve(session, company_id="c1", connection_id="k1",
                                    handle="bh:TWO") is None


def test_remembering_again_is_harmless(engine: Engine) -> None:
    for _ in range(2):
        with session_scope(engine) as session:
            bill_handles.remember(session, company_id="c1", connection_id="k1",
                                  handles={"bh:ONE": LONG, "bh:TWO": "C" * 300}, at=AT)
    with session_scope(engine, read_only=True) as session:
        assert bill_handles.resolve(session, company_id="c1", connection_id="k1",
                                    handle="bh:TWO") == "C" * 300
