"""The digest's summary block (count and total due per currency), rendered when the digest
is posted and again whenever one of its bills changes."""

from __future__ import annotations

from typing import Any

from billbot.domain.digest import DigestSummary
from billbot.money import format_money
from billbot.slack_web.block_revisions import base_block_id

SUMMARY_BLOCK_ID = "digest-summary"
# A header with more currencies names the first few and counts the rest.
CURRENCIES_SHOWN = 6


def totals_text(summary: DigestSummary) -> str:
    """`*GBP 1,000.00* · *USD 20.00*`, whole amounts only, "and N more currencies" after."""
    parts = [f"*{format_money(amount, cur)}*"
             for cur, amount in list(summary.totals.items())[:CURRENCIES_SHOWN]]
    text = " · ".join(parts) if parts else "nothing with a known amount"
    more = len(summary.totals) - CURRENCIES_SHOWN
    if more > 0:
        text += f" and {more} more currenc{'ies' if more != 1 else 'y'}"
    if summary.unknown_amounts:
        text += f" (+{summary.unknown_amounts} with amount due unknown)"
    return text


def summary_text(summary: DigestSummary, *, within_days: int) -> str:
    plural = "s" if summary.count != 1 else ""
    overdue = f", *{summary.overdue} overdue*" if summary.overdue else ""
    return (f"*{summary.count} bill{plural}* overdue or due within {within_days} days"
            f"{overdue}.\n*Total due:* {totals_text(summary)}")


def summary_block(summary: DigestSummary, *, within_days: int) -> dict[str, Any]:
    return {"type": "section", "block_id": SUMMARY_BLOCK_ID,
            "text": {"type": "mrkdwn", "text": summary_text(summary, within_days=within_days)}}


def replace_summary(blocks: list[dict[str, Any]], summary: DigestSummary, *,
                    within_days: int) -> list[dict[str, Any]] | None:
    """The blocks with the summary re-rendered, or None when the message has no summary."""
    for i, block in enumerate(blocks):
        if base_block_id(block.get("block_id")) == SUMMARY_BLOCK_ID:
            return [*blocks[:i], summary_block(summary, within_days=within_days), *blocks[i + 1:]]
    return None


__all__ = ["CURRENCIES_SHOWN", "replace_summary", "summary_block", "summary_text",
           "totals_text"]
