"""Which Codat company connection a Slack channel works on.

A binding belongs to the Slack workspace it was made in (billbot.tenancy): a request of one
workspace never finds another's bindings, and a Codat company bound (or known) in one
workspace cannot be bound in another."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from billbot import tenancy
from billbot.codat.backend import API_ASYNC, API_SYNC
from billbot.storage.audit import record_audit
from billbot.storage.connect_tables import KnownCompany
from billbot.storage.tables import ChannelBinding
from billbot.storage.upsert import insert_if_absent

# The Codat Bill Pay APIs a binding may use (CODAT_API): sync is the default.
CODAT_APIS = (API_SYNC, API_ASYNC)

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
    # The Codat Bill Pay API the company is used through (CODAT_API's values).
    codat_api: str = API_SYNC
    team_id: str = tenancy.SINGLE_WORKSPACE
    enterprise_id: str | None = None
    paused: bool = False  # its workspace uninstalled billbot: no digests, no reminders

    @property
    def workspace(self) -> tenancy.Workspace:
        return tenancy.Workspace(self.team_id, self.enterprise_id)


class CompanyTaken(Exception):
    """The Codat company belongs to another Slack workspace."""


COMPANY_TAKEN = ("That Codat company is connected in another Slack workspace, so it cannot be "
                 "connected here.")


def _view(row: ChannelBinding) -> Binding:
    return Binding(row.channel_id, row.company_id, row.connection_id, row.bound_by, row.bound_at,
                   row.codat_api, row.team_id, row.enterprise_id, row.paused_at is not None)


def api_of(session: Session, *, company_id: str, connection_id: str) -> str:
    """The API a company connection is used through: its newest binding's (sync unbound)."""
    row = session.exec(
        select(ChannelBinding)
        .where(ChannelBinding.company_id == company_id,
               ChannelBinding.connection_id == connection_id)
        .order_by(col(ChannelBinding.bound_at).desc())
    ).first()
    return row.codat_api if row is not None else API_SYNC


def _visible(row: ChannelBinding | None) -> bool:
    """Outside a request's workspace (single-workspace mode, background work) every row is
    visible; inside one, only its own."""
    scope = tenancy.request_scope()
    return row is not None and (scope is None or row.team_id == scope.team_id)


def get_binding(session: Session, *, channel_id: str) -> Binding | None:
    row = session.get(ChannelBinding, channel_id)
    return _view(row) if row is not None and _visible(row) else None


def list_bindings(session: Session) -> list[Binding]:
    query = select(ChannelBinding).order_by(col(ChannelBinding.channel_id))
    scope = tenancy.request_scope()
    if scope is not None:
        query = query.where(ChannelBinding.team_id == scope.team_id)
    return [_view(row) for row in session.exec(query).all()]


def company_elsewhere(session: Session, company_id: str) -> bool:
    """True when another workspace bound or created this company."""
    team = tenancy.team_key()
    bound = session.exec(select(ChannelBinding.channel_id).where(
        ChannelBinding.company_id == company_id, ChannelBinding.team_id != team)).first()
    known = session.exec(select(KnownCompany.company_id).where(
        KnownCompany.company_id == company_id, KnownCompany.team_id != team)).first()
    return bound is not None or known is not None


def pause_workspace(session: Session, *, team_id: str, enterprise_id: str | None,
                    paused: bool, actor: str, at: datetime) -> list[str]:
    """Pause (the app was uninstalled) or resume (installed again) a workspace's bindings;
    audited per channel. Returns the channels changed."""
    rows = session.exec(select(ChannelBinding).where(ChannelBinding.team_id == team_id)).all()
    changed = []
    for row in rows:
        # Conditional, so two deliveries of the same event (Slack retries, two replicas)
        # change and audit each channel once: the second finds nothing to change.
        state = (col(ChannelBinding.paused_at).is_(None) if paused
                 else col(ChannelBinding.paused_at).is_not(None))
        result = session.exec(update(ChannelBinding).where(
            col(ChannelBinding.channel_id) == row.channel_id, state)
            .values(paused_at=at if paused else None))
        if result.rowcount != 1:
            continue
        changed.append(row)
        with tenancy.acting_for(tenancy.Workspace(team_id, enterprise_id)):
            record_audit(session, at=at, actor=actor,
                         action="binding.paused" if paused else "binding.resumed",
                         company_id=row.company_id, connection_id=row.connection_id,
                         request_id=None, detail={"channel_id": row.channel_id})
    return [r.channel_id for r in changed]


def bind(
    session: Session,
    *,
    channel_id: str,
    company_id: str,
    connection_id: str,
    actor: str,
    request_id: str | None,
    at: datetime,
    codat_api: str = API_SYNC,
) -> Binding:
    """Bind (or rebind) a channel; the caller has checked the actor is an admin. Audited.
    Raises CompanyTaken when the company, or the channel, belongs to another workspace."""
    if codat_api not in CODAT_APIS:
        raise ValueError(f"codat_api must be one of {CODAT_APIS}, not {codat_api!r}")
    row = session.get(ChannelBinding, channel_id)
    if company_elsewhere(session, company_id) or (row is not None and not _visible(row)):
        raise CompanyTaken(company_id)
    before = None if row is None else {"company_id": row.company_id,
                                       "connection_id": row.connection_id,
                                       "codat_api": row.codat_api}
    if row is None:
        fresh = ChannelBinding(channel_id=channel_id, company_id=company_id,
                               connection_id=connection_id, bound_by=actor, bound_at=at,
                               codat_api=codat_api)
        # Two replicas starting together (or two admins) may both find no row: one inserts.
        if insert_if_absent(session, ChannelBinding, fresh.model_dump()):
            record_audit(session, at=at, actor=actor, action="binding.set",
                         company_id=company_id, connection_id=connection_id,
                         request_id=request_id,
                         detail={"channel_id": channel_id, "before": None, "codat_api": codat_api})
            return _view(fresh)
        row = session.get(ChannelBinding, channel_id, populate_existing=True)
        if row is None or not _visible(row):
            raise CompanyTaken(company_id)
        if (row.company_id, row.connection_id, row.codat_api, row.bound_by) == (
                company_id, connection_id, codat_api, actor):
            return _view(row)  # the other one bound it just so: nothing more to record
        before = {"company_id": row.company_id, "connection_id": row.connection_id,
                  "codat_api": row.codat_api}
    row.company_id, row.connection_id = company_id, connection_id
    row.bound_by, row.bound_at, row.codat_api = actor, at, codat_api
    session.add(row)
    record_audit(session, at=at, actor=actor, action="binding.set", company_id=company_id,
                 connection_id=connection_id, request_id=request_id,
                 detail={"channel_id": channel_id, "before": before, "codat_api": codat_api})
    session.flush()
    return _view(row)


def ensure_default_binding(
    session: Session, *, channel_id: str, company_id: str, connection_id: str, at: datetime,
    codat_api: str = API_SYNC,
) -> Binding:
    """At start: bind the configured channel unless an admin has bound it by hand since.

    A binding made from configuration follows the configuration; one made by an admin
    (`/bills connect`) wins over it, with a warning in the log.
    """
    current = get_binding(session, channel_id=channel_id)
    if current is not None:
        same = ((current.company_id, current.connection_id, current.codat_api)
                == (company_id, connection_id, codat_api))
        if same:
            return current
        if current.bound_by != CONFIG_ACTOR:
            logger.warning("channel %s was bound by an admin; configuration not applied",
                           channel_id)
            return current
    return bind(session, channel_id=channel_id, company_id=company_id,
                connection_id=connection_id, actor=CONFIG_ACTOR, request_id=None, at=at,
                codat_api=codat_api)


__all__ = ["API_ASYNC", "API_SYNC", "CODAT_APIS", "COMPANY_TAKEN", "CONFIG_ACTOR", "NOT_BOUND",
           "NOT_BOUND_COMMAND", "Binding", "CompanyTaken", "api_of", "bind", "company_elsewhere",
           "ensure_default_binding", "get_binding", "list_bindings", "pause_workspace"]
