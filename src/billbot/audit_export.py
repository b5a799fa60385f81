"""`billbot audit export --format csv|jsonl [--since DATE]`: the audit trail to standard output.

Reads an existing billbot database only: a missing file, an unreachable server or a database
without billbot's schema is a clear error on stderr, and nothing is created or written.
Amounts are written one way in both formats: the currency's decimals ("1000.00", JPY "1200").
CSV has one column per field: the bill version's and the details' fields are flattened into
`version.<field>` and `detail.<field>` columns (lists joined with spaces).
"""

from __future__ import annotations

import contextlib
import csv
import json
import sqlite3
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from billbot.config import ConfigError, load_settings
from billbot.money import quantize
from billbot.storage.audit import iter_audit
from billbot.storage.db import DatabaseUrlError, make_engine, parse_database_url, session_scope
from billbot.storage.tables import AuditLog

COLUMNS = ("id", "at", "actor", "action", "company_id", "connection_id", "bill_id",
           "request_id")
# Fields holding money, wherever they appear in a version or the details.
AMOUNT_FIELDS = frozenset({"amount", "totalAmount", "amountDue", "paid_in_closed_round"})


class ExportError(Exception):
    """The database cannot be read as billbot's; the message says why."""


def _amount_text(value: Any, currency: str | None) -> Any:
    if not isinstance(value, str | int | float | Decimal) or isinstance(value, bool):
        return value
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return value
    if not amount.is_finite():
        return value
    return format(quantize(amount, currency or "XXX"), "f")


def _normalise(value: Any, currency: str | None) -> Any:
    """Amount fields rewritten in the currency's decimals, at any depth."""
    if isinstance(value, Mapping):
        inner = value.get("currency") if isinstance(value.get("currency"), str) else currency
        return {k: _amount_text(v, inner) if k in AMOUNT_FIELDS else _normalise(v, inner)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, currency) for v in value]
    return value


def _currency_of(entry: AuditLog) -> str | None:
    for source in (entry.detail, entry.bill_version):
        if isinstance(source, Mapping) and isinstance(source.get("currency"), str):
            return str(source["currency"])
    return None


def entry_dict(entry: AuditLog) -> dict[str, Any]:
    currency = _currency_of(entry)
    return {"id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor,
            "action": entry.action, "company_id": entry.company_id,
            "connection_id": entry.connection_id, "bill_id": entry.bill_id,
            "bill_version": _normalise(entry.bill_version, currency),
            "request_id": entry.request_id,
            "detail": _normalise(entry.detail or {}, currency)}


def _flatten(prefix: str, value: Any, into: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}", inner, into)
    elif isinstance(value, list):
        into[prefix] = " ".join("" if v is None else str(v) for v in value)
    elif value is not None:
        into[prefix] = str(value).lower() if isinstance(value, bool) else str(value)


def csv_row(entry: AuditLog) -> dict[str, str]:
    data = entry_dict(entry)
    row = {name: "" if data[name] is None else str(data[name]) for name in COLUMNS}
    _flatten("version", data["bill_version"] or {}, row)
    _flatten("detail", data["detail"], row)
    return row


def write_audit(entries: Iterable[AuditLog], *, fmt: str, out: TextIO) -> int:
    if fmt == "csv":
        # The columns are the union of the entries' fields, so they are known only at the end.
        rows = [csv_row(entry) for entry in entries]
        extra = sorted({key for row in rows for key in row} - set(COLUMNS))
        writer = csv.DictWriter(out, fieldnames=[*COLUMNS, *extra], restval="")
        writer.writeheader()
        writer.writerows(rows)
        return len(rows)
    count = 0
    for entry in entries:
        out.write(json.dumps(entry_dict(entry), default=str) + "\n")
        count += 1
    return count


def open_existing(url: str, *, url_was_set: bool) -> Engine:
    """An engine on billbot's existing database, or ExportError (nothing is created)."""
    try:
        parsed = parse_database_url(url)
    except DatabaseUrlError as exc:
        raise ExportError(str(exc)) from None
    where = "DATABASE_URL" if url_was_set else f"DATABASE_URL is not set, and the default {url}"
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:" or not Path(path).is_file():
            raise ExportError(f"no billbot database to read: {where} names no existing file. "
                              f"Set DATABASE_URL to the database `billbot run` uses.")
        _check_sqlite_read_only(Path(path), where)
    engine = make_engine(parsed)
    try:
        with engine.connect() as conn:
            has_audit = inspect(conn).has_table(AuditLog.__tablename__)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
        raise ExportError(f"cannot open the database ({where}): {reason}") from None
    if not has_audit:
        engine.dispose()
        raise ExportError(f"the database ({where}) has no billbot audit log; "
                          f"is it the database `billbot run` uses?")
    return engine


def _check_sqlite_read_only(path: Path, where: str) -> None:
    """Looked at read-only first: billbot's engine would switch a stranger's file to WAL."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro",
                                                uri=True)) as conn:
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                 (AuditLog.__tablename__,)).fetchone()
    except sqlite3.Error as exc:
        raise ExportError(f"cannot open the database ({where}): {exc}") from None
    if found is None:
        raise ExportError(f"the database ({where}) has no billbot audit log; "
                          f"is it the database `billbot run` uses?")


def export_audit(*, fmt: str, since: str | None, out: TextIO, err: TextIO = sys.stderr) -> int:
    try:
        settings = load_settings("cli")
    except ConfigError as exc:
        err.write(f"{exc}\n")
        return 2
    start: datetime | None = None
    if since:
        try:
            start = datetime.combine(date.fromisoformat(since), datetime.min.time(), tzinfo=UTC)
        except ValueError:
            err.write(f"--since must be a date YYYY-MM-DD; got {since!r}\n")
            return 2
    url_was_set = "database_url" in settings.model_fields_set
    try:
        engine = open_existing(settings.database_url, url_was_set=url_was_set)
    except ExportError as exc:
        err.write(f"billbot audit export: {exc}\n")
        return 1
    try:
        with session_scope(engine, read_only=True) as session:
            write_audit(iter_audit(session, since=start), fmt=fmt, out=out)
    except SQLAlchemyError as exc:
        err.write(f"billbot audit export: reading the audit log failed: {exc.__class__.__name__}\n")
        return 1
    finally:
        engine.dispose()
    return 0
