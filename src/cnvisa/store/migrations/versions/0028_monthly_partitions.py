"""audit events and hotel-scale stays partitioned by month on PostgreSQL (issue 14, cnvisa.store.partitions)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 16:00:00

PostgreSQL: ``audit_events`` becomes a table partitioned by RANGE on ``at`` and ``accommodation_registrations``
one partitioned on ``registered_from``, by Asia/Shanghai calendar month (``cnvisa.store.partitions`` says why
these columns and these months), each with a DEFAULT partition. The rows are kept: the old table is renamed,
a partitioned one made with the same columns, defaults and sequences, a partition made for every month that holds
rows and for the current month and the next three, the rows copied, the keys, indexes and foreign keys made
again and the old table dropped — in the migration's one transaction (a failure leaves the old table as it
was). The copy rewrites the tables, locked meanwhile: 100,000 audit events and 100,000 stays took 7 s on two
loaded cores (benchmarks/partition_migration.py; benchmarks/RESULTS.md) — plan a window for a large audit log.

The keys hold the partition key, as PostgreSQL requires of a partitioned table's unique keys:
``audit_events`` (seq, at) and (chain, chain_seq, at); ``accommodation_registrations`` (id, registered_from) and
(organisation_id, stay_ref, registered_from). ``seq`` and ``id`` still come from their sequences, each number once;
a chain position is still taken once (its head is locked by the appender, cnvisa.cases.audit) and a second event
at one position fails ``cnvisa audit verify``; a stay sent twice is still found by (organisation, stay reference)
before writing (cnvisa.cases.accommodation.hotel), the key catching two reports racing with the same check-in day.
No foreign key points at either table; their own foreign keys are made again as they were.

SQLite: nothing changes (plain tables). Downgrade: the plain tables again, rows kept; it fails, naming the
duplicated key, if two stays of one hotel carry one stay reference with different check-in days.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from cnvisa.store import partitions as parts

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

PLAIN_KEYS = {
    "audit_events": ("PRIMARY KEY (seq)", "UNIQUE (chain, chain_seq)"),
    "accommodation_registrations": ("PRIMARY KEY (id)", "UNIQUE (organisation_id, stay_ref)"),
}
PARTITIONED_KEYS = {
    "audit_events": ("PRIMARY KEY (seq, at)", "UNIQUE (chain, chain_seq, at)"),
    "accommodation_registrations": (
        "PRIMARY KEY (id, registered_from)",
        "UNIQUE (organisation_id, stay_ref, registered_from)",
    ),
}
KEY_NAMES = {
    "audit_events": ("pk_audit_events", "uq_audit_events_chain_position"),
    "accommodation_registrations": (
        "pk_accommodation_registrations",
        "uq_accommodation_registrations_hotel_stay",
    ),
}


def _rows(sql: str, **params: object) -> list[Any]:
    return list(op.get_bind().execute(sa.text(sql), params).all())


def _rebuild(spec: parts.Partitioned, partitioned: bool) -> None:
    """The table made again, partitioned by month or plain, with its rows, keys, indexes and foreign keys."""
    t, old = spec.table, f"{spec.table}_unpartitioned"
    fks = _rows(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(:t) "
        "AND contype = 'f' ORDER BY conname",
        t=t,
    )
    keys = _rows(
        "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(:t) AND contype IN ('p', 'u', 'f')",
        t=t,
    )
    indexes = _rows(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = :t "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(:t)) "
        "ORDER BY indexname",
        t=t,
    )
    owned = _rows(
        "SELECT s.relname, a.attname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
        "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
        "WHERE d.refobjid = to_regclass(:t) AND d.deptype = 'a'",
        t=t,
    )
    for (name,) in keys:
        op.execute(f"ALTER TABLE {t} DROP CONSTRAINT {name}")
    for name, _ in indexes:
        op.execute(f"DROP INDEX {name}")
    op.execute(f"ALTER TABLE {t} RENAME TO {old}")
    if partitioned:
        op.execute(f"CREATE TABLE {t} (LIKE {old} INCLUDING DEFAULTS) PARTITION BY RANGE ({spec.column})")
        op.execute(f"CREATE TABLE {t}_default PARTITION OF {t} DEFAULT")
        today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
        held = [r[0] for r in _rows(f"SELECT DISTINCT {parts.month_sql(spec)} FROM {old}")]
        ahead = parts.months(today, parts.add_months(parts.month_of(today), parts.AHEAD))
        known = {f"{t}_default": "DEFAULT"}
        for month in sorted({*held, *ahead}):
            parts.ensure_month(op.get_bind(), spec, month, known)
    else:
        op.execute(f"CREATE TABLE {t} (LIKE {old} INCLUDING DEFAULTS)")
    op.execute(f"INSERT INTO {t} SELECT * FROM {old}")
    for seq, column in owned:
        op.execute(f"ALTER SEQUENCE {seq} OWNED BY {t}.{column}")
    op.execute(f"DROP TABLE {old}")
    new_keys: tuple[str, ...] = PARTITIONED_KEYS[t] if partitioned else PLAIN_KEYS[t]
    for name, key in zip(KEY_NAMES[t], new_keys, strict=True):
        op.execute(f"ALTER TABLE {t} ADD CONSTRAINT {name} {key}")
    for _, definition in indexes:
        op.execute(str(definition))
    for name, definition in fks:
        op.execute(f"ALTER TABLE {t} ADD CONSTRAINT {name} {definition}")
    op.execute(f"ANALYZE {t}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for spec in parts.TABLES:
        _rebuild(spec, partitioned=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for spec in parts.TABLES:
        _rebuild(spec, partitioned=False)
