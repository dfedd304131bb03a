"""police stations and their desks, the register's index for stays ended on a day, materials uploaded with a
port-visa request (issue 11 §1, §3; Law Art 20, Art 39)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 09:30:00

An expansion (docs/operations.md): three new tables and one index, nothing else touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    s = "police_stations"
    op.create_table(
        s,
        sa.Column("id", Id, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("office_id", Id, nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        _fk(s, "office_id", "offices"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{s}")),
        sa.UniqueConstraint("code", name=op.f(f"uq_{s}_code")),
    )
    d = "police_desks"
    op.create_table(
        d,
        sa.Column("id", Id, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("station_id", Id, nullable=False),
        sa.Column("assigned_at", TS, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _fk(d, "account_id", "accounts"),
        _fk(d, "station_id", "police_stations"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{d}")),
        sa.UniqueConstraint("account_id", name=op.f(f"uq_{d}_account_id")),
    )
    op.create_index("ix_police_desks_station", d, ["station_id"])
    # the police's possibly missing registrations: the stays of an area ended on a day (cases.accommodation.area)
    op.create_index(
        "ix_accommodation_registrations_until_area",
        "accommodation_registrations",
        ["registered_until", "division_code"],
    )
    f = "port_visa_files"
    op.create_table(
        f,
        sa.Column("id", Id, nullable=False),
        sa.Column("request_id", Id, nullable=False),
        sa.Column("material_code", sa.String(length=60), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
        sa.Column("uploaded_by", Id, nullable=True),
        _fk(f, "request_id", "port_visa_requests"),
        _fk(f, "uploaded_by", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{f}")),
    )
    op.create_index(op.f("ix_port_visa_files_request_id"), f, ["request_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_port_visa_files_request_id"), table_name="port_visa_files")
    op.drop_table("port_visa_files")
    op.drop_index("ix_accommodation_registrations_until_area", table_name="accommodation_registrations")
    op.drop_index("ix_police_desks_station", table_name="police_desks")
    op.drop_table("police_desks")
    op.drop_table("police_stations")
