"""every stored instant in UTC on SQLite too (issue 8): the rows the case core wrote in Beijing wall-clock time

SQLite keeps a datetime as text without an offset. Until 0005 the case core wrote some instants as Beijing
wall-clock time (the clock's own time) and the rest as UTC, and everything read them back as UTC: a notice issued
at 17:00 read as issued the next day. From 0005 the column type (cnvisa.store.instant) stores UTC on both
engines. PostgreSQL's timestamptz always kept the instant: nothing to convert there.

Converted (Beijing wall-clock -> UTC, 8 hours back; China has kept UTC+8 all year since 1992):
- columns only the case core's clock wrote: notices.issued_at, case_files.uploaded_at, verifications.recorded_at,
  appointments.created_at, idempotency.created_at;
- cases.created_at / updated_at and people.created_at, which the demo seed wrote in UTC and the case core in
  Beijing time: a value is converted when the audit event the same command wrote (in UTC, always) lies within a
  minute of it read as Beijing time — the case's own events for a case, ``register_person`` for a person.
Left as they are (already UTC): audit_events.at, cases.receipt_issued_at, verifications.scheduled_for,
org_reports.reported_at, identity_checks.at, web_sessions, signin_attempts, api_tokens.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ONLY_THE_CLOCK = (
    ("notices", "issued_at"),
    ("case_files", "uploaded_at"),
    ("verifications", "recorded_at"),
    ("appointments", "created_at"),
    ("idempotency", "created_at"),
)


def _shifted(column: str, hours: int) -> str:
    """``column`` moved by ``hours``, in SQLAlchemy's SQLite text (microseconds kept: SQLite's own
    arithmetic keeps only milliseconds, so the fraction is carried over as text)."""
    return f"strftime('%Y-%m-%d %H:%M:%S', {column}, '{hours:+d} hours') || substr({column}, 20)"


def _near(event_at: str, column: str, hours: int) -> str:
    """The audit event's instant lies within a minute of ``column`` moved by ``hours``."""
    return (
        f"{event_at} BETWEEN datetime({column}, '{hours:+d} hours', '-1 minute') "
        f"AND datetime({column}, '{hours:+d} hours', '+1 minute')"
    )


def _convert(hours: int) -> None:
    """Move the Beijing-time rows by ``hours``: -8 to UTC (upgrade); +8 back (downgrade, where ``_near``
    then finds the events at the stored instant itself, as the upgrade left it)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    probe = -8 if hours < 0 else 0
    for table, column in ONLY_THE_CLOCK:
        op.execute(f"UPDATE {table} SET {column} = {_shifted(column, hours)} WHERE {column} IS NOT NULL")
    for column in ("created_at", "updated_at"):
        op.execute(
            f"UPDATE cases SET {column} = {_shifted(column, hours)} WHERE EXISTS (SELECT 1 FROM audit_events e "
            f"WHERE e.case_id = cases.id AND {_near('e.at', 'cases.' + column, probe)})"
        )
    op.execute("CREATE TEMP TABLE registered AS SELECT at FROM audit_events WHERE action = 'register_person'")
    op.execute("CREATE INDEX temp.ix_registered_at ON registered (at)")
    op.execute(
        f"UPDATE people SET created_at = {_shifted('created_at', hours)} WHERE EXISTS (SELECT 1 FROM registered r "
        f"WHERE {_near('r.at', 'people.created_at', probe)})"
    )
    op.execute("DROP TABLE temp.registered")


def upgrade() -> None:
    _convert(-8)


def downgrade() -> None:
    _convert(+8)
