"""Engine, sessions and schema upgrades for SQLite and PostgreSQL.

SQLite: WAL (readers never block the writer), a 5 s busy timeout, foreign keys on, and
SQLAlchemy's documented recipe for taking over BEGIN from pysqlite so a write transaction
starts with `BEGIN IMMEDIATE`: it queues for the write lock up front instead of failing
with "database is locked" when it upgrades from reading to writing.
PostgreSQL: psycopg 3 (`postgresql://` is mapped to `postgresql+psycopg://`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import as_file, files
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger("billbot.storage")

SQLITE_BUSY_TIMEOUT_MS = 5000
_READ_ONLY = "billbot_read_only"
# The advisory lock key every billbot replica takes around its migrations (any fixed bigint;
# this one spells "billbot" in ASCII, unlikely to collide with another application's key).
MIGRATION_LOCK_KEY = 0x62696C6C626F74


class DatabaseUrlError(ValueError):
    """DATABASE_URL is not something SQLAlchemy can parse or billbot can use."""


def parse_database_url(url: str | URL) -> URL:
    """The URL as SQLAlchemy understands it, with `postgresql://` pinned to psycopg 3."""
    if isinstance(url, URL):
        parsed = url
    else:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise DatabaseUrlError(
                f"DATABASE_URL is not a valid SQLAlchemy URL (e.g. sqlite:///billbot.db or "
                f"postgresql://user@host/db): {exc}"
            ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend == "postgres":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise DatabaseUrlError(
            f"DATABASE_URL must be a sqlite:// or postgresql:// URL, not {parsed.drivername}://"
        )
    return parsed


def make_engine(url: str | URL, **engine_options: Any) -> Engine:
    """An engine configured for billbot's transaction discipline on either database."""
    parsed = parse_database_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, **engine_options)
    if parsed.database in (None, "", ":memory:"):
        raise DatabaseUrlError("billbot needs a SQLite file (sqlite:///path.db), not :memory:")
    engine = create_engine(parsed, **engine_options)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop pysqlite from emitting its own (deferred) BEGIN; _on_begin emits ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """One short transaction: commit on success, roll back on any exception.

    Write transactions (the default) take SQLite's write lock at BEGIN; `read_only=True`
    uses a deferred BEGIN so long reads (a 5,000-bill digest) never hold it.
    Objects stay usable after the block (no expiry on commit).
    """
    bind = engine.execution_options(**{_READ_ONLY: True}) if read_only else engine
    session = Session(bind, expire_on_commit=False)
    try:
        with session.begin():
            yield session
    finally:
        session.close()


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query (for /healthz)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError as exc:
        logger.warning("database ping failed: %s", exc.__class__.__name__)
        return False


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at the migrations shipped inside the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "billbot.storage:migrations")
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def upgrade_database(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Bring the schema up to `revision` (idempotent; the bot calls it on start).

    Replicas starting together on one database take turns: the first migrates, the others
    wait for its commit and then find the schema at head (see `_serialize_migrations`).
    """
    engine = engine_or_url if isinstance(engine_or_url, Engine) else make_engine(engine_or_url)
    try:
        if revision == "head" and _at_head(engine):
            # Alembic and the migrations (about 10 MB resident) are left unloaded on the
            # usual start of a replica: the schema is already where this code wants it.
            return
        from alembic import command

        config = alembic_config(engine)
        with engine.begin() as connection:
            _serialize_migrations(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if not isinstance(engine_or_url, Engine):
            engine.dispose()


def shipped_head() -> str | None:
    """The one revision no shipped migration revises (None unless exactly one): read from
    the migration files' text, so knowing it imports neither Alembic nor the migrations."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in (files("billbot.storage") / "migrations" / "versions").iterdir():
        if not script.name.endswith(".py") or script.name.startswith("_"):
            continue
        source = script.read_text(encoding="utf-8")
        if found := re.search(r'^revision\b[^=\n]*=\s*"([^"]+)"', source, re.MULTILINE):
            revisions.add(found.group(1))
        if down := re.search(r'^down_revision\b[^=\n]*=\s*"([^"]+)"', source, re.MULTILINE):
            revised.add(down.group(1))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def _at_head(engine: Engine) -> bool:
    """The database's recorded revision is the shipped head (read without the migration
    lock: a schema only moves forward, and anything else goes through Alembic as before)."""
    head = shipped_head()
    if head is None:
        return False
    with engine.execution_options(**{_READ_ONLY: True}).connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        at = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return at == [head]


def _serialize_migrations(connection: Connection) -> None:
    """Hold the migration lock until this transaction ends.

    PostgreSQL: two replicas creating the same tables at once would make one fail on a
    duplicate catalog entry, so a transaction-scoped advisory lock queues them (released at
    commit or rollback, also when a crashed replica's session goes). SQLite needs nothing:
    `engine.begin()` already opened the transaction with BEGIN IMMEDIATE, its write lock.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def migrations_path() -> str:
    """Where the migrations live on disk (checks the installed package carries them)."""
    resource = files("billbot.storage") / "migrations"
    with as_file(resource) as path:
        return str(path)


__all__ = [
    "MIGRATION_LOCK_KEY",
    "DatabaseUrlError",
    "alembic_config",
    "make_engine",
    "migrations_path",
    "parse_database_url",
    "ping",
    "session_scope",
    "shipped_head",
    "upgrade_database",
]
