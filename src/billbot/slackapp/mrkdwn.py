"""Untrusted text (supplier names, references, reasons) in Slack mrkdwn: clipped on its own,
never able to change formatting or mention anyone, and never cut inside an escape.

Slack asks for `&`, `<` and `>` to be escaped (which also defuses `<!here>` and `<@U…>`);
`*`, `_` and `~` have no escape, so a zero-width no-break space (U+FEFF, which parsers count
as white space) is put on both sides of each: a marker followed by white space cannot open
formatting and one preceded by it cannot close it. It is invisible. A code span takes any
text between two backticks, so a backtick is shown as its look-alike `ˋ` (U+02CB) instead.
"""

from __future__ import annotations

import re

ZERO_WIDTH = "\ufeff"
_FORMATTING = re.compile(r"([*_~])")
BACKTICK_LOOKALIKE = "\u02cb"
_ESCAPE_TAIL = re.compile(r"&[a-z]{0,4}$")


def escape(text: str) -> str:
    """Slack mrkdwn control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut (on raw text, before escaping)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def user_text(text: str, limit: int) -> str:
    """Untrusted text for mrkdwn: clipped to `limit` characters first, then made inert."""
    safe = escape(clip(" ".join(text.split()), limit)).replace("`", BACKTICK_LOOKALIKE)
    # Not at the ends: the text is often wrapped in billbot's own `*…*`, which must still close.
    return _FORMATTING.sub(rf"{ZERO_WIDTH}\1{ZERO_WIDTH}", safe).strip(ZERO_WIDTH)


def clip_mrkdwn(text: str, limit: int) -> str:
    """Already-escaped mrkdwn clipped to `limit` characters without splitting `&amp;`-style
    escapes (a cut inside one drops the whole escape)."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    head = _ESCAPE_TAIL.sub("", head)
    return head + "…"


__all__ = ["BACKTICK_LOOKALIKE", "ZERO_WIDTH", "clip", "clip_mrkdwn", "escape", "user_text"]
