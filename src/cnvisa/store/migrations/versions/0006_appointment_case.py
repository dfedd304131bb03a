"""an appointment names the application (case) it was booked for

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 12:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.create_foreign_key(batch_op.f("fk_appointments_case_id_cases"), "cases", ["case_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_appointments_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_case_id"))
        batch_op.drop_constraint(batch_op.f("fk_appointments_case_id_cases"), type_="foreignkey")
        batch_op.drop_column("case_id")
