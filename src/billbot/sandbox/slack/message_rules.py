"""What Slack refuses or flags in a message a bot posts or updates: content over Block Kit
limits, a channel the bot may not post in (archived, or not a member), and block_ids an
update reuses."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from billbot.sandbox.slack import block_ids, blockkit
from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.model import Channel, JsonDict

RecordViolations = Callable[[str, list[blockkit.Problem]], None]


def checked_message(method: str, text: Any, blocks: Any, record: RecordViolations,
                    make_id: Callable[[], str]) -> tuple[str, list[JsonDict] | None]:
    """Refuse content Slack refuses (recording each limit breach); return it normalised."""
    if text is not None and not isinstance(text, str):
        raise SlackApiRefusal("invalid_arguments", ["text must be a string"])
    if isinstance(blocks, str):
        raise SlackApiRefusal("invalid_blocks_format", ["blocks must be a JSON array"])
    if not text and not blocks:
        raise SlackApiRefusal("no_text")
    problems = blockkit.check_message_blocks(blocks)
    if problems:
        record(method, problems)
        raise SlackApiRefusal("invalid_blocks", [p.slack_message() for p in problems])
    too_long = blockkit.message_text_problem(text)
    if too_long:
        record(method, [too_long])
        raise SlackApiRefusal("msg_too_long", [too_long.slack_message()])
    normalised = None if blocks is None else block_ids.with_generated_ids(blocks, make_id)
    return text or "", normalised


def require_postable(channel: Channel, scopes: Iterable[str]) -> None:
    """Slack: `is_archived` in an archived channel; `not_in_channel` where the bot is not a
    member, unless the app has `chat:write.public`."""
    if channel.is_archived:
        raise SlackApiRefusal("is_archived")
    if not channel.is_im and not channel.bot_member and "chat:write.public" not in scopes:
        raise SlackApiRefusal("not_in_channel")


def reused_block_id_problems(earlier: Iterable[str], blocks: Any) -> list[blockkit.Problem]:
    return [blockkit.Problem("/blocks", f"block_id {i!r} reused by an update; Slack: "
                             "\"If a message is updated, use a new block_id\"")
            for i in block_ids.reused_block_ids(blocks, earlier)]
