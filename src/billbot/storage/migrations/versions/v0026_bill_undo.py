"""bill_undo: an admin's Undo payment or Delete bill (async API), claimed before the delete
push is sent; payment_intent.undone_at: a payment deleted in Codat no longer counts as paid.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# Frozen copies of billbot.storage.types / tables as of this revision.
AT = sa.DateTime(timezone=True)
_BILL_ID = sa.String(2048).with_variant(sa.String(255), "sqlite")
_LIVE = sa.text("state <> 'failed'")


def _at(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, AT, nullable=nullable)


def upgrade() -> None:
    op.add_column("payment_intent", _at("undone_at", nullable=True))
    op.create_table(
        "bill_undo",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("company_id", sa.String(64), nullable=False),
        sa.Column("connection_id", sa.String(64), nullable=False),
        sa.Column("bill_id", _BILL_ID, nullable=False),
        sa.Column("target_id", _BILL_ID, nullable=False),
        sa.Column("intent_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("bill_version", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=True),
        sa.Column("push_operation_key", sa.String(64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _at("requested_at", nullable=False),
        _at("sent_at", nullable=True),
        _at("locked_until", nullable=True),
        sa.Column("lease_owner", sa.String(36), nullable=True),
        _at("finished_at", nullable=True),
        sa.Column("team_id", sa.String(32), nullable=False, server_default=""),
        sa.CheckConstraint("kind IN ('payment', 'bill')", name="ck_bill_undo_kind"),
        sa.CheckConstraint("state IN ('claimed', 'sent', 'unknown', 'succeeded', 'failed')",
                           name="ck_bill_undo_state"),
    )
    op.create_index("uq_bill_undo_live", "bill_undo",
                    ["kind", "company_id", "connection_id", "target_id"], unique=True,
                    sqlite_where=_LIVE, postgresql_where=_LIVE)
    op.create_index("ix_bill_undo_bill", "bill_undo", ["company_id", "connection_id", "bill_id"])


def downgrade() -> None:
    op.drop_index("ix_bill_undo_bill", table_name="bill_undo")
    op.drop_index("uq_bill_undo_live", table_name="bill_undo")
    op.drop_table("bill_undo")
    with op.batch_alter_table("payment_intent") as batch:
        batch.drop_column("undone_at")
