"""The running bot's collaborators: settings, database engine, Codat and Slack clients, clock,
the payment runner, and the plumbing around them (one transaction on a worker thread, today's
date, the channel bindings, the due bills).

Every layer above the services may take a `Billbot`; it imports nothing from the Slack layer.
Publishing digests and rows lives in billbot.slackapp (digests.py, rows.py); the money rules
live in billbot.services and billbot.domain.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

import httpx
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from billbot.ack_first import AckFirst
from billbot.clock import Clock, SystemClock, local_today
from billbot.codat.client import CodatClient
from billbot.codat.models import Bill
from billbot.config import Settings
from billbot.context_token import ContextSigner
from billbot.domain.digest import select_due_bills
from billbot.domain.policy import PolicySettings
from billbot.logs import event
from billbot.services import bindings as bindings_service
from billbot.services import connect_watch
from billbot.services.bindings import Binding
from billbot.services.payment_runner import PaymentRunner, RunnerSettings, payment_call_limits
from billbot.singleflight import Coalescer, SingleFlight
from billbot.slack_web.paced_client import build_slack_client
from billbot.storage import personal
from billbot.storage.db import make_engine, ping, session_scope, upgrade_database
from billbot.testhooks import no_crash, sigkill_at

logger = logging.getLogger("billbot.runtime")

T = TypeVar("T")

@dataclass
class Billbot:
    settings: Settings
    engine: Engine
    codat: CodatClient
    slack: AsyncWebClient
    clock: Clock
    signer: ContextSigner
    http: httpx.AsyncClient
    # One lock per Slack message keeps this process's re-renders of it in order (slackapp/rows.py).
    row_locks: dict[tuple[str, str], asyncio.Lock] = field(default_factory=dict)
    payments: PaymentRunner = field(init=False)
    # The Codat client for payment calls: its timeout and retry budget fit inside the lease.
    payment_codat: CodatClient = field(init=False)
    # Concurrent `/bills due` and digests for one company share one read of its bills.
    _bill_lists: SingleFlight[tuple[str, str], list[Bill]] = field(default_factory=SingleFlight)
    # Work after an acknowledgement waits (briefly) for the other requests' acknowledgements.
    ack_first: AckFirst = field(default_factory=AckFirst)
    # Each person's DM channel with the bot (conversations.open answers).
    dm_channels: dict[str, str] = field(default_factory=dict)
    # The workspace and app ids (auth.test, bots.info), for links into App Home.
    app_identity: dict[str, str] = field(default_factory=dict)
    # Background work, coalesced by key: Home views re-published, a digest's DM cards.
    later: Coalescer[str] = field(default_factory=Coalescer)

    def __post_init__(self) -> None:
        lease = timedelta(seconds=self.settings.billbot_payment_lease_seconds)
        crash_at = self.settings.billbot_crash_at
        if crash_at is not None:
            logger.warning("BILLBOT_CRASH_AT=%s: this process kills itself there (test hook)",
                           crash_at.value)
        self.payments = PaymentRunner(self.engine, self.clock, policy=self.policy,
                                      settings=RunnerSettings.with_lease(lease),
                                      crash=sigkill_at(crash_at) if crash_at else no_crash)
        timeout, retry = payment_call_limits(lease)
        self.payment_codat = self.codat.with_limits(timeout=timeout, retry=retry)

    # --- plumbing --------------------------------------------------------------------------

    @property
    def policy(self) -> PolicySettings:
        s = self.settings
        return PolicySettings(approvers=s.billbot_approvers, payers=s.billbot_payers,
                              admins=s.billbot_admins,
                              dual_approval_over=s.billbot_dual_approval_over,
                              payer_cannot_approve=s.billbot_payer_cannot_approve)

    def today(self) -> date:
        return local_today(self.clock, self.settings.billbot_timezone)

    async def db(self, work: Callable[[Session], T], *, read_only: bool = False) -> T:
        """Run `work` in one short transaction on a worker thread (the event loop never waits
        on a database lock)."""
        def run() -> T:
            with session_scope(self.engine, read_only=read_only) as session:
                return work(session)
        return await asyncio.to_thread(run)

    async def startup(self) -> None:
        await asyncio.to_thread(upgrade_database, self.engine)
        s = self.settings
        if s.billbot_channel and s.codat_company_id and s.codat_connection_id:
            channel, company, connection = s.billbot_channel, s.codat_company_id, s.codat_connection_id
            bound = await self.db(lambda session: bindings_service.ensure_default_binding(
                session, channel_id=channel, company_id=company, connection_id=connection,
                at=self.clock.now()))
            if (bound.company_id, bound.connection_id) == (company, connection):
                await self.db(lambda session: connect_watch.watch_configured(
                    session, channel_id=channel, company_id=company,
                    connection_id=connection, at=self.clock.now()))
        event(logger, "billbot ready", channel=s.billbot_channel)

    async def shutdown(self) -> None:
        await self.later.settle()
        await self.http.aclose()
        self.engine.dispose()

    async def database_ready(self) -> bool:
        return await asyncio.to_thread(ping, self.engine)

    async def binding_for(self, channel_id: str, *, message_ts: str | None = None
                          ) -> Binding | None:
        """The channel's binding; for a DM card (`message_ts` in a person's DM), the binding
        of the channel whose company the card's bill belongs to."""
        def read(session: Session) -> Binding | None:
            found = bindings_service.get_binding(session, channel_id=channel_id)
            if found is None and message_ts:
                bound = personal.card_binding_channel(session, channel_id=channel_id,
                                                      ts=message_ts)
                found = bindings_service.get_binding(session, channel_id=bound) if bound else None
            return found
        return await self.db(read, read_only=True)

    # --- the due bills ----------------------------------------------------------------------

    async def due_bills(self, binding: Binding, *, within_days: int) -> list[Bill]:
        """Open and part-paid bills overdue or due within the window, most urgent first."""
        # Codat returns only Open and PartiallyPaid bills when no query is given; the due-date
        # filter runs here so a query-language quirk can never hide a due bill.
        company, connection = binding.company_id, binding.connection_id
        bills = await self._bill_lists.run(
            (company, connection), lambda: self.codat.list_bills(company, connection))
        return select_due_bills(bills, today=self.today(), within_days=within_days)


def signing_key(settings: Settings) -> bytes:
    """The modal-context key: derived from the signing secret (stable across replicas)."""
    secret = settings.slack_signing_secret or settings.slack_app_token or settings.slack_bot_token
    material = secret.get_secret_value() if secret else "billbot-unsigned-dev-key"
    return hashlib.sha256(b"billbot modal context v1\x00" + material.encode()).digest()


def build_billbot(settings: Settings, *, clock: Clock | None = None,
                  http: httpx.AsyncClient | None = None) -> Billbot:
    engine = make_engine(settings.database_url)
    http = http or httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0),
                                     limits=httpx.Limits(max_connections=20))
    codat = CodatClient(http, api_key=settings.codat_api_key.get_secret_value()
                        if settings.codat_api_key else "", base_url=settings.codat_base_url)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    slack = build_slack_client(token, settings.slack_api_base)
    return Billbot(settings=settings, engine=engine, codat=codat, slack=slack,
                   clock=clock or SystemClock(), signer=ContextSigner(signing_key(settings)),
                   http=http)
