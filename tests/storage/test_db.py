"""Engine setup, migrations and the column types, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from importlib.resources import files

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

import billbot.storage.tables  # noqa: F401  (registers the tables)
from billbot.storage.audit import BillRef, iter_audit, record_audit
from billbot.storage.db import (
    DatabaseUrlError,
    alembic_config,
    make_engine,
    parse_database_url,
    ping,
    session_scope,
    shipped_head,
    upgrade_database,
)
from billbot.storage.tables import BillTrack, ChannelBinding
from billbot.storage.types import to_money_column

T0 = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
EXPECTED_TABLES = {
    "dm_card",
    "home_viewer",
    "channel_binding", "role_grant", "bill_track", "approval", "payment_intent",
    "digest_post", "slack_message", "processed_request", "audit_log", "channel_notice",
    "delegation", "reminder_sent", "pay_run", "pay_run_item",
    "invoice_upload",
    "bill_thread_post",
    "known_company", "connect_watch",
    "bank_account_request",
    "bill_creation", "created_bill",
    "bill_edit",
    "slack_installations", "slack_bots", "slack_oauth_states",
    "usergroup_members",
    "cached_bill", "bill_refresh",
    "policy_version",
    "bill_control",
    "slack_pace",
}


class TestUrls:
    def test_postgresql_url_uses_psycopg3(self) -> None:
        """A plain postgresql:// URL is pinned to the installed psycopg 3 driver."""
        assert parse_database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
        assert parse_database_url("postgres://u@h/db").drivername == "postgresql+psycopg"

    @pytest.mark.parametrize("bad", ["not a url", "://x", "sqlite:/:"])
    def test_unparseable_url_is_a_clear_error(self, bad: str) -> None:
        with pytest.raises(DatabaseUrlError, match="DATABASE_URL"):
            make_engine(bad)

    def test_unsupported_backend_is_refused(self) -> None:
        with pytest.raises(DatabaseUrlError, match="sqlite:// or postgresql://"):
            parse_database_url("mysql://u@h/db")

    def test_in_memory_sqlite_is_refused(self) -> None:
        """Each pooled connection would see its own empty database."""
        with pytest.raises(DatabaseUrlError, match="SQLite file"):
            make_engine("sqlite://")


class TestMigrations:
    def test_creates_every_table_and_matches_the_models(self, engine: Engine) -> None:
        """The migrations and the SQLModel tables agree (no autogenerate drift)."""
        assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []

    def test_upgrade_is_idempotent_and_takes_a_url(self, database_url: str,
                                                   engine: Engine) -> None:
        upgrade_database(database_url)
        upgrade_database(engine)
        with engine.connect() as conn:
            at = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
        assert heads == [at], "one line of migrations, applied to its head"

    def test_shipped_head_is_alembics_head(self, engine: Engine) -> None:
        assert [shipped_head()] == ScriptDirectory.from_config(alembic_config(engine)).get_heads()

    def test_a_schema_at_head_starts_without_loading_alembic(self, database_url: str) -> None:
        """A replica's usual start: nothing to migrate, so Alembic stays out of memory."""
        upgrade_database(database_url)
        probe = ("import sys; from billbot.storage.db import upgrade_database; "
                 "upgrade_database(sys.argv[1]); "
                 "print(sorted(m for m in sys.modules if m.startswith('alembic')))")
        out = subprocess.run([sys.executable, "-c", probe, database_url], check=True,
                             capture_output=True, text=True, timeout=120).stdout
        assert out.strip() == "[]"

    def test_migrations_ship_inside_the_package(self) -> None:
        """The installed package carries env.py, the template and the versions."""
        root = files("billbot.storage") / "migrations"
        assert (root / "env.py").is_file()
        assert (root / "script.py.mako").is_file()
        assert (root / "versions" / "v0001_initial.py").is_file()
        assert (root / "versions" / "v0002_outcome_shown.py").is_file()
        assert (root / "versions" / "v0003_payer_view.py").is_file()

    def test_ping(self, engine: Engine) -> None:
        assert ping(engine)

    def test_ping_is_false_when_unreachable(self, tmp_path: object) -> None:
        dead = make_engine("postgresql://nobody@127.0.0.1:1/none", connect_args={
            "connect_timeout": 1})
        assert not ping(dead)


class TestAuditIsAppendOnly:
    def _one_entry(self, engine: Engine) -> None:
        with session_scope(engine) as session:
            record_audit(session, at=T0, actor="U1", action="test.entry",
                         bill=BillRef("c", "k", "b1"), detail={"n": 1})

    @pytest.mark.parametrize("statement", [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
    ])
    def test_database_refuses_changes(self, engine: Engine, statement: str) -> None:
        self._one_entry(engine)
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
        with session_scope(engine, read_only=True) as session:
            entries = list(iter_audit(session))
        assert [(e.actor, e.detail) for e in entries] == [("U1", {"n": 1})]

    # TRUNCATE is PostgreSQL's (SQLite has none), so only that database runs this one.
    @pytest.mark.postgres
    @pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
    def test_postgres_refuses_truncate(self, engine: Engine) -> None:
        assert engine.dialect.name == "postgresql"
        self._one_entry(engine)
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))

    def test_audit_rolls_back_with_its_transaction(self, engine: Engine) -> None:
        """An entry describing a change that did not commit does not exist either."""
        with pytest.raises(RuntimeError), session_scope(engine) as session:
            record_audit(session, at=T0, actor="U1", action="test.entry")
            raise RuntimeError("the change failed")
        with session_scope(engine, read_only=True) as session:
            assert list(iter_audit(session)) == []


def _track(bill_id: str, *, total: Decimal, due: Decimal | None) -> BillTrack:
    return BillTrack(
        company_id="c", connection_id="k", bill_id=bill_id, baseline_total=total,
        baseline_amount_due=due, baseline_due_date=T0.date(), baseline_currency="GBP",
        baseline_supplier_id="s", paid_in_round=Decimal(0), created_at=T0, updated_at=T0,
    )


class TestColumnTypes:
    @pytest.mark.parametrize("amount", [
        Decimal("1329.54"), Decimal("0.1"), Decimal("0.000001"),
        Decimal("99999999999999.999999"), Decimal("-12.5"), Decimal(0),
    ])
    def test_money_round_trips_exactly(self, engine: Engine, amount: Decimal) -> None:
        with session_scope(engine) as session:
            session.add(_track("b", total=amount, due=None))
        with session_scope(engine, read_only=True) as session:
            track = session.get(BillTrack, 1)
            assert track is not None
            assert isinstance(track.baseline_total, Decimal)
            assert track.baseline_total == amount
            assert track.baseline_amount_due is None

    def test_money_with_too_many_decimals_is_refused(self) -> None:
        with pytest.raises(ValueError, match="decimals"):
            to_money_column(Decimal("0.0000001"))

    def test_timestamps_come_back_aware_in_utc(self, engine: Engine) -> None:
        plus_two = datetime(2026, 3, 29, 3, 15, tzinfo=timezone(timedelta(hours=2)))
        with session_scope(engine) as session:
            session.add(ChannelBinding(channel_id="C1", company_id="c", connection_id="k",
                                       bound_by="U1", bound_at=plus_two))
        with session_scope(engine, read_only=True) as session:
            binding = session.get(ChannelBinding, "C1")
            assert binding is not None
            assert binding.bound_at == plus_two
            assert binding.bound_at.tzinfo == UTC

    def test_naive_timestamps_are_refused(self, engine: Engine) -> None:
        with pytest.raises(Exception, match="timezone-aware"), session_scope(engine) as s:
            s.add(ChannelBinding(channel_id="C1", company_id="c", connection_id="k",
                                 bound_by="U1", bound_at=datetime(2026, 1, 1)))


@pytest.fixture
def sqlite_engine(tmp_path: object) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path}/locks.db")
    upgrade_database(engine)
    yield engine
    engine.dispose()


class TestSqliteTransactions:
    def test_pragmas(self, sqlite_engine: Engine) -> None:
        with sqlite_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1

    def test_concurrent_read_then_write_never_hits_database_is_locked(
        self, sqlite_engine: Engine
    ) -> None:
        """20 threads each read a counter and write it back + 1: with BEGIN IMMEDIATE they
        queue for the write lock instead of failing, and no increment is lost."""
        with session_scope(sqlite_engine) as session:
            session.add(_track("counter", total=Decimal(0), due=Decimal(0)))
        barrier = threading.Barrier(20)
        errors: list[BaseException] = []

        def bump() -> None:
            try:
                barrier.wait()
                with session_scope(sqlite_engine) as session:
                    track = session.get(BillTrack, 1)
                    assert track is not None
                    track.round += 1
                    session.add(track)
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=bump) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with session_scope(sqlite_engine, read_only=True) as session:
            track = session.get(BillTrack, 1)
            assert track is not None and track.round == 21

    def test_read_only_session_does_not_take_the_write_lock(self, sqlite_engine: Engine) -> None:
        """A long read (a digest) leaves writers free: a write commits while it is open."""
        with session_scope(sqlite_engine, read_only=True) as reader:
            reader.exec(text("SELECT count(*) FROM bill_track"))  # type: ignore[call-overload]
            with session_scope(sqlite_engine) as writer:
                writer.add(_track("b", total=Decimal(1), due=Decimal(1)))
        with session_scope(sqlite_engine, read_only=True) as session:
            assert session.get(BillTrack, 1) is not None
