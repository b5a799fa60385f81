"""What a serving replica leaves unloaded (each costs resident memory for nothing): the
stand-ins, the demo and the audit export (other commands), Alembic (only to migrate), pypdf
(only to read an invoice), cryptography (only to seal OAuth mode's workspace tokens), and
procrastinate and psycopg (PostgreSQL only)."""

from __future__ import annotations

import subprocess
import sys

NOT_LOADED = ("alembic", "cryptography", "procrastinate", "psycopg", "pypdf", "billbot.sandbox",
              "billbot.demo", "billbot.audit_export")


def test_the_server_module_loads_none_of_what_only_some_replicas_or_commands_use() -> None:
    probe = ("import sys, billbot.server, billbot.jobs.drivers; "
             f"print(sorted(m for m in sys.modules if m.split('.')[0] in {NOT_LOADED!r} "
             f"or m.startswith({NOT_LOADED!r})))")
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                         text=True, timeout=120).stdout
    assert out.strip() == "[]"
