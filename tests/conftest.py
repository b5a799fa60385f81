"""Fixtures shared by the whole suite.

Databases: every storage-touching test runs on a fresh SQLite file, and also on PostgreSQL
when BILLBOT_TEST_POSTGRES_URL is set (CI sets it; see .ci/run). Each PostgreSQL test gets
a freshly CREATEd database of its own, dropped afterwards.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.plugins.openapi_contract"]

POSTGRES_URL_ENV = "BILLBOT_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_URL_ENV) or None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if postgres_url():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI must set {POSTGRES_URL_ENV}: the suite runs on PostgreSQL too")
    skip = pytest.mark.skip(reason=f"set {POSTGRES_URL_ENV} to run on PostgreSQL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_slack_and_codat_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's real tokens or a stray .env setting."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "CODAT_", "BILLBOT_")) and name != POSTGRES_URL_ENV:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)


# --- databases (storage and services engineer) ------------------------------------------------
# `database_url`: a fresh SQLite file, and a fresh PostgreSQL database (CREATEd with a unique
# name, DROPped after) when BILLBOT_TEST_POSTGRES_URL is set. `engine`: that database, migrated.

import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

from sqlalchemy import Engine  # noqa: E402


def _fresh_postgres_database(admin_url: str) -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from billbot.storage.db import parse_database_url

    base = parse_database_url(admin_url)
    name = f"billbot_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'billbot.db'}"
        return
    admin_url = postgres_url()
    if admin_url is None:  # the collection hook skips these; this is a second guard
        pytest.skip(f"set {POSTGRES_URL_ENV} to run on PostgreSQL")
    yield from _fresh_postgres_database(admin_url)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    from billbot.storage.db import make_engine, upgrade_database

    migrated = make_engine(database_url)
    upgrade_database(migrated)
    yield migrated
    migrated.dispose()
