"""API tokens expire, are revoked with a time and record their last use; accounts record when they were switched
back on; public lookups are counted per address and minute (issue 13)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:30:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from cnvisa.store.instant import Instant

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TOKEN_DAYS = 90  # tokens issued before this revision expire 90 days after they were created (the default)


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active_since", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table(
        "api_tokens",
        sa.column("id", sa.Integer),
        sa.column("created_at", Instant()),
        sa.column("expires_at", Instant()),
    )
    conn = op.get_bind()
    for token_id, created in conn.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        conn.execute(
            tokens.update()
            .where(tokens.c.id == token_id)
            .values(expires_at=created + dt.timedelta(days=TOKEN_DAYS))
        )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index("ix_api_tokens_account_id", ["account_id"], unique=False)
    op.create_table(
        "request_counts",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "minute", name=op.f("pk_request_counts")),
    )
    op.create_index("ix_request_counts_minute", "request_counts", ["minute"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # counts of the last minute or two: not worth the write-ahead log (a crash empties the table)
        op.execute("ALTER TABLE request_counts SET UNLOGGED")


def downgrade() -> None:
    op.drop_table("request_counts")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_api_tokens_account_id")
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("active_since")
