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
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar
from weakref import WeakValueDictionary

import httpx
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from billbot import tenancy
from billbot.ack_first import AckFirst
from billbot.clock import Clock, SystemClock, local_today
from billbot.codat.async_api import AsyncBillPayClient
from billbot.codat.client import CodatClient
from billbot.codat.models import Bill
from billbot.codat.pacing import CodatPace, codat_limit
from billbot.codat.pacing import bucket_key as codat_bucket
from billbot.codat.router import CodatRouter
from billbot.config import Settings, read_policy_text
from billbot.context_token import ContextSigner
from billbot.domain.approval_rules import (
    ApprovalPolicy,
    is_group,
    is_legacy,
    legacy_policy,
    named_payers,
)
from billbot.domain.digest import select_due_bills
from billbot.domain.due_fold import DueBills, fold_due
from billbot.domain.policy import PolicySettings
from billbot.domain.policy_file import parse_policy
from billbot.logs import event
from billbot.pacing import SlotBook, Slots
from billbot.services import bindings as bindings_service
from billbot.services import connect_watch, policy_versions
from billbot.services.bindings import Binding
from billbot.services.open_bills import OpenBills, RefreshPolicy
from billbot.services.payment_runner import PaymentRunner, RunnerSettings, payment_call_limits
from billbot.singleflight import Coalescer
from billbot.slack_web.paced_client import build_slack_client
from billbot.storage import personal
from billbot.storage.db import make_engine, ping, session_scope, upgrade_database
from billbot.storage.installations import SealedInstallationStore
from billbot.storage.slack_slots import DatabaseSlots
from billbot.storage.token_cipher import TokenCipher
from billbot.testhooks import no_crash, sigkill_at

logger = logging.getLogger("billbot.runtime")

T = TypeVar("T")

# Every replica re-reads the newest approval policy version this often (well within a minute).
POLICY_POLL_SECONDS = 30

@dataclass
class Billbot:
    settings: Settings
    engine: Engine
    # Every Codat call, each through the API (sync or async) its company's binding names.
    codat: CodatRouter
    slack: AsyncWebClient
    clock: Clock
    signer: ContextSigner
    http: httpx.AsyncClient
    # One lock per Slack message keeps this process's re-renders of it in order (slackapp/rows.py);
    # weak, so a message's lock goes once no re-render holds or waits on it (a dict kept one
    # per message ever re-rendered).
    row_locks: WeakValueDictionary[tuple[str, str], asyncio.Lock] = field(
        default_factory=WeakValueDictionary)
    payments: PaymentRunner = field(init=False)
    # The Codat client for payment calls: its timeout and retry budget fit inside the lease.
    payment_codat: CodatRouter = field(init=False)
    # Each company's open bills, kept in the database and refreshed by what changed.
    open_bills: OpenBills = field(init=False)
    # Work after an acknowledgement waits (briefly) for the other requests' acknowledgements.
    ack_first: AckFirst = field(default_factory=AckFirst)
    # Each person's DM channel with the bot (conversations.open answers).
    dm_channels: dict[str, str] = field(default_factory=dict)
    # The workspace and app ids (auth.test, bots.info), for links into App Home.
    app_identity: dict[str, str] = field(default_factory=dict)
    # Background work, coalesced by key: Home views re-published, a digest's DM cards.
    later: Coalescer[str] = field(default_factory=Coalescer)
    # OAuth mode: each workspace's installation (its bot token), sealed in the database.
    installations: SealedInstallationStore | None = None

    # Each workspace's approval policy version in force (services/policy_versions; '' is
    # single-workspace mode), re-read every POLICY_POLL_SECONDS so every replica uses a new
    # version within a minute.
    policies: dict[str, policy_versions.ActivePolicy] = field(default_factory=dict)
    _policy_poll: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        if self.settings.billbot_policy_file and tenancy.SINGLE_WORKSPACE not in self.policies:
            # Until start-up records it as a version: the file as checked by load_settings.
            source, policy, text = self.configured_policy()
            self.policies[tenancy.SINGLE_WORKSPACE] = policy_versions.ActivePolicy(
                0, source, policy, text or "", "billbot", self.clock.now())
        lease = timedelta(seconds=self.settings.billbot_payment_lease_seconds)
        crash_at = self.settings.billbot_crash_at
        if crash_at is not None:
            logger.warning("BILLBOT_CRASH_AT=%s: this process kills itself there (test hook)",
                           crash_at.value)
        self.payments = PaymentRunner(self.engine, self.clock, policy=lambda: self.policy,
                                      settings=RunnerSettings.with_lease(lease),
                                      crash=sigkill_at(crash_at) if crash_at else no_crash)
        timeout, retry = payment_call_limits(lease)
        self.payment_codat = self.codat.with_limits(timeout=timeout, retry=retry)
        s = self.settings
        self.open_bills = OpenBills(self.engine, self.codat, self.clock, RefreshPolicy(
            full_every=timedelta(hours=s.billbot_bills_full_read_hours),
            fresh_for=timedelta(seconds=s.billbot_bills_fresh_seconds),
            reserve=s.billbot_codat_reserve), rate_limits=self.codat.sync.rate_limits)

    # --- plumbing --------------------------------------------------------------------------

    def policy_team(self) -> str | None:
        """Whose policy versions apply now: single-workspace mode's (''), or in OAuth mode the
        acting workspace's (None outside any: no versions apply)."""
        if not self.settings.oauth_mode:
            return tenancy.SINGLE_WORKSPACE
        return tenancy.team_key() or None

    @property
    def active_policy(self) -> policy_versions.ActivePolicy | None:
        """The policy version in force for the acting workspace, None when it has none."""
        team = self.policy_team()
        return None if team is None else self.policies.get(team)

    def use_policy(self, team_id: str, active: policy_versions.ActivePolicy) -> None:
        """A version just written (or read) is in force for its workspace, unless a newer
        one is already known."""
        known = self.policies.get(team_id)
        if known is None or active.number >= known.number:
            self.policies[team_id] = active

    @property
    def policy(self) -> PolicySettings:
        s = self.settings
        oauth = s.oauth_mode  # roles live per workspace in the database; the variables do not
        active = self.active_policy
        rules = None if active is None or is_legacy(active.policy) else active.policy
        approvers, payers = ((frozenset(), frozenset()) if oauth
                             else (s.billbot_approvers, s.billbot_payers))
        if rules is not None:
            # Everyone a rule names holds the approver role (group members: services/roles).
            approvers = frozenset(a for r in rules.rules for st in r.steps for a in st.approvers
                                  if not is_group(a))
            payers = named_payers(rules) or payers
        return PolicySettings(approvers=approvers, payers=payers,
                              admins=frozenset() if oauth else s.billbot_admins,
                              dual_approval_over=s.billbot_dual_approval_over,
                              payer_cannot_approve=s.billbot_payer_cannot_approve,
                              rules=rules, version=active.number if active else None,
                              in_file=bool(s.billbot_policy_file) and not oauth,
                              team_id=(tenancy.team_key() or None) if oauth
                              else self.app_identity.get("team_id"))

    def configured_policy(self) -> tuple[str, ApprovalPolicy, str | None]:
        """(source, policy, text) as configured: the file, or the rule of the old variables."""
        path = self.settings.billbot_policy_file
        if path:
            text = read_policy_text(path)
            return "file", parse_policy(text), text
        return "env", legacy_policy(self.settings.billbot_dual_approval_over), None

    async def follow_policies(self) -> None:
        """Use each workspace's newest policy version now (OAuth mode: each workspace's), and
        re-read them every POLICY_POLL_SECONDS."""
        await self.refresh_policy()
        if self._policy_poll is None:
            self._policy_poll = asyncio.create_task(self._poll_policy())

    async def refresh_policy(self) -> None:
        """Use every workspace's newest policy version (another replica may have written
        it), read in one query."""
        found = await self.db(policy_versions.newest_of_each, read_only=True)
        for team, newest in found.items():
            known = self.policies.get(team)
            if known is None or newest.number > known.number:
                self.policies[team] = newest
                event(logger, "policy version in force", version=newest.number,
                      source=newest.source, team=team or None)

    async def _poll_policy(self) -> None:
        while True:
            await asyncio.sleep(POLICY_POLL_SECONDS)
            try:
                await self.refresh_policy()
            except Exception:  # a database hiccup: the running version stays, retried later
                logger.warning("could not re-read the approval policy", exc_info=True)

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
        if not self.settings.oauth_mode:  # OAuth: each workspace's versions, from its install
            source, policy, text = self.configured_policy()
            self.policies[tenancy.SINGLE_WORKSPACE] = await self.db(
                lambda session: policy_versions.sync_at_start(
                    session, source=source, policy=policy, text=text, at=self.clock.now()))
        await self.follow_policies()
        s = self.settings
        if s.billbot_channel and s.codat_company_id and s.codat_connection_id:
            channel, company, connection = s.billbot_channel, s.codat_company_id, s.codat_connection_id
            bound = await self.db(lambda session: bindings_service.ensure_default_binding(
                session, channel_id=channel, company_id=company, connection_id=connection,
                at=self.clock.now(), codat_api=s.codat_api))
            self.codat.forget(company, connection)
            if (bound.company_id, bound.connection_id) == (company, connection):
                await self.db(lambda session: connect_watch.watch_configured(
                    session, channel_id=channel, company_id=company,
                    connection_id=connection, at=self.clock.now()))
        event(logger, "billbot ready", channel=s.billbot_channel)

    async def shutdown(self) -> None:
        if self._policy_poll is not None:
            self._policy_poll.cancel()
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
        found = await self.db(read, read_only=True)
        if found is not None and tenancy.request_scope() is None:
            # Background work acts as the binding's workspace from here on (its token, its
            # roles); a request already acts as its own.
            await self.enter_workspace(found.workspace)
        return found

    async def enter_workspace(self, workspace: tenancy.Workspace) -> bool:
        """Act as `workspace` for the rest of this task: in OAuth mode with its bot token from
        the installation store. False when billbot is not installed there (nothing to send
        with)."""
        if self.installations is None:
            tenancy.enter(workspace)
            return True
        bot = await self.installations.async_find_bot(enterprise_id=workspace.enterprise_id,
                                                      team_id=workspace.team_id)
        tenancy.enter(tenancy.Workspace(workspace.team_id, workspace.enterprise_id,
                                        bot.bot_token if bot is not None else None))
        return bot is not None and bool(bot.bot_token)

    # --- the due bills ----------------------------------------------------------------------

    async def due_bills(self, binding: Binding, *, within_days: int, background: bool = False,
                        only: Container[str] | None = None) -> list[Bill]:
        """Open and part-paid bills overdue or due within the window (of the ids in `only`,
        if given), most urgent first, from the open-bills cache after a refresh of what
        changed (`services/open_bills.py`), filtered as they are parsed. `background` work
        (digests, reminders) leaves Codat's last allowance to people."""
        # The due-date filter runs here so a query-language quirk can never hide a due bill.
        today = self.today()
        return await self.open_bills.read(
            binding.company_id, binding.connection_id, background=background,
            use=lambda bills: select_due_bills(
                (b for b in bills if only is None or b.id in only), today=today,
                within_days=within_days))

    async def due_digest(self, binding: Binding, *, within_days: int, rows: int,
                         background: bool = False) -> DueBills:
        """As `due_bills`, for a digest: the `rows` most urgent as bills, the rest as the
        figures a copy shows, in one pass that never holds the whole ledger parsed. A digest
        keeps no parsed bills for the next read, whoever asked for it."""
        today = self.today()
        return await self.open_bills.read(
            binding.company_id, binding.connection_id, background=background, keep=False,
            use=lambda bills: fold_due(bills, today=today, within_days=within_days, rows=rows))


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
    api_key = settings.codat_api_key.get_secret_value() if settings.codat_api_key else ""
    # Replicas on PostgreSQL share the rate-limit buckets (Slack's and Codat's); SQLite is one
    # process, paced in memory.
    slots: SlotBook = DatabaseSlots(engine) if engine.dialect.name == "postgresql" else Slots()
    per_minute = settings.billbot_codat_requests_per_minute
    pace = CodatPace(slots, codat_bucket(api_key), codat_limit(per_minute)) if per_minute else None
    sync = CodatClient(http, api_key=api_key, base_url=settings.codat_base_url, pace=pace)

    async def api_of(company_id: str, connection_id: str) -> str:
        def read() -> str:
            with session_scope(engine, read_only=True) as session:
                return bindings_service.api_of(session, company_id=company_id,
                                               connection_id=connection_id)
        return await asyncio.to_thread(read)

    codat = CodatRouter(sync, AsyncBillPayClient(sync), api_of)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    installations = None
    if settings.oauth_mode:  # no one token: each call uses its workspace's (tenancy)
        token = None
        key = settings.billbot_token_key
        cipher = TokenCipher(key.get_secret_value() if key else None)
        installations = SealedInstallationStore(str(settings.slack_client_id), engine, cipher)
    slack = build_slack_client(token, settings.slack_api_base, slots=slots)
    return Billbot(settings=settings, engine=engine, codat=codat, slack=slack,
                   clock=clock or SystemClock(), signer=ContextSigner(signing_key(settings)),
                   http=http, installations=installations)
