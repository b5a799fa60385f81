"""Fixtures shared by the whole suite.

Databases: every storage-touching test runs on a fresh SQLite file, and also on PostgreSQL
when BILLBOT_TEST_POSTGRES_URL is set (CI sets it; see .ci/run). Each PostgreSQL test gets
its own schema-free database-per-test isolation by dropping and recreating billbot's tables.
"""

from __future__ import annotations

import os

import pytest

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
