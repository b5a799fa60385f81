"""The bill's thread in a channel (contract: "the bill's thread"): the channel message that
carries its row, or for a row in a digest, the digest's main message. Found from the index of
every copy (storage/bill_copies.py): the clicked message first, else the newest copy of the
bill in that channel. None: no message in the channel shows the bill (a file then goes into
the channel itself, its comment naming the bill)."""

from __future__ import annotations

from billbot.runtime import Billbot
from billbot.services.bindings import Binding
from billbot.storage import bill_copies


async def bill_thread_ts(bot: Billbot, binding: Binding, *, bill_id: str, channel_id: str,
                         message_ts: str | None) -> str | None:
    places = await bot.db(lambda s: bill_copies.places_of(
        s, company_id=binding.company_id, connection_id=binding.connection_id,
        bill_id=bill_id), read_only=True)
    here = [p for p in places if p.channel_id == channel_id]
    clicked = next((p for p in here if p.ts == message_ts), None)
    place = clicked or (here[-1] if here else None)
    if place is None:
        return None
    return place.digest_ts or place.ts
