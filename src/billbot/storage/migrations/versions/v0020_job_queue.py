"""The job queue (PostgreSQL only): procrastinate's schema in its own schema, billbot_jobs.

Applied here rather than by the library at start so that it is versioned with everything
else and taken under the same migration lock when replicas start together. Its own schema
keeps the library's tables, types and functions apart from billbot's tables (the model
checks compare `public` only); the queue's connections put billbot_jobs on their search_path.
The SQL is the installed procrastinate's `schema.sql`: a later procrastinate whose schema
changes needs a billbot migration applying its migration scripts here.

SQLite runs its jobs inside the one process (billbot.jobs.local): nothing to create.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

SCHEMA = "billbot_jobs"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    driver = bind.connection.dbapi_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute("SHOW search_path")
        row = cursor.fetchone()
        previous = row[0] if row else "public"
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        cursor.execute(f"SET LOCAL search_path TO {SCHEMA}")
        # Several statements in one execute: psycopg sends them as one simple query.
        cursor.execute(SchemaManager.get_schema())
        cursor.execute("SELECT set_config('search_path', %s, true)", (previous,))
    finally:
        cursor.close()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
