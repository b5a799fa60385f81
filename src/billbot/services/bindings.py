"""Which Codat company connection a Slack channel works on."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from billbot.storage.audit import record_audit
from billbot.storage.tables import ChannelBinding

logger = logging.getLogger("billbot.bindings")

# The actor of bindings made from configuration (CODAT_COMPANY_ID, BILLBOT_CHANNEL ...).
CONFIG_ACTOR = "config"

# What a user is told in a channel bound to no company: on a button or form, on a command.
NOT_BOUND = "This channel is not connected to a Codat company; its buttons do nothing."
NOT_BOUND_COMMAND = ("This channel is not connected to a Codat company, so there are no bills here. "
                     "An admin can connect it with `/bills connect <companyId> <connectionId>`.")


@dataclass(frozen=True)
class Binding:
    channel_id: str
    company_id: str
    connection_id: str
    bound_by: str
    bound_at: datetime


def _view(row: ChannelBinding) -> Binding:
    return Binding(row.channel_id, row.company_id, row.connection_id, row.bound_by, row.bound_at)


def get_binding(session: Session, *, channel_id: str) -> Binding | None:
    row = session.get(ChannelBinding, channel_id)
    return _view(row) if row else None


def list_bindings(session: Session) -> list[Binding]:
    rows = session.exec(select(ChannelBinding).order_by(col(ChannelBinding.channel_id))).all()
    return [_view(row) for row in rows]


def bind(
    session: Session,
    *,
    channel_id: str,
    company_id: str,
    connection_id: str,
    actor: str,
    request_id: str | None,
    at: datetime,
) -> Binding:
    """Bind (or rebind) a channel; the caller has checked the actor is an admin. Audited."""
    row = session.get(ChannelBinding, channel_id)
    before = None if row is None else {"company_id": row.company_id,
                                       "connection_id": row.connection_id}
    if row is None:
        row = ChannelBinding(channel_id=channel_id, company_id=company_id,
                             connection_id=connection_id, bound_by=actor, bound_at=at)
    else:
        row.company_id, row.connection_id = company_id, connection_id
        row.bound_by, row.bound_at = actor, at
    session.add(row)
    record_audit(session, at=at, actor=actor, action="binding.set", company_id=company_id,
                 connection_id=connection_id, request_id=request_id,
                 detail={"channel_id": channel_id, "before": before})
    session.flush()
    return _view(row)


def ensure_default_binding(
    session: Session, *, channel_id: str, company_id: str, connection_id: str, at: datetime
) -> Binding:
    """At start: bind the configured channel unless an admin has bound it by hand since.

    A binding made from configuration follows the configuration; one made by an admin
    (`/bills connect`) wins over it, with a warning in the log.
    """
    current = get_binding(session, channel_id=channel_id)
    if current is not None:
        same = (current.company_id, current.connection_id) == (company_id, connection_id)
        if same:
            return current
        if current.bound_by != CONFIG_ACTOR:
            logger.warning("channel %s was bound by an admin; configuration not applied",
                           channel_id)
            return current
    return bind(session, channel_id=channel_id, company_id=company_id,
                connection_id=connection_id, actor=CONFIG_ACTOR, request_id=None, at=at)


__all__ = ["CONFIG_ACTOR", "NOT_BOUND", "NOT_BOUND_COMMAND", "Binding", "bind",
           "ensure_default_binding", "get_binding", "list_bindings"]
