"""port-visa requests (issue 11 §1; Law Art 20): the requests filed in advance, the passport and face checks at
the port, and which port each port-visa officer's desk serves

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 06:00:00

An expansion (docs/operations.md): three new tables, nothing else touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    t = "port_visa_requests"
    op.create_table(
        t,
        sa.Column("id", Id, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("travel_document_id", Id, nullable=False),
        sa.Column("organisation_id", Id, nullable=True),
        sa.Column("filed_by", Id, nullable=True),
        sa.Column("filed_role", sa.String(length=24), nullable=False),
        sa.Column("filed_at", TS, nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("urgency", sa.Text(), nullable=False),
        sa.Column("inviter_kind", sa.String(length=24), nullable=False),
        sa.Column("port", sa.String(length=64), nullable=False),
        sa.Column("arrival_at", TS, nullable=False),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("flight", sa.String(length=12), nullable=False),
        sa.Column("stay_days", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=4), nullable=True),
        sa.Column("lapses_after", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("assessment", sa.JSON(), nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("decided_by", Id, nullable=True),
        sa.Column("refusal", sa.JSON(), nullable=True),
        sa.Column("issued_at", TS, nullable=True),
        sa.Column("holding_id", Id, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        _fk(t, "person_id", "people"),
        _fk(t, "travel_document_id", "travel_documents"),
        _fk(t, "organisation_id", "organisations"),
        _fk(t, "filed_by", "accounts"),
        _fk(t, "decided_by", "accounts"),
        _fk(t, "holding_id", "holdings"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("number", name=op.f(f"uq_{t}_number")),
    )
    op.create_index("ix_port_visa_requests_desk", t, ["port", "state", "arrival_at"])
    op.create_index("ix_port_visa_requests_person", t, ["person_id"])
    op.create_index("ix_port_visa_requests_organisation", t, ["organisation_id"])
    op.create_index("ix_port_visa_requests_lapse", t, ["state", "lapses_after"])

    c = "port_visa_checks"
    op.create_table(
        c,
        sa.Column("id", Id, nullable=False),
        sa.Column("request_id", Id, nullable=False),
        sa.Column("checked_by", Id, nullable=True),
        sa.Column("checked_at", TS, nullable=False),
        sa.Column("passport_number", sa.String(length=20), nullable=False),
        sa.Column("number_matches", sa.Boolean(), nullable=False),
        sa.Column("mrz_valid", sa.Boolean(), nullable=True),
        sa.Column("holder_matches", sa.Boolean(), nullable=True),
        sa.Column("face_matches", sa.Boolean(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        _fk(c, "request_id", "port_visa_requests"),
        _fk(c, "checked_by", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{c}")),
    )
    op.create_index(op.f("ix_port_visa_checks_request_id"), c, ["request_id"])

    d = "port_visa_desks"
    op.create_table(
        d,
        sa.Column("id", Id, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("port", sa.String(length=64), nullable=False),
        sa.Column("assigned_at", TS, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _fk(d, "account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{d}")),
        sa.UniqueConstraint("account_id", name=op.f(f"uq_{d}_account_id")),
    )


def downgrade() -> None:
    op.drop_table("port_visa_desks")
    op.drop_index(op.f("ix_port_visa_checks_request_id"), table_name="port_visa_checks")
    op.drop_table("port_visa_checks")
    for name in ("lapse", "organisation", "person", "desk"):
        op.drop_index(f"ix_port_visa_requests_{name}", table_name="port_visa_requests")
    op.drop_table("port_visa_requests")
