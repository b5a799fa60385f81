"""Structured logs (one JSON object a line) with request, user and bill ids, secrets scrubbed.

Ids are bound per request in context variables, so every line logged while handling a
click carries them without threading them through every call. Every secret billbot knows
(tokens, signing secret, Codat key) is replaced in the final line, whatever logged it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("billbot_log_context",
                                                                          default={})  # noqa: B039

REDACTED = "[redacted]"


@contextmanager
def bound(**ids: str | None) -> Iterator[None]:
    """Bind ids (request_id, user_id, bill_id, channel_id...) to every log line inside."""
    merged = {**_context.get(), **{k: v for k, v in ids.items() if v}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def bind(**ids: str | None) -> None:
    """Bind ids for the rest of the current task (handlers run one task per request)."""
    _context.set({**_context.get(), **{k: v for k, v in ids.items() if v}})


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Each secret also as json.dumps escapes it (quotes, backslashes, non-ASCII), since
        # the scrub runs on the encoded line. Longest first, so a secret that contains
        # another is replaced whole.
        forms = set()
        for secret in secrets:
            if len(secret) >= 4:
                forms.update({secret, json.dumps(secret)[1:-1]})
        self._secrets = sorted(forms, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **_context.get(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self.scrub(json.dumps(entry, default=str))


def configure_logging(secrets: Iterable[str], *, level: int = logging.INFO,
                      stream: Any = None) -> logging.Handler:
    """Route all logging (billbot, Bolt, slack_sdk, httpx, uvicorn) through one scrubbing handler.

    Below DEBUG the chatty libraries log warnings only; at DEBUG everything is logged.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING if level > logging.DEBUG
                                          else logging.NOTSET)
    return handler


def event(logger: logging.Logger, msg: str, **fields: Any) -> None:
    """Log an info line with structured fields."""
    logger.info(msg, extra={"fields": fields})
