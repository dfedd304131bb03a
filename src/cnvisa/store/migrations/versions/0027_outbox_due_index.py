"""the outbox's due rows in one ordered index range scan (issue 12 benchmarks): ix_notifications_due_open

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 13:30:00

A delivery pass claims the oldest due rows: ``state IN ('pending', 'sending') AND next_attempt_at <= now ORDER BY
next_attempt_at, id LIMIT n``. The index on (state, next_attempt_at) could not give that order over two states
(nor by id among the rows a sweep wrote at one instant), so every pass read and sorted every due row: 180 ms a
pass at 400,000 rows, seconds at millions. This partial index over the rows still to deliver, by
(next_attempt_at, id), answers a pass with its first rows (0.2 ms), and it holds only the rows not yet delivered,
however many were.

Replaces ix_notifications_due (used by nothing else). An expansion for the platform's code (an index, nothing its
code reads by name); dropping the old index only slows a server still running the old code's claim until it is
rolled. Large tables: build the new index by hand with ``CREATE INDEX CONCURRENTLY`` before upgrading (the
migration then finds it; docs/operations.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

DUE_PREDICATE = "state IN ('pending', 'sending')"


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_due_open",
            ["next_attempt_at", "id"],
            unique=False,
            postgresql_where=sa.text(DUE_PREDICATE),
            sqlite_where=sa.text(DUE_PREDICATE),
            if_not_exists=True,
        )
        batch_op.drop_index("ix_notifications_due")


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_due", ["state", "next_attempt_at"], unique=False)
        batch_op.drop_index("ix_notifications_due_open")
