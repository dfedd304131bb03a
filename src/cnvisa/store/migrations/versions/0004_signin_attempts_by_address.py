"""sign-in attempts looked up by client address and time (the per-address limit, counted across workers)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_signin_attempts_ip_at", "signin_attempts", ["ip", "at"])


def downgrade() -> None:
    op.drop_index("ix_signin_attempts_ip_at", table_name="signin_attempts")
