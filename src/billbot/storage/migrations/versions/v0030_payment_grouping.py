"""How a pay run groups its payments (async API): 'each' bill its own payment, 'supplier'
(one payment per supplier and currency, 0029's `per_supplier`) or 'batch' (one payment for
every bill in the base currency, no supplierRef: platforms that support batch payments).
`platform` is the connection's platformName as read from Codat when the run was opened
(the batch choice depends on it); `pay_run_item.supplier_id` lets the review count the
payments exactly as they will be made.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

CHECK = """"grouping" IN ('each', 'supplier', 'batch')"""  # quoted: a keyword in SQL


def upgrade() -> None:
    op.add_column("pay_run", sa.Column("grouping", sa.String(length=16), nullable=False,
                                       server_default="each"))
    op.add_column("pay_run", sa.Column("platform", sa.String(length=255), nullable=True))
    op.execute("""UPDATE pay_run SET "grouping" = 'supplier' WHERE per_supplier""")
    with op.batch_alter_table("pay_run") as batch:
        batch.drop_column("per_supplier")
        batch.create_check_constraint("ck_pay_run_grouping", CHECK)
    op.add_column("pay_run_item", sa.Column("supplier_id", sa.String(length=255),
                                            nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pay_run_item") as batch:
        batch.drop_column("supplier_id")
    op.add_column("pay_run", sa.Column("per_supplier", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    # A batch run becomes per supplier: the closest grouping 0029 knows.
    op.execute("""UPDATE pay_run SET per_supplier = ("grouping" <> 'each')""")
    with op.batch_alter_table("pay_run") as batch:
        batch.drop_constraint("ck_pay_run_grouping", type_="check")
        batch.drop_column("platform")
        batch.drop_column("grouping")
