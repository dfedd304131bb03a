"""joint applications (one-stop work permit + work-type residence permit): the parent, the work-permit
branch and work permits; the residence branch is an ordinary case

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


ROLE_COLUMNS = (("accounts", False), ("audit_events", False), ("idempotency", True))
"""Columns holding a role: widened for ``work_permit_officer`` (19 characters)."""


def upgrade() -> None:
    for table, nullable in ROLE_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "role",
                existing_type=sa.String(length=16),
                type_=sa.String(length=24),
                existing_nullable=nullable,
            )
    op.create_table(
        "joint_applications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "employer_organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("window_office_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("work_permit", sa.JSON(), nullable=False),
        sa.Column(
            "submitter_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("jurisdiction", sa.String(length=40), nullable=True),
        sa.Column("commitment_working_days", sa.Integer(), nullable=True),
        sa.Column("commitment_due", sa.Date(), nullable=True),
        sa.Column("commitment_source", sa.Text(), nullable=True),
        sa.Column("law_version", sa.String(length=80), nullable=True),
        sa.Column("calendar_version", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_joint_applications_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["employer_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_joint_applications_employer_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_joint_applications_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["submitter_account_id"],
            ["accounts.id"],
            name=op.f("fk_joint_applications_submitter_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["window_office_id"], ["offices.id"], name=op.f("fk_joint_applications_window_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_applications")),
        sa.UniqueConstraint("case_id", name=op.f("uq_joint_applications_case_id")),
        sa.UniqueConstraint("number", name=op.f("uq_joint_applications_number")),
    )
    with op.batch_alter_table("joint_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_joint_applications_employer_organisation_id"),
            ["employer_organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_joint_applications_office_state", ["window_office_id", "state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_joint_applications_person_id"), ["person_id"], unique=False)

    op.create_table(
        "work_permit_branches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("joint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("statutory_due", sa.Date(), nullable=True),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("decision", sa.String(length=12), nullable=True),
        sa.Column("grounds", sa.JSON(), nullable=False),
        sa.Column("external_reference", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_via", sa.String(length=10), nullable=True),
        sa.Column("work_permit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["joint_id"],
            ["joint_applications.id"],
            name=op.f("fk_work_permit_branches_joint_id_joint_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_permit_branches")),
        sa.UniqueConstraint("joint_id", name=op.f("uq_work_permit_branches_joint_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_work_permit_branches_reference")),
    )
    with op.batch_alter_table("work_permit_branches", schema=None) as batch_op:
        batch_op.create_index("ix_work_permit_branches_state_due", ["state", "statutory_due"], unique=False)

    op.create_table(
        "work_permits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category", sa.String(length=1), nullable=False),
        sa.Column(
            "employer_organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.String(length=200), nullable=False),
        sa.Column("work_region", sa.String(length=6), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("branch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["work_permit_branches.id"],
            name=op.f("fk_work_permits_branch_id_work_permit_branches"),
        ),
        sa.ForeignKeyConstraint(
            ["employer_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_work_permits_employer_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_work_permits_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_permits")),
        sa.UniqueConstraint("branch_id", name=op.f("uq_work_permits_branch_id")),
        sa.UniqueConstraint("number", name=op.f("uq_work_permits_number")),
    )
    with op.batch_alter_table("work_permits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_permits_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("work_permits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_permits_person_id"))

    op.drop_table("work_permits")
    with op.batch_alter_table("work_permit_branches", schema=None) as batch_op:
        batch_op.drop_index("ix_work_permit_branches_state_due")

    op.drop_table("work_permit_branches")
    with op.batch_alter_table("joint_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_joint_applications_person_id"))
        batch_op.drop_index("ix_joint_applications_office_state")
        batch_op.drop_index(batch_op.f("ix_joint_applications_employer_organisation_id"))

    op.drop_table("joint_applications")
    for table, nullable in ROLE_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "role",
                existing_type=sa.String(length=24),
                type_=sa.String(length=16),
                existing_nullable=nullable,
            )
