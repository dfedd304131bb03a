"""the work-permit desk's queue in one ordered index range scan (issue 10 benchmarks): ix_joint_applications_desk_queue

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 09:00:00

At 1,000,000 cases with 100,000 joint applications the desk's queue read every open work-permit branch and every
joint application of the office, joined and sorted them (≈ 40 ms); with this partial index over the accepted joint
applications of an office by their service commitment's due it reads the first rows in order (≈ 3 ms, see
benchmarks/RESULTS.md and cnvisa.cases.queries.joint).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

DESK_QUEUE_PREDICATE = "state = 'accepted'"


def upgrade() -> None:
    with op.batch_alter_table("joint_applications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_joint_applications_desk_queue",
            ["window_office_id", "commitment_due", "id"],
            unique=False,
            postgresql_where=sa.text(DESK_QUEUE_PREDICATE),
            sqlite_where=sa.text(DESK_QUEUE_PREDICATE),
        )


def downgrade() -> None:
    with op.batch_alter_table("joint_applications", schema=None) as batch_op:
        batch_op.drop_index("ix_joint_applications_desk_queue")
