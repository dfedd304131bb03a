"""work permits in the registry (issue 10 §1, §3): the points, table version and category reason of a work permit;
the work permit a post change was recorded on

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-03 08:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("work_permits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("points", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("table_version", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("category_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("post_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("work_permit_id", Id, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_post_changes_work_permit_id_work_permits"),
            "work_permits",
            ["work_permit_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("post_changes", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_post_changes_work_permit_id_work_permits"), type_="foreignkey"
        )
        batch_op.drop_column("work_permit_id")
    with op.batch_alter_table("work_permits", schema=None) as batch_op:
        batch_op.drop_column("category_reason")
        batch_op.drop_column("table_version")
        batch_op.drop_column("points")
