"""Migration 0030: a pay run confirmed with "one payment per supplier" (0029's
`per_supplier`) keeps that choice as grouping 'supplier'; the others are 'each', and only
the three groupings can be stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from billbot.storage.db import make_engine, upgrade_database

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
INSERT = ("INSERT INTO pay_run (id, company_id, connection_id, channel_id, payer_id, state, "
          "attempt, choices, created_at, updated_at{extra}) VALUES (:id, 'co', 'cn', 'C0', "
          "'U0PAT', 'finished', 1, '{{}}', :at, :at{values})")


def test_old_runs_keep_their_choice_and_only_known_groupings_are_stored(
        database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_database(engine, "0029")
        with engine.begin() as conn:
            for run_id, per_supplier in (("00000000-0000-0000-0000-000000000001", True),
                                         ("00000000-0000-0000-0000-000000000002", False)):
                conn.execute(text(INSERT.format(extra=", per_supplier", values=", :ps")),
                             {"id": run_id.replace("-", "") if engine.dialect.name == "sqlite"
                              else run_id, "at": T0, "ps": per_supplier})
        upgrade_database(engine)
        with engine.connect() as conn:
            rows = conn.execute(text(
                'SELECT "grouping", platform FROM pay_run ORDER BY id')).all()
        assert [tuple(r) for r in rows] == [("supplier", None), ("each", None)]
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text(INSERT.format(extra=', "grouping"', values=", 'all'")),
                         {"id": "00000000000000000000000000000003", "at": T0})
    finally:
        engine.dispose()
