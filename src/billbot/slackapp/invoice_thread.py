"""The bill's thread in a channel (contract: "the bill's thread"): the channel message that
carries its row, or for a row in a digest, the digest's main message. Found from the index of
every copy (storage/bill_copies.py): the clicked message first, else the newest copy of the
bill in that channel. None: no message in the channel shows the bill (a file then goes into
the channel itself, its comment naming the bill)."""

from __future__ import annotations

from billbot.runtime import Billbot
from billbot.services.bindings import Binding
from billbot.slackapp.bill_thread import find_thread


async def bill_thread_ts(bot: Billbot, binding: Binding, *, bill_id: str, channel_id: str,
                         message_ts: str | None) -> str | None:
    found = await find_thread(bot, binding, bill_id, channel_id=channel_id,
                              message_ts=message_ts)  # the one lookup (bill_thread.py)
    return found.thread_ts if found is not None else None
