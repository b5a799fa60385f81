"""The running bot: its collaborators (settings, database, Codat, Slack, clock) and the
work that several entry points share: posting digests, re-rendering a bill's row, ticks.

Handlers (slackapp/handlers.py) stay thin and call into this; the money rules live in
billbot.services and billbot.domain.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any, TypeVar

import httpx
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from billbot.clock import Clock, SystemClock, local_today
from billbot.codat.client import CodatClient
from billbot.codat.models import Bill
from billbot.config import Settings
from billbot.domain.digest import select_due_bills, summarise
from billbot.domain.policy import PolicySettings
from billbot.domain.schedule import DigestSchedule
from billbot.logs import event
from billbot.services import bindings as bindings_service
from billbot.services.bindings import Binding
from billbot.services.crashpoints import no_crash, sigkill_at
from billbot.services.payment_runner import PaymentRunner, RunnerSettings, payment_call_limits
from billbot.singleflight import SingleFlight
from billbot.slackapp.ack_first import AckFirst
from billbot.slackapp.context_token import ContextSigner
from billbot.slackapp.invite_notice import InviteNotices, unpostable_error
from billbot.slackapp.paced_client import build_slack_client
from billbot.slackapp.rowstate import RowState
from billbot.slackapp.state_adapter import row_state_for, row_states_for
from billbot.slackapp.views import digest_messages, replace_bill_row
from billbot.storage import bookkeeping
from billbot.storage.db import make_engine, ping, session_scope, upgrade_database

logger = logging.getLogger("billbot.bot")

T = TypeVar("T")

# A digest claim left "posting" this long (a replica died mid-post) may be taken over.
STALE_DIGEST_CLAIM = timedelta(minutes=10)


@dataclass
class Billbot:
    settings: Settings
    engine: Engine
    codat: CodatClient
    slack: AsyncWebClient
    clock: Clock
    signer: ContextSigner
    http: httpx.AsyncClient
    _row_locks: dict[tuple[str, str], asyncio.Lock] = field(default_factory=dict)
    payments: PaymentRunner = field(init=False)
    # The Codat client for payment calls: its timeout and retry budget fit inside the lease.
    payment_codat: CodatClient = field(init=False)
    # Concurrent `/bills due` and digests for one company share one read of its bills.
    _bill_lists: SingleFlight[tuple[str, str], list[Bill]] = field(default_factory=SingleFlight)
    # Work after an acknowledgement waits (briefly) for the other requests' acknowledgements.
    ack_first: AckFirst = field(default_factory=AckFirst)
    # Channels that refused posts (bot not invited, archived) and whose admins were told.
    invite_notices: InviteNotices = field(default_factory=InviteNotices)

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
            await self.db(lambda session: bindings_service.ensure_default_binding(
                session, channel_id=channel, company_id=company, connection_id=connection,
                at=self.clock.now()))
        event(logger, "billbot ready", channel=s.billbot_channel)

    async def shutdown(self) -> None:
        await self.http.aclose()
        self.engine.dispose()

    async def database_ready(self) -> bool:
        return await asyncio.to_thread(ping, self.engine)

    async def binding_for(self, channel_id: str) -> Binding | None:
        return await self.db(lambda s: bindings_service.get_binding(s, channel_id=channel_id),
                             read_only=True)

    # --- the digest --------------------------------------------------------------------------

    async def due_bills(self, binding: Binding, *, within_days: int) -> list[Bill]:
        """Open and part-paid bills overdue or due within the window, most urgent first."""
        # Codat returns only Open and PartiallyPaid bills when no query is given; the due-date
        # filter runs here so a query-language quirk can never hide a due bill.
        company, connection = binding.company_id, binding.connection_id
        bills = await self._bill_lists.run(
            (company, connection), lambda: self.codat.list_bills(company, connection))
        return select_due_bills(bills, today=self.today(), within_days=within_days)

    async def row_states(self, binding: Binding, bills: list[Bill]) -> dict[str, RowState]:
        return await self.db(lambda s: row_states_for(s, binding, bills, self.policy), read_only=True)

    async def post_digest(self, channel_id: str, binding: Binding) -> list[str]:
        """Post the digest (main message, then thread replies); returns the messages' ts."""
        within = self.settings.billbot_due_within_days
        bills = await self.due_bills(binding, within_days=within)
        states = await self.row_states(binding, bills)
        today = self.today()
        specs = digest_messages(bills, states, summarise(bills, today=today), today=today,
                                within_days=within)
        posted: list[str] = []
        thread_ts: str | None = None
        for spec in specs:
            answer = await self.slack.chat_postMessage(channel=channel_id, text=spec.text,
                                                       blocks=spec.blocks, thread_ts=thread_ts,
                                                       unfurl_links=False, unfurl_media=False)
            ts = str(answer["ts"])
            posted.append(ts)
            thread_ts = thread_ts or ts
            parent = None if ts == thread_ts else thread_ts
            await self.db(partial(bookkeeping.save_message, channel_id=channel_id, ts=ts,
                                  blocks=spec.blocks, bill_ids=spec.bill_ids, at=self.clock.now(),
                                  thread_ts=parent))
        event(logger, "digest posted", channel_id=channel_id, bills=len(bills), messages=len(posted))
        return posted

    async def digest_tick(self) -> None:
        """Post today's digest in every bound channel that has not had it yet."""
        s = self.settings
        schedule = DigestSchedule(at=s.billbot_digest_at, days=s.billbot_digest_days,
                                  tz=s.billbot_timezone)
        now = self.clock.now()
        day = schedule.due_day(now)
        if day is None:
            return
        bound = await self.db(lambda session: bindings_service.list_bindings(session), read_only=True)
        for binding in bound:
            await self.scheduled_digest(binding, day)

    async def scheduled_digest(self, binding: Binding, day: date) -> bool:
        """Claim the (channel, local day) row, post, mark posted; False if another won."""
        channel = binding.channel_id
        now = self.clock.now()
        claimed = await self.db(lambda s: bookkeeping.claim_digest(
            s, channel_id=channel, local_date=day, at=now, stale_before=now - STALE_DIGEST_CLAIM))
        if not claimed:
            return False
        try:
            posted = await self.post_digest(channel, binding)
        except Exception as exc:
            refused = unpostable_error(exc)
            if refused is not None:
                # Retrying every tick cannot help until someone invites the bot: keep the
                # claim (a stale claim is retried after STALE_DIGEST_CLAIM) and tell the admins.
                await self.invite_notices.tell_admins_once(self, channel, refused)
                return False
            # Nothing reached Slack (or we cannot tell): give the claim back so a later tick
            # inside the window retries, rather than silently skipping the day.
            await self.db(lambda s: bookkeeping.release_digest(s, channel_id=channel, local_date=day))
            raise
        await self.db(lambda s: bookkeeping.mark_digest_posted(
            s, channel_id=channel, local_date=day, message_ts=posted[0], at=self.clock.now()))
        return True

    async def recovery_tick(self) -> None:
        from billbot.slackapp.payments_flow import recover_payments

        await recover_payments(self)

    # --- a bill's row ------------------------------------------------------------------------

    async def refresh_row(self, *, channel_id: str, ts: str, bill: Bill, binding: Binding,
                          clicked_blocks: list[dict[str, Any]] | None = None) -> None:
        """Re-render one bill's row in place in the message that shows it (chat.update).

        The approval and payment state is read in the same transaction that stores the new
        blocks (compare-and-set on the message's version), so a render made from a state read
        earlier can never overwrite one made from a later state: the stored row only moves
        forward. The stored blocks are the source of truth (a concurrent update to another bill
        of the same message is not lost); the clicked message's blocks serve for messages
        billbot did not store. One lock per message keeps this process's updates in order.
        """
        today = self.today()

        def render(session: Session) -> tuple[list[dict[str, Any]] | None, int | None, bool]:
            """(blocks to show, their stored version, written); (None, ..) when the row is
            not in this message."""
            stored = bookkeeping.get_message(session, channel_id=channel_id, ts=ts)
            blocks = list(stored.blocks) if stored else list(clicked_blocks or [])
            state = row_state_for(session, binding, bill, self.policy)
            new = replace_bill_row(blocks, bill, state, today=today)
            if new is None or stored is None:
                return new, None, True
            expected = stored.version  # read first: the ORM update refreshes `stored`
            written = bookkeeping.update_message_blocks(
                session, channel_id=channel_id, ts=ts, expected_version=expected,
                blocks=new, at=self.clock.now())
            return new, expected + 1, written

        lock = self._row_locks.setdefault((channel_id, ts), asyncio.Lock())
        async with lock:
            for _ in range(5):
                new, version, written = await self.db(render)
                if new is None:
                    return
                if not written:
                    continue  # another replica re-rendered this message first: redo on top
                await self.slack.chat_update(channel=channel_id, ts=ts, text=fallback_text(new),
                                             blocks=new)
                if version is not None:
                    await self._resend_if_overtaken(channel_id, ts, version)
                return
            logger.warning("row refresh gave up after repeated conflicts")

    async def _resend_if_overtaken(self, channel_id: str, ts: str, version: int) -> None:
        """Another replica may have stored a newer render whose chat.update reached Slack
        before ours: then the newest stored blocks are sent again, so they land last."""
        for _ in range(3):
            latest = await self.db(lambda s: bookkeeping.get_message(s, channel_id=channel_id,
                                                                     ts=ts), read_only=True)
            if latest is None or latest.version == version:
                return
            version = latest.version
            blocks = list(latest.blocks)
            await self.slack.chat_update(channel=channel_id, ts=ts, text=fallback_text(blocks),
                                         blocks=blocks)


def fallback_text(blocks: list[dict[str, Any]]) -> str:
    for block in blocks:
        if block.get("type") in ("header", "section") and isinstance(block.get("text"), dict):
            return str(block["text"]["text"])[:300]
    return "billbot"


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
