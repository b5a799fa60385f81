"""bill_handle, and bill ids up to 2048 characters: Codat bill ids are free strings, and a long
one travels in Slack buttons and forms as a short handle resolved from this table. The bill_id
columns are widened from 255 to 2048 (2048 ASCII characters fit a PostgreSQL btree index
entry). SQLite does not enforce VARCHAR lengths: its tables are left as they are (rebuilding
bill_track would trip approval's foreign key and drop audit_log's triggers), and the models
declare the old length there (`tables.BILL_ID`'s SQLite variant), so both still agree.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Frozen copies of billbot.storage.types, as in 0001.
AT = sa.DateTime(timezone=True)
BILL_ID_COLUMNS = (("bill_track", False), ("audit_log", True), ("bill_copy", False))


def upgrade() -> None:
    op.create_table(
        "bill_handle",
        sa.Column("handle", sa.String(64), primary_key=True),
        sa.Column("company_id", sa.String(64), primary_key=True),
        sa.Column("connection_id", sa.String(64), primary_key=True),
        sa.Column("bill_id", sa.String(2048), nullable=False),
        sa.Column("created_at", AT, nullable=False),
    )
    _bill_ids(2048, 255)


def downgrade() -> None:
    _bill_ids(255, 2048)
    op.drop_table("bill_handle")


def _bill_ids(length: int, was: int) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: the models declare VARCHAR(255) there (lengths are not enforced)
    for table, nullable in BILL_ID_COLUMNS:
        op.alter_column(table, "bill_id", type_=sa.String(length),
                        existing_type=sa.String(was), existing_nullable=nullable)
