"""Persistence: SQLModel tables, engine/session setup, repository functions, Alembic migrations.

Repository functions are synchronous, keyword-only and take an explicit `session`; the
services in `billbot.services` run them in worker threads for async callers.
"""

from . import (
    personal_tables,  # noqa: F401  (registers its tables on the metadata)
    thread_tables,  # noqa: F401  (registers bill_thread_post on the metadata)
)
from .audit import BillRef, iter_audit, record_audit
from .db import (
    DatabaseUrlError,
    make_engine,
    parse_database_url,
    ping,
    session_scope,
    upgrade_database,
)

__all__ = [
    "BillRef",
    "DatabaseUrlError",
    "iter_audit",
    "make_engine",
    "parse_database_url",
    "ping",
    "record_audit",
    "session_scope",
    "upgrade_database",
]
