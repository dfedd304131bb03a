"""who is in China now and until when lawfully (issue 12): the sweep of illegal residence reads one indexed row per
person; maintained with each change, rebuilt when marked stale

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 09:30:00

An expansion (docs/operations.md): two new tables, read and written only by the new code. The table starts
empty and stale: the first sweep after the upgrade fills it from the records.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "presence",
        sa.Column("person_id", Id, autoincrement=False, nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("last_lawful", sa.Date(), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_presence_person_id_people")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_presence")),
    )
    with op.batch_alter_table("presence", schema=None) as batch_op:
        batch_op.create_index("ix_presence_last_lawful", ["last_lawful"], unique=False)
    state = op.create_table(
        "presence_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("rebuilt_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presence_state")),
    )
    op.bulk_insert(state, [{"id": 1, "stale": True, "rebuilt_at": None}])


def downgrade() -> None:
    op.drop_table("presence_state")
    with op.batch_alter_table("presence", schema=None) as batch_op:
        batch_op.drop_index("ix_presence_last_lawful")
    op.drop_table("presence")
