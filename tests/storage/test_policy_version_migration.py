"""Migration 0028: the versions that exist stay single-workspace mode's (team id ''), and
numbers count per workspace while one workspace's number still collides with itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from billbot.storage.db import make_engine, upgrade_database

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
INSERT = ("INSERT INTO policy_version (team_id, number, source, text, policy_json, author, "
          "created_at) VALUES (:team, :number, :source, 't', '{}', 'U0ADA', :at)")


def _insert(engine: Engine, team: str, number: int, source: str = "db") -> None:
    with engine.begin() as conn:
        conn.execute(text(INSERT), {"team": team, "number": number, "source": source,
                                    "at": T0})


def test_existing_versions_become_single_workspace_and_numbers_count_per_workspace(
        database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_database(engine, "0027")
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO policy_version (number, source, text, policy_json, author, "
                "created_at) VALUES (1, 'env', 'old', '{}', 'config', :at)"), {"at": T0})
        upgrade_database(engine)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT team_id, number, text FROM policy_version"))
            assert [tuple(r) for r in rows] == [("", 1, "old")]
        _insert(engine, "T0AAAA", 1)  # workspace A's first version, whatever '' has
        _insert(engine, "T0BBBB", 1)
        with pytest.raises(IntegrityError):
            _insert(engine, "T0AAAA", 1)  # two replicas saving A's version 1: one wins
        with pytest.raises(IntegrityError):
            _insert(engine, "T0AAAA", 2, source="yaml")  # the source check survived
        with engine.connect() as conn:
            counted = conn.execute(text(
                "SELECT team_id, COUNT(*) FROM policy_version GROUP BY team_id "
                "ORDER BY team_id")).all()
        assert [tuple(r) for r in counted] == [("", 1), ("T0AAAA", 1), ("T0BBBB", 1)]
    finally:
        engine.dispose()


def test_downgrade_keeps_single_workspace_versions(database_url: str) -> None:
    from alembic import command

    from billbot.storage.db import alembic_config

    engine = make_engine(database_url)
    try:
        upgrade_database(engine)
        _insert(engine, "", 1)
        _insert(engine, "T0AAAA", 1)
        config = alembic_config(engine)
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0027")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT number FROM policy_version")).scalars().all() == [1]
        upgrade_database(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT team_id FROM policy_version")).scalars().all() == [""]
    finally:
        engine.dispose()
