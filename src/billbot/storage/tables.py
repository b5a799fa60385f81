"""billbot's tables. Migrations 0001-0002 create exactly these; a test checks they agree.

Correctness under concurrency comes from the unique constraints declared here plus
conditional UPDATEs in the services (never `SELECT ... FOR UPDATE`), so the same code is
right on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlmodel import Field, SQLModel

from .columns import BILL_ID, BILL_ID_TYPE, FREE_ID, ID, _at, _bill_id, _in, _json, _money  # noqa: F401
from .scoping import enterprise_column, team_column

ROLES = ("approver", "payer", "admin")
TRACK_STATES = ("pending", "rejected", "approved")
DECISIONS = ("approve", "reject")
INTENT_STATES = ("created", "calling", "unknown", "succeeded", "failed")
OPEN_INTENT_STATES = ("created", "calling", "unknown")
DIGEST_STATES = ("posting", "posted")


class ChannelBinding(SQLModel, table=True):
    __tablename__ = "channel_binding"

    channel_id: str = Field(primary_key=True, max_length=ID)
    company_id: str = Field(max_length=ID)
    connection_id: str = Field(max_length=ID)
    bound_by: str = Field(max_length=ID)
    bound_at: datetime = _at()
    team_id: str = team_column()
    enterprise_id: str | None = enterprise_column()
    paused_at: datetime | None = _at(nullable=True)  # the app was uninstalled from the team
    # Which Codat Bill Pay API the company is used through: sync | async (migration 0019).
    codat_api: str = Field(default="sync", max_length=8)


class RoleGrant(SQLModel, table=True):
    """An admin's override on top of the environment's role lists."""

    __tablename__ = "role_grant"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id", "role", name="uq_role_grant_team_user_role"),
        CheckConstraint(_in("role", ROLES), name="ck_role_grant_role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=ID)
    role: str = Field(max_length=16)
    present: bool
    changed_by: str = Field(max_length=ID)
    changed_at: datetime = _at()
    team_id: str = team_column()
    enterprise_id: str | None = enterprise_column()


class BillTrack(SQLModel, table=True):
    """The approval round of one bill and the bill version its approvals were made against."""

    __tablename__ = "bill_track"
    __table_args__ = (
        UniqueConstraint("company_id", "connection_id", "bill_id", name="uq_bill_track_bill"),
        CheckConstraint(_in("state", TRACK_STATES), name="ck_bill_track_state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(max_length=ID)
    connection_id: str = Field(max_length=ID)
    bill_id: str = _bill_id()
    round: int = 1
    state: str = Field(default="pending", max_length=16)
    baseline_total: Decimal | None = _money(nullable=True)
    baseline_amount_due: Decimal | None = _money(nullable=True)
    baseline_due_date: date = Field(sa_column=Column(Date(), nullable=False))
    baseline_currency: str = Field(max_length=3)
    baseline_supplier_id: str = Field(max_length=FREE_ID)
    baseline_source_modified: datetime | None = _at(nullable=True)
    paid_in_round: Decimal = _money(nullable=False)
    rejected_by: str | None = Field(default=None, max_length=ID)
    reject_reason: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    rejected_at: datetime | None = _at(nullable=True)
    # Not a foreign key: payment_intent points here, and the pointer is only a claim.
    open_intent_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid(), nullable=True))
    created_at: datetime = _at()
    updated_at: datetime = _at()
    # A hold with a question (migration 0012), on the track: one row's conditional updates.
    held_by: str | None = Field(default=None, max_length=ID)
    hold_question: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    held_at: datetime | None = _at(nullable=True)


class Approval(SQLModel, table=True):
    __tablename__ = "approval"
    __table_args__ = (
        UniqueConstraint(
            "bill_track_id", "round", "user_id", "decision", name="uq_approval_once_per_round"
        ),
        CheckConstraint(_in("decision", DECISIONS), name="ck_approval_decision"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bill_track_id: int = Field(sa_column=Column(Integer(), ForeignKey("bill_track.id"),
                                                nullable=False))
    round: int
    user_id: str = Field(max_length=ID)
    decision: str = Field(max_length=8)
    reason: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    bill_version: dict[str, Any] = _json()
    request_id: str | None = Field(default=None, max_length=FREE_ID)
    at: datetime = _at()
    # The delegate who clicked for `user_id` while they were away (migration 0009).
    acted_by: str | None = Field(default=None, max_length=ID)
    team_id: str = team_column()


class PaymentIntent(SQLModel, table=True):
    """One payment billbot means to record in Codat, with the Idempotency-Key it always uses."""

    __tablename__ = "payment_intent"
    __table_args__ = (
        CheckConstraint(_in("state", INTENT_STATES), name="ck_payment_intent_state"),
        # Belt and braces for bill_track.open_intent_id: one open intent per bill.
        Index(
            "uq_payment_intent_one_open_per_bill",
            "bill_track_id",
            unique=True,
            sqlite_where=text(_in("state", OPEN_INTENT_STATES)),
            postgresql_where=text(_in("state", OPEN_INTENT_STATES)),
        ),
        Index("ix_payment_intent_track", "bill_track_id", "created_at"),
        Index("ix_payment_intent_open", "state", "locked_until"),
        Index("uq_payment_intent_reference", "payment_reference", unique=True),
        Index("ix_payment_intent_group", "group_id"),
    )

    id: uuid.UUID = Field(sa_column=Column(Uuid(), primary_key=True))
    bill_track_id: int = Field(sa_column=Column(Integer(), ForeignKey("bill_track.id"),
                                                nullable=False))
    idempotency_key: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    state: str = Field(default="created", max_length=16)
    amount: Decimal = _money(nullable=False)
    currency: str = Field(max_length=3)
    account_id: str = Field(max_length=FREE_ID)
    account_name: str | None = Field(default=None, max_length=FREE_ID)
    payment_date: date = Field(sa_column=Column(Date(), nullable=False))
    payer_id: str = Field(max_length=ID)
    round: int
    bill_version: dict[str, Any] = _json()
    remote_payment_id: str | None = Field(default=None, max_length=FREE_ID)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    created_at: datetime = _at()
    first_sent_at: datetime | None = _at(nullable=True)
    locked_until: datetime | None = _at(nullable=True)
    lease_owner: str | None = Field(default=None, max_length=36)
    finished_at: datetime | None = _at(nullable=True)
    # When the final outcome reached Slack (migration 0002); NULL: recovery shows it.
    outcome_shown_at: datetime | None = _at(nullable=True)
    channel_id: str | None = Field(default=None, max_length=ID)
    message_ts: str | None = Field(default=None, max_length=ID)
    request_id: str | None = Field(default=None, max_length=FREE_ID)
    # The payer's pay modal (migration 0003): recovery shows the outcome there too.
    view_id: str | None = Field(default=None, max_length=ID)
    # A foreign-currency payment's rate, as exact text, and the base currency (migration 0005).
    currency_rate: str | None = Field(default=None, max_length=32)
    base_currency: str | None = Field(default=None, max_length=3)
    # The absent payer whose role the payer (their delegate) used (migration 0009).
    on_behalf_of: str | None = Field(default=None, max_length=ID)
    team_id: str = team_column()
    # The async API (migration 0019): no Idempotency-Key there, so the payment carries this
    # unique reference and the push operation's key is committed the moment it is known.
    codat_api: str = Field(default="sync", max_length=8)
    payment_reference: str | None = Field(default=None, max_length=64)
    push_operation_key: str | None = Field(default=None, max_length=64)
    # An admin's Undo payment deleted it in Codat (migration 0026): no longer counts as paid.
    undone_at: datetime | None = _at(nullable=True)
    # A credit note allocation (migration 0027): `amount` is all it takes off the bill,
    # `credit_amount` of it from this credit note, the rest paid from `account_id`.
    credit_note_id: str | None = Field(default=None, max_length=FREE_ID)
    credit_note_number: str | None = Field(default=None, max_length=FREE_ID)
    credit_amount: Decimal | None = _money(nullable=True)
    # One payment for several bills (migration 0029): the group's lead intent, on every
    # member; only the lead is ever sent, and the members finish with it.
    group_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid(), nullable=True))

    @property
    def cash_amount(self) -> Decimal:
        """What leaves the bank account (all of `amount` unless a credit note covers some)."""
        return self.amount - (self.credit_amount or Decimal(0))

    @property
    def rate(self) -> Decimal | None:
        return Decimal(self.currency_rate) if self.currency_rate else None


class DigestPost(SQLModel, table=True):
    """One digest per channel per local day: the row is claimed before posting."""

    __tablename__ = "digest_post"
    __table_args__ = (CheckConstraint(_in("state", DIGEST_STATES), name="ck_digest_post_state"),)

    channel_id: str = Field(primary_key=True, max_length=ID)
    local_date: date = Field(sa_column=Column(Date(), primary_key=True))
    state: str = Field(default="posting", max_length=16)
    claimed_at: datetime = _at()
    posted_at: datetime | None = _at(nullable=True)
    message_ts: str | None = Field(default=None, max_length=ID)


class SlackMessage(SQLModel, table=True):
    """The rendered blocks of a message billbot posted, so one row can be re-rendered."""

    __tablename__ = "slack_message"

    channel_id: str = Field(primary_key=True, max_length=ID)
    ts: str = Field(primary_key=True, max_length=ID)
    thread_ts: str | None = Field(default=None, max_length=ID)
    blocks: list[dict[str, Any]] = _json()
    version: int = 1
    bill_ids: list[str] = _json()
    created_at: datetime = _at()
    updated_at: datetime = _at()
    team_id: str = team_column()


class ChannelNotice(SQLModel, table=True):
    """A channel that refused billbot's posts (not invited, archived) and whose admins were
    told: once across replicas and restarts, until a post there succeeds again."""

    __tablename__ = "channel_notice"

    channel_id: str = Field(primary_key=True, max_length=ID)
    error: str = Field(primary_key=True, max_length=ID)
    told_at: datetime = _at()


class ProcessedRequest(SQLModel, table=True):
    """Slack retries the same request; the first claim of its key wins."""

    __tablename__ = "processed_request"

    key: str = Field(primary_key=True, max_length=FREE_ID)
    at: datetime = _at()


class AuditLog(SQLModel, table=True):
    """Append-only: the code never updates or deletes, and database triggers refuse to."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_bill", "company_id", "connection_id", "bill_id"),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                         autoincrement=True),
    )
    at: datetime = _at()
    actor: str = Field(max_length=ID)
    action: str = Field(max_length=64)
    company_id: str | None = Field(default=None, max_length=ID)
    connection_id: str | None = Field(default=None, max_length=ID)
    bill_id: str | None = _bill_id(nullable=True)
    bill_version: dict[str, Any] | None = _json(nullable=True)
    request_id: str | None = Field(default=None, max_length=FREE_ID)
    detail: dict[str, Any] = _json()
    team_id: str = team_column()
    enterprise_id: str | None = enterprise_column()


class BillHandle(SQLModel, table=True):
    """The short handle a long bill id travels as in buttons and forms (migration 0007);
    written before a row showing the bill is posted, resolved within the clicked channel's
    company and connection."""

    __tablename__ = "bill_handle"

    handle: str = Field(primary_key=True, max_length=ID)
    company_id: str = Field(primary_key=True, max_length=ID)
    connection_id: str = Field(primary_key=True, max_length=ID)
    bill_id: str = Field(max_length=BILL_ID)
    created_at: datetime = _at()


__all__ = ["DECISIONS", "INTENT_STATES", "OPEN_INTENT_STATES", "ROLES", "Approval", "AuditLog",
           "BillHandle", "BillTrack", "ChannelBinding", "DigestPost", "PaymentIntent",
           "ProcessedRequest", "RoleGrant", "SlackMessage"]


class BillCopy(SQLModel, table=True):
    """One message that shows a bill's row (migration 0005): where it is, which digest it
    belongs to, and the figures it shows, so every copy is re-rendered when the bill changes
    and a click on a copy is judged against what that copy showed."""

    __tablename__ = "bill_copy"
    __table_args__ = (
        Index("ix_bill_copy_bill", "company_id", "connection_id", "bill_id"),
        Index("ix_bill_copy_digest", "channel_id", "digest_ts"),
    )

    channel_id: str = Field(primary_key=True, max_length=ID)
    ts: str = Field(primary_key=True, max_length=ID)
    bill_id: str = _bill_id(primary_key=True)
    company_id: str = Field(max_length=ID)
    connection_id: str = Field(max_length=ID)
    digest_ts: str | None = Field(default=None, max_length=ID)  # the digest's main message
    token: str = Field(max_length=16)
    amount_due: Decimal | None = _money(nullable=True)
    currency: str = Field(max_length=3)
    due_date: date = Field(sa_column=Column(Date(), nullable=False))
    settled: bool = False
    updated_at: datetime = _at()
    team_id: str = team_column()


from .payrun_tables import RUN_STATES, PayRun, PayRunItem  # noqa: E402  (pay runs, migration 0008)

__all__ += ["RUN_STATES", "PayRun", "PayRunItem"]


# Delegation and reminders (migration 0009) live in a module of their own.
from .away_tables import Delegation, ReminderSent  # noqa: E402

__all__ += ["Delegation", "ReminderSent"]

from .invoice_tables import InvoiceUpload  # noqa: E402  (View invoice's claims, migration 0011)

__all__ += ["InvoiceUpload"]

from .connect_tables import ConnectWatch, KnownCompany  # noqa: E402  (`/bills connect`, 0014)

__all__ += ["ConnectWatch", "KnownCompany"]

from .account_tables import BankAccountRequest  # noqa: E402  (/bills accounts add, migration 0015)

__all__ += ["BankAccountRequest"]

from .creation_tables import BillCreation, CreatedBill  # noqa: E402  (Create bill, migration 0016)

__all__ += ["BillCreation", "CreatedBill"]

from .edit_tables import BillEdit  # noqa: E402  (Edit's intents, migration 0017)
from .install_tables import bots_table  # noqa: E402, F401  (OAuth mode's stores, migration 0021)

__all__ += ["BillEdit"]

from .usergroup_tables import UsergroupMembers  # noqa: E402  (user groups' members, migration 0018)

__all__ += ["UsergroupMembers"]

from .bill_cache_tables import BillRefresh, CachedBill  # noqa: E402  (open bills, 0022)

__all__ += ["BillRefresh", "CachedBill"]

from .policy_tables import PolicyVersion  # noqa: E402  (approval policy versions, migration 0023)

__all__ += ["PolicyVersion"]

from .control_tables import BillControl  # noqa: E402  (controls shown on rows, migration 0024)

__all__ += ["BillControl"]

from .pace_tables import SlackPace  # noqa: E402  (Slack pacing shared by replicas, migration 0025)

__all__ += ["SlackPace"]

from .undo_tables import BillUndo  # noqa: E402  (Undo payment and Delete bill, migration 0026)

__all__ += ["BillUndo"]

from .credit_tables import CreditNoteRecord  # noqa: E402  (recorded credit notes, migration 0027)

__all__ += ["CreditNoteRecord"]
