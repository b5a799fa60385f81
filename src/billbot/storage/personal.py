"""What billbot showed each person: DM cards (claimed once before they are posted) and the
App Home viewers with the bills their view shows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from .personal_tables import DmCard, HomeViewer
from .upsert import insert_if_absent

# A click in App Home has no message: its stand-in ts, everywhere a message ts is expected.
HOME_TS = "home"


def bill_key(company_id: str, connection_id: str, bill_id: str) -> str:
    """One bill of one company, as a fixed-length key (bill ids are free strings)."""
    return hashlib.sha256(f"{company_id}\x00{connection_id}\x00{bill_id}".encode()).hexdigest()


@dataclass(frozen=True)
class CardKey:
    user_id: str
    company_id: str
    connection_id: str
    bill_id: str
    kind: str  # "approve" or "pay": what the bill waits on this person for

    def where(self) -> Any:
        return (col(DmCard.user_id) == self.user_id, col(DmCard.company_id) == self.company_id,
                col(DmCard.connection_id) == self.connection_id,
                col(DmCard.bill_key) == bill_key(self.company_id, self.connection_id,
                                                 self.bill_id),
                col(DmCard.kind) == self.kind)


def claim_card(session: Session, key: CardKey, *, binding_channel: str, at: datetime) -> bool:
    """True for the one caller who should post this card (first across replicas and retries)."""
    return insert_if_absent(session, DmCard, {
        "user_id": key.user_id, "company_id": key.company_id,
        "connection_id": key.connection_id,
        "bill_key": bill_key(key.company_id, key.connection_id, key.bill_id),
        "kind": key.kind, "bill_id": key.bill_id, "binding_channel": binding_channel,
        "state": "sending", "claimed_at": at})


def card_posted(session: Session, key: CardKey, *, channel_id: str, ts: str) -> None:
    session.exec(update(DmCard).where(*key.where()).values(state="sent", channel_id=channel_id,
                                                           ts=ts))


def release_card(session: Session, key: CardKey) -> None:
    """The post failed before Slack took it: a later occasion may send the card."""
    session.exec(delete(DmCard).where(*key.where(), col(DmCard.state) == "sending"))


def card_binding_channel(session: Session, *, channel_id: str, ts: str) -> str | None:
    """The channel bound to the company of the bill a DM card shows (None: not a card)."""
    row = session.exec(select(DmCard).where(col(DmCard.channel_id) == channel_id,
                                            col(DmCard.ts) == ts)).first()
    return row.binding_channel if row is not None else None


def opened_home(session: Session, *, user_id: str, at: datetime) -> None:
    row = session.get(HomeViewer, user_id)
    if row is None:
        row = HomeViewer(user_id=user_id, opened_at=at, bill_keys=[], pages={})
    row.opened_at = at
    session.add(row)
    session.flush()


def home_pages(session: Session, *, user_id: str) -> dict[str, int]:
    row = session.get(HomeViewer, user_id)
    pages = row.pages if row is not None else {}
    return {k: v for k, v in pages.items() if isinstance(v, int)}


def set_home_page(session: Session, *, user_id: str, section: str, page: int,
                  at: datetime) -> None:
    row = session.get(HomeViewer, user_id)
    if row is None:
        row = HomeViewer(user_id=user_id, opened_at=at, bill_keys=[], pages={})
    row.pages = {**(row.pages or {}), section: page}
    session.add(row)
    session.flush()


def home_published(session: Session, *, user_id: str, keys: Iterable[str], at: datetime,
                   tokens: Mapping[str, str] | None = None) -> None:
    """The person's view now shows these bills (`tokens`: key -> the figures shown)."""
    row = session.get(HomeViewer, user_id)
    if row is None:
        row = HomeViewer(user_id=user_id, opened_at=at, bill_keys=[], pages={})
    row.bill_keys = sorted(set(keys))
    row.shown = dict(tokens or {})
    row.published_at = at
    session.add(row)
    session.flush()


def home_token(session: Session, *, user_id: str, key: str) -> str | None:
    """The figures of the bill (see bill_key) as the person's Home view last showed them."""
    row = session.get(HomeViewer, user_id)
    token = (row.shown or {}).get(key) if row is not None else None
    return token if isinstance(token, str) else None


def home_viewers(session: Session) -> list[HomeViewer]:
    return list(session.exec(select(HomeViewer)).all())


def viewers_showing(session: Session, key: str) -> list[str]:
    """The people whose published Home view shows this bill (see bill_key)."""
    return [v.user_id for v in home_viewers(session) if key in (v.bill_keys or [])]


__all__ = [
    "HOME_TS",
    "CardKey",
    "bill_key",
    "card_binding_channel",
    "card_posted",
    "claim_card",
    "home_pages",
    "home_published",
    "home_token",
    "home_viewers",
    "opened_home",
    "release_card",
    "set_home_page",
    "viewers_showing",
]
