"""Bulk inserts in chunks: thousands of rows (a 5,000-bill ledger's cache, a digest's index of
every bill it counts) written a few hundred at a time."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, SQLModel

# One executemany of every row holds each row's parameters, and the driver's batches of
# them, at once: for 5,000 rows a peak of megabytes that the process keeps as resident
# memory afterwards. A few hundred rows a statement costs no measurable time.
ROWS_PER_INSERT = 250


def insert_rows(session: Session, model: type[SQLModel], rows: Iterable[dict[str, Any]], *,
                chunk: int = ROWS_PER_INSERT) -> int:
    """INSERT `rows` (made lazily, `chunk` at a time) in the session's transaction; how many."""
    table = model.__table__  # type: ignore[attr-defined]
    written, source = 0, iter(rows)
    while batch := list(islice(source, chunk)):
        session.execute(insert(table), batch)
        written += len(batch)
    return written


__all__ = ["ROWS_PER_INSERT", "insert_rows"]
