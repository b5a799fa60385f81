"""Initial schema: bindings, role overrides, approval rounds, payment intents, digests,
Slack messages, processed requests and the append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of billbot.storage.types: exact money and UTC timestamps on both databases.
MONEY = sa.Numeric(20, 6).with_variant(sa.String(40), "sqlite")
AT = sa.DateTime(timezone=True)
ID = sa.String(64)
FREE_ID = sa.String(255)
OPEN_STATES = "state IN ('created', 'calling', 'unknown')"

_APPEND_ONLY = "audit_log is append-only"


def upgrade() -> None:
    op.create_table(
        "channel_binding",
        sa.Column("channel_id", ID, primary_key=True),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("connection_id", ID, nullable=False),
        sa.Column("bound_by", ID, nullable=False),
        sa.Column("bound_at", AT, nullable=False),
    )
    op.create_table(
        "role_grant",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("changed_by", ID, nullable=False),
        sa.Column("changed_at", AT, nullable=False),
        sa.UniqueConstraint("user_id", "role", name="uq_role_grant_user_role"),
        sa.CheckConstraint("role IN ('approver', 'payer', 'admin')", name="ck_role_grant_role"),
    )
    op.create_table(
        "bill_track",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("connection_id", ID, nullable=False),
        sa.Column("bill_id", FREE_ID, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("baseline_total", MONEY, nullable=True),
        sa.Column("baseline_amount_due", MONEY, nullable=True),
        sa.Column("baseline_due_date", sa.Date(), nullable=False),
        sa.Column("baseline_currency", sa.String(3), nullable=False),
        sa.Column("baseline_supplier_id", FREE_ID, nullable=False),
        sa.Column("baseline_source_modified", AT, nullable=True),
        sa.Column("paid_in_round", MONEY, nullable=False),
        sa.Column("rejected_by", ID, nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("rejected_at", AT, nullable=True),
        sa.Column("open_intent_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.UniqueConstraint("company_id", "connection_id", "bill_id", name="uq_bill_track_bill"),
        sa.CheckConstraint(
            "state IN ('pending', 'rejected', 'approved')", name="ck_bill_track_state"
        ),
    )
    op.create_table(
        "approval",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("bill_track_id", sa.Integer(), sa.ForeignKey("bill_track.id"), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("bill_version", sa.JSON(), nullable=False),
        sa.Column("request_id", FREE_ID, nullable=True),
        sa.Column("at", AT, nullable=False),
        sa.UniqueConstraint(
            "bill_track_id", "round", "user_id", "decision", name="uq_approval_once_per_round"
        ),
        sa.CheckConstraint("decision IN ('approve', 'reject')", name="ck_approval_decision"),
    )
    op.create_table(
        "payment_intent",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("bill_track_id", sa.Integer(), sa.ForeignKey("bill_track.id"), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("account_id", FREE_ID, nullable=False),
        sa.Column("account_name", FREE_ID, nullable=True),
        sa.Column("payment_date", sa.Date(), nullable=False),
        sa.Column("payer_id", ID, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("bill_version", sa.JSON(), nullable=False),
        sa.Column("remote_payment_id", FREE_ID, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("first_sent_at", AT, nullable=True),
        sa.Column("locked_until", AT, nullable=True),
        sa.Column("lease_owner", sa.String(36), nullable=True),
        sa.Column("finished_at", AT, nullable=True),
        sa.Column("channel_id", ID, nullable=True),
        sa.Column("message_ts", ID, nullable=True),
        sa.Column("request_id", FREE_ID, nullable=True),
        sa.CheckConstraint(
            "state IN ('created', 'calling', 'unknown', 'succeeded', 'failed')",
            name="ck_payment_intent_state",
        ),
    )
    op.create_index(
        "uq_payment_intent_one_open_per_bill",
        "payment_intent",
        ["bill_track_id"],
        unique=True,
        sqlite_where=sa.text(OPEN_STATES),
        postgresql_where=sa.text(OPEN_STATES),
    )
    op.create_index("ix_payment_intent_track", "payment_intent", ["bill_track_id", "created_at"])
    op.create_index("ix_payment_intent_open", "payment_intent", ["state", "locked_until"])
    op.create_table(
        "digest_post",
        sa.Column("channel_id", ID, primary_key=True),
        sa.Column("local_date", sa.Date(), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claimed_at", AT, nullable=False),
        sa.Column("posted_at", AT, nullable=True),
        sa.Column("message_ts", ID, nullable=True),
        sa.CheckConstraint("state IN ('posting', 'posted')", name="ck_digest_post_state"),
    )
    op.create_table(
        "slack_message",
        sa.Column("channel_id", ID, primary_key=True),
        sa.Column("ts", ID, primary_key=True),
        sa.Column("thread_ts", ID, nullable=True),
        sa.Column("blocks", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("bill_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
    )
    op.create_table(
        "processed_request",
        sa.Column("key", FREE_ID, primary_key=True),
        sa.Column("at", AT, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", AT, nullable=False),
        sa.Column("actor", ID, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("company_id", ID, nullable=True),
        sa.Column("connection_id", ID, nullable=True),
        sa.Column("bill_id", FREE_ID, nullable=True),
        sa.Column("bill_version", sa.JSON(), nullable=True),
        sa.Column("request_id", FREE_ID, nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_bill", "audit_log", ["company_id", "connection_id", "bill_id"])
    _create_audit_triggers()


def _create_audit_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION billbot_audit_log_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{_APPEND_ONLY}' USING ERRCODE = 'insufficient_privilege'; "
            "END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION billbot_audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION billbot_audit_log_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS billbot_audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    for table in (
        "audit_log",
        "processed_request",
        "slack_message",
        "digest_post",
        "payment_intent",
        "approval",
        "bill_track",
        "role_grant",
        "channel_binding",
    ):
        op.drop_table(table)
