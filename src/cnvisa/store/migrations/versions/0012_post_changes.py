"""post changes without a new residence permit (issue 10 §3)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "post_changes",
        sa.Column("id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("holding_id", Id, nullable=False),
        sa.Column("organisation_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("from_region", sa.String(length=6), nullable=False),
        sa.Column("to_region", sa.String(length=6), nullable=False),
        sa.Column("position", sa.String(length=200), nullable=False),
        sa.Column("work_location", sa.String(length=300), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("filed_by", Id, nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("referred_reason", sa.Text(), nullable=True),
        sa.Column("from_office_id", Id, nullable=True),
        sa.Column("to_office_id", Id, nullable=True),
        sa.Column("org_report_id", Id, nullable=True),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_post_changes_person_id_people")),
        sa.ForeignKeyConstraint(
            ["holding_id"], ["holdings.id"], name=op.f("fk_post_changes_holding_id_holdings")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_post_changes_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["filed_by"], ["accounts.id"], name=op.f("fk_post_changes_filed_by_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["from_office_id"], ["offices.id"], name=op.f("fk_post_changes_from_office_id_offices")
        ),
        sa.ForeignKeyConstraint(
            ["to_office_id"], ["offices.id"], name=op.f("fk_post_changes_to_office_id_offices")
        ),
        sa.ForeignKeyConstraint(
            ["org_report_id"], ["org_reports.id"], name=op.f("fk_post_changes_org_report_id_org_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_changes")),
    )
    with op.batch_alter_table("post_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_changes_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_post_changes_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index("ix_post_changes_holding_state", ["holding_id", "state"], unique=False)


def downgrade() -> None:
    op.drop_table("post_changes")
