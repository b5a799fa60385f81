"""INSERT ... ON CONFLICT DO NOTHING on either database: the first writer of a key wins."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def insert_if_absent(session: Session, model: type[SQLModel], values: dict[str, Any]) -> bool:
    """Insert one row unless a unique key already holds one; True when this call inserted it.

    No exception and no savepoint: the caller's transaction stays usable either way.
    """
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    else:
        raise NotImplementedError(f"no conflict-free insert for {dialect}")
    # RETURNING rather than rowcount: drivers disagree on rowcount for a skipped insert.
    key = next(iter(table.primary_key.columns))
    return session.exec(statement.returning(key)).first() is not None


__all__ = ["insert_if_absent"]
