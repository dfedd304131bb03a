"""a hotel's stay reference unique per hotel again on PostgreSQL: hotel_stay_refs (issue 11 §3)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 22:30:00

Since 0028 the registrations are partitioned by month on PostgreSQL, and a partitioned table's unique keys must
hold the partition key: (organisation_id, stay_ref, registered_from) let two reports racing with one stay
reference and different check-in days both be stored. This plain table keys (organisation_id, stay_ref) alone;
the hotel's report writes its row in the same statement as the stay (cnvisa.cases.accommodation), so the second
of two racing reports fails on it, is read again and answers as a reference sent again does. SQLite: the same
table (one schema on both engines; the registrations keep their plain unique key there).

The rows of the stays already reported are written from the registrations (the oldest stay of a reference where
the race left two). An expansion: a server still running 0028's code writes stays without their row here, so
upgrade every app server before hotels report on the new schema, as docs/operations.md says for expansions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO hotel_stay_refs (organisation_id, stay_ref, registration_id, registered_from)
SELECT a.organisation_id, a.stay_ref, a.id, a.registered_from
FROM accommodation_registrations a
WHERE a.organisation_id IS NOT NULL AND a.stay_ref IS NOT NULL
  AND a.id = (SELECT min(b.id) FROM accommodation_registrations b
              WHERE b.organisation_id = a.organisation_id AND b.stay_ref = a.stay_ref)
"""


def upgrade() -> None:
    op.create_table(
        "hotel_stay_refs",
        sa.Column("organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("stay_ref", sa.String(length=64), nullable=False),
        sa.Column("registration_id", sa.BigInteger(), nullable=False),
        sa.Column("registered_from", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name="fk_hotel_stay_refs_organisation_id_organisations"
        ),
        sa.PrimaryKeyConstraint("organisation_id", "stay_ref", name="pk_hotel_stay_refs"),
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("hotel_stay_refs")
