"""Untrusted text (supplier names, references, reasons) in Slack mrkdwn: clipped on its own,
never able to change formatting or mention anyone, and never cut inside an escape.

Slack asks for `&`, `<` and `>` to be escaped (which also defuses `<!here>` and `<@U…>`);
`*`, `_`, `~` and backticks have no escape, so a zero-width joiner is put on both sides of
each: a marker glued to a neighbouring character can neither open nor close formatting.
"""

from __future__ import annotations

import re

ZWJ = "\u200d"
_FORMATTING = re.compile(r"([*_~`])")
_ESCAPE_TAIL = re.compile(r"&[a-z]{0,4}$")


def escape(text: str) -> str:
    """Slack mrkdwn control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut (on raw text, before escaping)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def user_text(text: str, limit: int) -> str:
    """Untrusted text for mrkdwn: clipped to `limit` characters first, then made inert."""
    return _FORMATTING.sub(rf"{ZWJ}\1{ZWJ}", escape(clip(" ".join(text.split()), limit)))


def clip_mrkdwn(text: str, limit: int) -> str:
    """Already-escaped mrkdwn clipped to `limit` characters without splitting `&amp;`-style
    escapes (a cut inside one drops the whole escape)."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    head = _ESCAPE_TAIL.sub("", head)
    return head + "…"


__all__ = ["ZWJ", "clip", "clip_mrkdwn", "escape", "user_text"]
