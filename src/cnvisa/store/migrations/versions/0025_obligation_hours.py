"""obligations in hours (issue 12, Law Art 39 para 2): the instant a 24-hour duty ends

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 13:20:00

An expansion (docs/operations.md): one nullable column, written only by the new code; older rows keep NULL
(their duties are counted in days).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("obligations", schema=None) as b:
        b.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("obligations", schema=None) as b:
        b.drop_column("due_at")
