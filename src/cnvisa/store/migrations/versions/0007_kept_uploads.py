"""files the application form accepted while the form was refused, kept for its next submission

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "kept_uploads",
        sa.Column("id", Id, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("form_key", sa.String(length=80), nullable=False),
        sa.Column("material_code", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_kept_uploads_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kept_uploads")),
    )
    with op.batch_alter_table("kept_uploads", schema=None) as batch_op:
        batch_op.create_index("ix_kept_uploads_form", ["account_id", "form_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_kept_uploads_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("kept_uploads")
