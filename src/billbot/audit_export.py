"""`billbot audit export --format csv|jsonl [--since DATE]`: the audit trail to standard output."""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, date, datetime
from typing import Any, TextIO

from billbot.config import ConfigError, load_settings
from billbot.storage.audit import iter_audit
from billbot.storage.db import make_engine, session_scope
from billbot.storage.tables import AuditLog

COLUMNS = ("id", "at", "actor", "action", "company_id", "connection_id", "bill_id",
           "bill_version", "request_id", "detail")


def entry_dict(entry: AuditLog) -> dict[str, Any]:
    return {"id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor,
            "action": entry.action, "company_id": entry.company_id,
            "connection_id": entry.connection_id, "bill_id": entry.bill_id,
            "bill_version": entry.bill_version, "request_id": entry.request_id,
            "detail": entry.detail}


def write_audit(entries: Any, *, fmt: str, out: TextIO) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for entry in entries:
            row = entry_dict(entry)
            row["bill_version"] = json.dumps(row["bill_version"], default=str)
            row["detail"] = json.dumps(row["detail"], default=str)
            writer.writerow(row)
            count += 1
    else:
        for entry in entries:
            out.write(json.dumps(entry_dict(entry), default=str) + "\n")
            count += 1
    return count


def export_audit(*, fmt: str, since: str | None, out: TextIO) -> int:
    try:
        settings = load_settings("cli")
    except ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    start: datetime | None = None
    if since:
        try:
            start = datetime.combine(date.fromisoformat(since), datetime.min.time(), tzinfo=UTC)
        except ValueError:
            sys.stderr.write(f"--since must be a date YYYY-MM-DD; got {since!r}\n")
            return 2
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine, read_only=True) as session:
            write_audit(iter_audit(session, since=start), fmt=fmt, out=out)
    finally:
        engine.dispose()
    return 0
