"""accommodation stays as reported (issue 11 §3): moved in/out instants, the hotel and its stay reference
(unique: a report sent again is the same stay), the host, who recorded it, when it was due and whether on time

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 17:10:00

An expansion (docs/operations.md): new nullable columns, one index and one unique constraint on a table the
running code only reads by person.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # as the ids they refer to (cnvisa.store.tables.Id)


def upgrade() -> None:
    with op.batch_alter_table("accommodation_registrations", schema=None) as b:
        b.add_column(sa.Column("moved_in_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("moved_out_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("organisation_id", ID, nullable=True))
        b.add_column(sa.Column("stay_ref", sa.String(length=64), nullable=True))
        b.add_column(sa.Column("host_name", sa.String(length=120), nullable=True))
        b.add_column(sa.Column("recorded_by", ID, nullable=True))
        b.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("on_time", sa.Boolean(), nullable=True))
        b.create_foreign_key(
            "fk_accommodation_registrations_organisation_id_organisations",
            "organisations",
            ["organisation_id"],
            ["id"],
        )
        b.create_foreign_key(
            "fk_accommodation_registrations_recorded_by_accounts", "accounts", ["recorded_by"], ["id"]
        )
        b.create_index("ix_accommodation_registrations_day_area", ["registered_from", "division_code"])
        b.create_unique_constraint(
            "uq_accommodation_registrations_hotel_stay", ["organisation_id", "stay_ref"]
        )


def downgrade() -> None:
    with op.batch_alter_table("accommodation_registrations", schema=None) as b:
        b.drop_constraint("uq_accommodation_registrations_hotel_stay", type_="unique")
        b.drop_index("ix_accommodation_registrations_day_area")
        b.drop_constraint("fk_accommodation_registrations_recorded_by_accounts", type_="foreignkey")
        b.drop_constraint("fk_accommodation_registrations_organisation_id_organisations", type_="foreignkey")
        for c in ("on_time", "due_at", "recorded_by", "host_name", "stay_ref", "organisation_id"):
            b.drop_column(c)
        b.drop_column("moved_out_at")
        b.drop_column("moved_in_at")
