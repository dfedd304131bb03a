"""the obligations register (issue 12): each duty a record starts, with its deadline, citations and state

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 06:10:00

An expansion (docs/operations.md): one new table, read and written only by the new code.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "obligations",
        sa.Column("id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("basis", sa.String(length=12), nullable=False),
        sa.Column("basis_id", Id, nullable=False),
        sa.Column("due_by", sa.Date(), nullable=True),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("holidays_known", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("met_by_case_id", Id, nullable=True),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_obligations_person_id_people")),
        sa.ForeignKeyConstraint(
            ["met_by_case_id"], ["cases.id"], name=op.f("fk_obligations_met_by_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligations")),
        sa.UniqueConstraint("kind", "basis", "basis_id", name="uq_obligations_basis"),
    )
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_obligations_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_obligations_state_due", ["state", "due_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.drop_index("ix_obligations_state_due")
        batch_op.drop_index(batch_op.f("ix_obligations_person_id"))
    op.drop_table("obligations")
