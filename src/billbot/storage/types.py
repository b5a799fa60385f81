"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has neither a decimal nor a timezone-aware timestamp type: pysqlite would turn a
Numeric into a float and hand back naive datetimes. These decorators keep money exact
(stored as text on SQLite, NUMERIC(20, 6) on PostgreSQL) and timestamps aware in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_SCALE = 6
_MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)


def to_money_column(value: Decimal) -> Decimal:
    """The value as stored: six decimals; refuses anything that would lose a digit."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"money must be a finite Decimal, got {value!r}")
    stored = value.quantize(_MONEY_QUANTUM)
    if stored != value:
        raise ValueError(f"{value} has more than {MONEY_SCALE} decimals")
    return stored


class MoneyType(TypeDecorator[Decimal]):
    """Exact Decimal money: NUMERIC(20, 6) on PostgreSQL, canonical text on SQLite."""

    impl = Numeric(20, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(20, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        stored = to_money_column(value)
        return format(stored, "f") if dialect.name == "sqlite" else stored

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return to_money_column(Decimal(str(value)))


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive values are refused on write."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        # SQLite compares the stored text, so every value is written as naive UTC.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"unexpected timestamp value {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
