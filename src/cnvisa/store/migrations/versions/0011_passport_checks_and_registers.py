"""passport checks (passport not kept) and the registers of paper waived through shared records

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "passport_checks",
        sa.Column("id", Id, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("stage", sa.String(length=12), nullable=False),
        sa.Column("travel_document_id", Id, nullable=True),
        sa.Column("checked_by", Id, nullable=True),
        sa.Column("checked_at", TS, nullable=False),
        sa.Column("mrz_valid", sa.Boolean(), nullable=True),
        sa.Column("holder_matches", sa.Boolean(), nullable=True),
        sa.Column("mrz_result", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("retention_reason", sa.String(length=40), nullable=True),
        sa.Column("retention_note", sa.Text(), nullable=True),
        sa.Column("appointment_id", Id, nullable=True),
        _fk("passport_checks", "case_id", "cases"),
        _fk("passport_checks", "travel_document_id", "travel_documents"),
        _fk("passport_checks", "checked_by", "accounts"),
        _fk("passport_checks", "appointment_id", "appointments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passport_checks")),
    )
    with op.batch_alter_table("passport_checks", schema=None) as batch_op:
        batch_op.create_index("ix_passport_checks_case", ["case_id", "stage"], unique=False)

    op.create_table(
        "accommodation_registrations",
        sa.Column("id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("travel_document_id", Id, nullable=True),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("registered_from", sa.Date(), nullable=False),
        sa.Column("registered_until", sa.Date(), nullable=True),
        sa.Column("registered_by", sa.String(length=8), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        _fk("accommodation_registrations", "person_id", "people"),
        _fk("accommodation_registrations", "travel_document_id", "travel_documents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accommodation_registrations")),
    )
    with op.batch_alter_table("accommodation_registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_accommodation_registrations_person", ["person_id", "registered_from"], unique=False
        )

    op.create_table(
        "organisation_licences",
        sa.Column("id", Id, nullable=False),
        sa.Column("organisation_id", Id, nullable=True),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        _fk("organisation_licences", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_licences")),
        sa.UniqueConstraint("uscc", name="uq_organisation_licences_uscc"),
    )

    op.create_table(
        "office_papers",
        sa.Column("id", Id, nullable=False),
        sa.Column("office_id", Id, nullable=False),
        sa.Column("material_code", sa.String(length=60), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("matters", sa.JSON(), nullable=False),
        _fk("office_papers", "office_id", "offices"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_papers")),
        sa.UniqueConstraint("office_id", "material_code", name="uq_office_papers_material"),
    )

    op.create_table(
        "evidence_lookups",
        sa.Column("id", Id, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("material_code", sa.String(length=60), nullable=False),
        sa.Column("register", sa.String(length=24), nullable=False),
        sa.Column("query_key", sa.String(length=120), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("matched_fields", sa.JSON(), nullable=False),
        sa.Column("mismatch_reason", sa.Text(), nullable=True),
        sa.Column("record_sha256", sa.String(length=64), nullable=True),
        sa.Column("looked_up_by", Id, nullable=True),
        sa.Column("looked_up_at", TS, nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        _fk("evidence_lookups", "case_id", "cases"),
        _fk("evidence_lookups", "looked_up_by", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_lookups")),
    )
    with op.batch_alter_table("evidence_lookups", schema=None) as batch_op:
        batch_op.create_index("ix_evidence_lookups_case", ["case_id", "material_code"], unique=False)


def downgrade() -> None:
    for table in (
        "evidence_lookups",
        "office_papers",
        "organisation_licences",
        "accommodation_registrations",
        "passport_checks",
    ):
        op.drop_table(table)
