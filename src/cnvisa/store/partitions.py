"""Monthly partitions of the tables that grow without bound (issue 14; migration 0028; docs/operations.md).

PostgreSQL only (declarative partitioning, RANGE by month); on SQLite these tables stay plain tables.

- ``audit_events`` by ``at`` (the event's instant), ``accommodation_registrations`` by ``registered_from`` (the
  Beijing date the stay began, Law Art 39). Months are **Asia/Shanghai** calendar months: the platform shows
  every date in Beijing time and an office asks for "the audit of March" in its own calendar. China keeps no
  summer time, so a month of an instant column begins at 16:00 UTC on the last day of the month before
  (``'2026-12-01 00:00:00+08:00'``); a month of a date column begins on its first day.
- Why ``registered_from`` and not ``recorded_at``: a unique key of a partitioned table must hold the partition
  key, and the hotel's stay key (organisation, stay reference) is what makes a stay sent twice the same stay.
  With ``registered_from`` the key (organisation, stay reference, first day) still catches two reports of one
  stay racing (same check-in day); with ``recorded_at`` two racing reports differ by microseconds and would both
  be written. The police's and hotel's day views select by ``registered_from`` and read one partition.
- Each table has a ``DEFAULT`` partition: a row whose month has no partition yet (a test clock in 2031, a
  stay dated before the oldest month) lands there, never an error. Creating a month moves such rows out of the
  default into the new partition (``ensure_month``), in the same transaction.
- The worker's ``ensure_partitions`` job (``cnvisa.worker.registry``) creates the current month and the next
  ``AHEAD`` months each day, and the month of any row waiting in the DEFAULT partition: idempotent (a month
  whose partition exists is skipped) and serialised by an advisory lock. A new partition is made apart and
  ATTACHed (not ``CREATE TABLE … PARTITION OF``), which locks the parent only against other DDL (SHARE UPDATE
  EXCLUSIVE), not against inserts; only a row bound for the DEFAULT partition waits while it is checked (an
  empty one: milliseconds).
- Nothing is dropped by the platform on its own: ``drop_before`` is called only by the operator's command
  (``cnvisa db partitions drop``) and refuses a month still inside the table's minimum retention."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, text


@dataclass(frozen=True)
class Partitioned:
    table: str
    column: str
    instant: bool
    """True: a ``timestamptz`` column (months begin at Beijing midnight); False: a ``date`` column."""
    min_retention_months: int
    """The platform refuses to drop a month younger than this (0: no statutory minimum known; office rule)."""
    retention: str
    """The rule, as docs/operations.md states it."""


AUDIT_MIN_MONTHS: Final = 6
"""Cybersecurity Law Art 21 item (3): network logs kept no less than six months (MLPS level 3 audit)."""

TABLES: Final[tuple[Partitioned, ...]] = (
    Partitioned(
        "audit_events",
        "at",
        True,
        AUDIT_MIN_MONTHS,
        "at least 6 months (Cybersecurity Law Art 21(3)); longer when the office requires",
    ),
    Partitioned(
        "accommodation_registrations",
        "registered_from",
        False,
        0,
        "office rule: no statutory period in the seeds; kept until the operator drops a month",
    ),
)
BY_NAME: Final = {t.table: t for t in TABLES}

KEYS_BESIDE: Final = {
    "accommodation_registrations": """DELETE FROM hotel_stay_refs r WHERE r.registered_from < :before
        AND NOT EXISTS (SELECT 1 FROM accommodation_registrations a
                        WHERE a.id = r.registration_id AND a.registered_from = r.registered_from)""",
}
"""What goes with a dropped month in the plain tables beside a partitioned one: a hotel's stay references
(migration 0029) whose stays were dropped — a reference then names no stay, and one sent again is a new stay."""

PARTITION_KEYED: Final = frozenset(
    {"uq_audit_events_chain_position", "uq_accommodation_registrations_hotel_stay"}
)
"""The unique keys that hold the partition key on PostgreSQL (migration 0028), as the primary keys do."""

AHEAD: Final = 3
"""Months created ahead of the current one (the job runs daily: three months leave time to notice a failure)."""

LOCK_KEY: Final = 0x636E5061  # 'cnPa': one advisory lock for every partition change
_CHILD = re.compile(r"^(?:" + "|".join(t.table for t in TABLES) + r")_(?:y\d{4}m\d{2}|default)$")


def is_partition(name: str | None) -> bool:
    """A partition's table name (``audit_events_y2026m12``, ``…_default``): not a model's table."""
    return name is not None and _CHILD.match(name) is not None


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    i = month.year * 12 + month.month - 1 + n
    return dt.date(i // 12, i % 12 + 1, 1)


def months(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    m = month_of(first)
    while m <= last:
        yield m
        m = add_months(m, 1)


def partition_name(table: str, month: dt.date) -> str:
    return f"{table}_y{month.year:04d}m{month.month:02d}"


def bound(spec: Partitioned, month: dt.date) -> str:
    """The SQL literal of the month's first instant (Beijing midnight) or first day."""
    if spec.instant:
        return f"'{month.isoformat()} 00:00:00+08:00'::timestamptz"
    return f"'{month.isoformat()}'::date"


def month_sql(spec: Partitioned) -> str:
    """The SQL expression of a row's Beijing month (a ``date``)."""
    if spec.instant:
        return f"date_trunc('month', {spec.column} AT TIME ZONE 'Asia/Shanghai')::date"
    return f"date_trunc('month', {spec.column})::date"


def lock(conn: Connection) -> None:
    """Serialise partition changes (the job on two workers, the operator's command): until the transaction ends."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def partitions(conn: Connection, table: str) -> dict[str, str]:
    """The table's partitions: name -> bound (``FOR VALUES FROM (…) TO (…)`` or ``DEFAULT``)."""
    rows = conn.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(:t)"
        ),
        {"t": table},
    )
    return {r[0]: r[1] for r in rows}


def is_partitioned(conn: Connection, table: str) -> bool:
    kind = conn.execute(text("SELECT relkind::text FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table})
    return kind.scalar() == "p"


def ensure_month(conn: Connection, spec: Partitioned, month: dt.date, known: dict[str, str]) -> int | None:
    """Create the month's partition unless it exists (None); the rows of that month waiting in the default
    partition are moved into it. Returns how many rows moved."""
    name = partition_name(spec.table, month)
    if name in known:
        return None
    lo, hi = bound(spec, month), bound(spec, add_months(month, 1))
    conn.exec_driver_sql(f"CREATE TABLE {name} (LIKE {spec.table} INCLUDING DEFAULTS)")
    moved = 0
    default = f"{spec.table}_default"
    if default in known:
        moved = conn.exec_driver_sql(
            f"WITH moved AS (DELETE FROM {default} WHERE {spec.column} >= {lo} AND {spec.column} < {hi} "
            f"RETURNING *) INSERT INTO {name} SELECT * FROM moved"
        ).rowcount
    conn.exec_driver_sql(f"ALTER TABLE {spec.table} ATTACH PARTITION {name} FOR VALUES FROM ({lo}) TO ({hi})")
    known[name] = f"FOR VALUES FROM ({lo}) TO ({hi})"
    return max(moved, 0)


def ensure(conn: Connection, today: dt.date, ahead: int = AHEAD) -> dict[str, Any]:
    """The current Beijing month and the next ``ahead`` months of every partitioned table, and every month that
    has rows waiting in the DEFAULT partition (idempotent). A table that is not partitioned (SQLite, or before
    migration 0028) is left alone."""
    lock(conn)
    created: list[str] = []
    moved = 0
    for spec in TABLES:
        if not is_partitioned(conn, spec.table):
            continue
        known = partitions(conn, spec.table)
        wanted = set(months(month_of(today), add_months(month_of(today), ahead)))
        default = f"{spec.table}_default"
        if (
            default in known
        ):  # months left in DEFAULT (the job not run for a while, a clock far off) get theirs
            held = conn.execute(text(f"SELECT DISTINCT {month_sql(spec)} FROM {default}")).scalars()
            wanted.update(held)
        for month in sorted(wanted):
            n = ensure_month(conn, spec, month, known)
            if n is not None:
                created.append(partition_name(spec.table, month))
                moved += n
    return {"created": created, "moved_from_default": moved}


def drop_before(
    conn: Connection, table: str, before: dt.date, today: dt.date, *, dry_run: bool = False
) -> list[str]:
    """The operator's command: detach and drop the table's monthly partitions of months before ``before``
    (``dry_run``: only name them). Refused (``ValueError``) when ``before`` is later than the table's minimum
    retention allows."""
    spec = BY_NAME.get(table)
    if spec is None:
        raise ValueError(f"table: {table!r} is not partitioned by month (one of {', '.join(BY_NAME)})")
    if spec.instant:  # the audit chains
        raise ValueError(
            f"table: the months of {table} are not dropped by the platform: each hash chain is verified from its "
            "first event (cnvisa audit verify), and a dropped month would read as missing events; archive the "
            "whole database and detach by hand (docs/operations.md, Retention)"
        )
    before = month_of(before)
    latest = add_months(month_of(today), -spec.min_retention_months)
    if before > latest:
        raise ValueError(
            f"before: {table} keeps at least {spec.min_retention_months} months ({spec.retention}); "
            f"the latest allowed is {latest:%Y-%m}"
        )
    lock(conn)
    dropped: list[str] = []
    for name in sorted(partitions(conn, table)):
        month = re.fullmatch(rf"{table}_y(\d{{4}})m(\d{{2}})", name)
        if month is not None and dt.date(int(month[1]), int(month[2]), 1) < before:
            dropped.append(name)
            if dry_run:
                continue
            conn.exec_driver_sql(f"ALTER TABLE {table} DETACH PARTITION {name}")
            conn.exec_driver_sql(f"DROP TABLE {name}")
    if dropped and not dry_run and table in KEYS_BESIDE:
        conn.execute(text(KEYS_BESIDE[table]), {"before": before})
    return dropped
