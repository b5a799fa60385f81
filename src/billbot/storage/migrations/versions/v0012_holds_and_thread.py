"""Holds and the bill's thread: bill_track gains the hold (who, the question, when), and
bill_thread_post claims each history entry before it is posted into the bill's thread.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Frozen copies of billbot.storage.types and tables.BILL_ID_TYPE, as in 0001 and 0007.
AT = sa.DateTime(timezone=True)
BILL_ID = sa.String(2048).with_variant(sa.String(255), "sqlite")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ADD COLUMNs: SQLite needs no table rebuild for them.
    op.add_column("bill_track", sa.Column("held_by", sa.String(64), nullable=True))
    op.add_column("bill_track", sa.Column("hold_question", sa.Text(), nullable=True))
    op.add_column("bill_track", sa.Column("held_at", AT, nullable=True))
    op.create_table(
        "bill_thread_post",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("company_id", sa.String(64), nullable=False),
        sa.Column("connection_id", sa.String(64), nullable=False),
        sa.Column("bill_id", BILL_ID, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("audit_id", BIG_ID, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=True),
        sa.Column("thread_ts", sa.String(64), nullable=True),
        sa.Column("posted_ts", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(255), nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("claimed_at", AT, nullable=True),
        sa.Column("posted_at", AT, nullable=True),
        sa.UniqueConstraint("company_id", "connection_id", "bill_id", "event_id",
                            name="uq_bill_thread_post_event"),
        sa.CheckConstraint("state IN ('pending', 'posting', 'posted', 'failed', 'skipped')",
                           name="ck_bill_thread_post_state"),
    )
    op.create_index("ix_bill_thread_post_state", "bill_thread_post", ["state", "claimed_at"])
    op.create_index("ix_bill_thread_post_audit", "bill_thread_post", ["audit_id"])


def downgrade() -> None:
    op.drop_index("ix_bill_thread_post_audit", table_name="bill_thread_post")
    op.drop_index("ix_bill_thread_post_state", table_name="bill_thread_post")
    op.drop_table("bill_thread_post")
    with op.batch_alter_table("bill_track") as batch:
        batch.drop_column("held_at")
        batch.drop_column("hold_question")
        batch.drop_column("held_by")
