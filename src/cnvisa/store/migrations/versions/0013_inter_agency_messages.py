"""messages exchanged with other agencies (issue 10 §1): inter_agency_messages, agency_correlations

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "agency_correlations",
        sa.Column("correlation_id", sa.String(length=80), nullable=False),
        sa.Column("agency", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("remote_reference", sa.String(length=80), nullable=True),
        sa.Column("last_sequence_in", sa.Integer(), nullable=False),
        sa.Column("last_sequence_out", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("correlation_id", name=op.f("pk_agency_correlations")),
    )
    op.create_table(
        "inter_agency_messages",
        sa.Column("id", Id, nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("agency", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=80), nullable=False),
        sa.Column("correlation_id", sa.String(length=80), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("final_key", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inter_agency_messages")),
        sa.UniqueConstraint("direction", "agency", "final_key", name="uq_inter_agency_messages_final"),
    )
    with op.batch_alter_table("inter_agency_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inter_agency_messages_message", ["direction", "agency", "message_id"], unique=False
        )
        batch_op.create_index(
            "ix_inter_agency_messages_correlation", ["correlation_id", "sequence"], unique=False
        )


def downgrade() -> None:
    op.drop_table("inter_agency_messages")
    op.drop_table("agency_correlations")
