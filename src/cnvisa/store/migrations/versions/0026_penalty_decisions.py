"""penalty decisions for illegal residence (issue 12: an officer's decision after the person was heard)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 14:00:00

An expansion (docs/operations.md): a new table, read and written only by the new code.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "penalty_decisions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("office_id", Id, nullable=False),
        sa.Column("decided_by", Id, nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=8), nullable=False),
        sa.Column("last_lawful_day", sa.Date(), nullable=False),
        sa.Column("days_overstayed", sa.Integer(), nullable=False),
        sa.Column("warning", sa.Boolean(), nullable=False),
        sa.Column("fine_cny", sa.Integer(), nullable=False),
        sa.Column("detention_days", sa.Integer(), nullable=False),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("serious_reason", sa.Text(), nullable=True),
        sa.Column("authority", sa.String(length=16), nullable=False),
        sa.Column("decision_number", sa.String(length=60), nullable=True),
        sa.Column("heard_on", sa.Date(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("payment_due", sa.Date(), nullable=True),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_penalty_decisions_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_penalty_decisions_office_id_offices")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["accounts.id"], name=op.f("fk_penalty_decisions_decided_by_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_penalty_decisions")),
        sa.UniqueConstraint("person_id", "subject", "last_lawful_day", name="uq_penalty_decisions_spell"),
    )
    with op.batch_alter_table("penalty_decisions", schema=None) as b:
        b.create_index(b.f("ix_penalty_decisions_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("penalty_decisions", schema=None) as b:
        b.drop_index(b.f("ix_penalty_decisions_person_id"))
    op.drop_table("penalty_decisions")
