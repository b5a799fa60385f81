"""Bills parsed from the open-bills cache's stored texts, kept per company for the companies
read most recently, up to a number of bills in all.

Parsing is most of a 5,000-bill read, and between refreshes that change something the texts
are the same, so a company read again reuses its parsed bills. A parsed bill costs about
2 KB (it was 8 KB before its repeated parts were shared, `codat/models.py`), so keeping every
bound company's (1,000 channels of 200 bills: 200,000 bills) would grow a replica by about
400 MB for nothing: a company's digest reads it once a day. The bound keeps
the ledger being worked on (a big one's `/bills due`, its rows' clicks) and lets the rest go.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator

from billbot.codat.models import Bill

Key = tuple[str, str]


def text_digest(text: str) -> bytes:
    """What a kept bill is known by: its text's digest. Keeping the texts themselves (about
    830 bytes a bill) would hold a second copy of what the database already holds."""
    return hashlib.blake2b(text.encode(), digest_size=16).digest()

# One 5,000-bill ledger and some room: about 12 MB at the most.
PARSED_BILLS_KEPT = 6_000


class ParsedBills:
    """Thread-safe (bills are parsed on worker threads); bills are immutable, so shared."""

    def __init__(self, limit: int = PARSED_BILLS_KEPT) -> None:
        self.limit = limit
        self._kept: OrderedDict[Key, dict[bytes, Bill]] = OrderedDict()
        self._count = 0
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return self._count

    def holds(self, key: Key) -> bool:
        """Whether the company's bills are kept (a background read brings them up to date)."""
        with self._lock:
            return key in self._kept

    def parse(self, key: Key, texts: Iterable[str], *, keep: bool = True) -> list[Bill]:
        """These texts' bills, parsed only where not kept; only these texts stay kept.
        `keep=False` (background work: a digest, the night's read) adds no company to the
        kept ones, so a day of digests does not fill the bound; a company already kept (being
        worked on) is brought up to date all the same."""
        with self._lock:
            known = self._kept.get(key)
        current = {}
        for text in texts:
            digest = text_digest(text)
            current[digest] = (known or {}).get(digest) or Bill.model_validate_json(text)
        if keep or known is not None:
            self._keep(key, current)
        return list(current.values())

    def each(self, key: Key, texts: Iterable[str], *, keep: bool = True) -> Iterator[Bill]:
        """As `parse`, one bill at a time: a company neither kept nor to be kept has each
        bill made, handed on and let go, so a reader that folds (a digest) never holds them
        all."""
        if keep or self.holds(key):
            yield from self.parse(key, texts, keep=keep)
            return
        for text in texts:
            yield Bill.model_validate_json(text)

    def seed(self, key: Key, read: Iterable[tuple[bytes, Bill]], *, replace: bool,
             keep: bool = True) -> None:
        """Bills just read from Codat, by their stored text's `text_digest`: read back, they
        need no parse. A full read `replace`s the company's set; an incremental one adds.
        `keep=False`: only a company already kept is seeded (see `parse`)."""
        with self._lock:
            old = self._kept.get(key)
        if old is None and not keep:
            return
        old = old or {}
        # An unchanged bill keeps the object already handed out (one per text, as parse does).
        kept = {} if replace else dict(old)
        for digest, bill in read:
            kept[digest] = old.get(digest) or bill
        self._keep(key, kept)

    def _keep(self, key: Key, bills: dict[bytes, Bill]) -> None:
        with self._lock:
            old = self._kept.pop(key, None)
            self._count -= len(old) if old is not None else 0
            self._kept[key] = bills
            self._count += len(bills)
            # The least recently read go first; a ledger larger than the bound on its own
            # is not kept at all.
            while self._count > self.limit and self._kept:
                _, dropped = self._kept.popitem(last=False)
                self._count -= len(dropped)


__all__ = ["PARSED_BILLS_KEPT", "ParsedBills", "text_digest"]
