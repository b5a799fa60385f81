"""Replicas starting together on one empty database: one migrates, the others wait for it.

Without the lock, PostgreSQL transactions creating the same tables at once block on each
other's catalog entries and fail or stall: the first test does not pass on PostgreSQL then.
"""

from __future__ import annotations

import threading
import time

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from billbot.storage.db import MIGRATION_LOCK_KEY, alembic_config, make_engine, upgrade_database

REPLICAS = 4


def _at_head(engine: Engine) -> bool:
    with engine.connect() as conn:
        at = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return at == ScriptDirectory.from_config(alembic_config(engine)).get_heads()


def _in_threads(urls: list[str]) -> tuple[list[threading.Thread], list[BaseException]]:
    """Start `upgrade_database` once per URL, all released together."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(urls))

    def start(url: str) -> None:
        try:
            barrier.wait()
            upgrade_database(url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    return threads, errors


def test_concurrent_first_starts_all_succeed(database_url: str) -> None:
    """Four replicas start at once on an empty database: every one comes up, schema at head."""
    threads, errors = _in_threads([database_url] * REPLICAS)
    deadline = time.monotonic() + 120
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "a start is stuck"
    assert errors == []
    engine = make_engine(database_url)
    try:
        assert _at_head(engine)
        assert "payment_intent" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_start_waits_while_another_replica_migrates(database_url: str) -> None:
    """While another session holds the migration lock, a start queues on it and touches
    nothing; once the lock goes, it migrates."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as holder:
            holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            holder.commit()
            threads, errors = _in_threads([database_url])
            waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                           "AND NOT granted AND objid = :low")
            low = MIGRATION_LOCK_KEY & 0xFFFFFFFF
            for _ in range(600):  # bounded: the waiter shows up in pg_locks once it queues
                if holder.execute(waiting, {"low": low}).scalar():
                    break
                holder.commit()
                time.sleep(0.05)
            else:
                pytest.fail("the start never queued on the migration lock")
            assert threads[0].is_alive()
            assert "alembic_version" not in inspect(holder).get_table_names()
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            holder.commit()
        threads[0].join(timeout=120)
        assert not threads[0].is_alive() and errors == []
        assert _at_head(engine)
    finally:
        engine.dispose()
