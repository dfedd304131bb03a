"""Issue 14: what migration 0028 costs on a database that has rows — ``--events`` audit events and ``--stays``
accommodation registrations loaded by COPY at revision 0027 (the generators of benchmarks/growth_seed.py, over 24
Beijing months), then ``upgrade`` to 0028 timed, the rows counted by partition, then ``downgrade`` to 0027 timed.

    PYTHONPATH=src .venv/bin/python benchmarks/partition_migration.py --events 100000 --stays 100000

The database ``cnvisa_bench_partition_migrate`` is dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Iterator

import psycopg

sys.path.insert(0, os.path.dirname(__file__))
import growth_seed as g
from cnvisa.store.migrate import downgrade, upgrade

NAME = "cnvisa_bench_partition_migrate"


def _stays(n: int, people: int) -> Iterator[str]:
    for i in range(1, n + 1):
        d = (i - 1) * g.SPAN_DAYS // n
        day = g.DAYSTR[d + g.PAD]
        until = g.DAYSTR[d + g.PAD + 1 + i % 7]
        yield (
            f"{i}\t{g._mix(i, 9) % people + 1}\t\\N\tRoom {i % 400}, 1 Hotel Road\t310101\t{day}\t{until}\thotel\t"
            f"{g._ts(d, 600)}\t{g._ts(d, 480)}\t\\N\t1\tS{i:010d}\t\\N\t\\N\t{g._ts(d, 1920)}\tt\n"
        )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--stays", type=int, default=100_000)
    args = p.parse_args()
    dsn = g._dsn(NAME)
    url = dsn.replace("postgresql://", "postgresql+asyncpg://")
    with psycopg.connect(g.PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{NAME}"')
    try:
        upgrade(url, "0027")
        cases = max(1, args.events // 3)
        people = max(1, args.stays // 2)
        officers = {i: [1] for i in range(8)}  # no FK on audit_events: an account number only
        t = time.perf_counter()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO organisations (id, uscc, name, kind) VALUES (1, '91310000MA1FL0000X', 'Hotel', 'hotel')"
            )
        g._copy(
            dsn,
            "people",
            ["id", "surname", "given_names", "birth_date", "sex", "nationality", "created_at"],
            g._people(1, people + 1),
        )
        g._copy(dsn, "audit_events", g.AUDIT_COLUMNS, g._audit(list(range(16)), cases, 3, officers, {}))
        g._copy(
            dsn,
            "accommodation_registrations",
            [
                "id",
                "person_id",
                "travel_document_id",
                "address",
                "division_code",
                "registered_from",
                "registered_until",
                "registered_by",
                "recorded_at",
                "moved_in_at",
                "moved_out_at",
                "organisation_id",
                "stay_ref",
                "host_name",
                "recorded_by",
                "due_at",
                "on_time",
            ],
            _stays(args.stays, people),
        )
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                "SELECT setval(pg_get_serial_sequence('accommodation_registrations', 'id'), %s)",
                (args.stays,),
            )
            conn.execute("ANALYZE")
        loaded = time.perf_counter() - t
        t = time.perf_counter()
        upgrade(url, "0028")
        up = time.perf_counter() - t
        with psycopg.connect(dsn, autocommit=True) as conn:
            parts = conn.execute(
                "SELECT count(*) FROM pg_inherits WHERE inhparent IN "
                "('audit_events'::regclass, 'accommodation_registrations'::regclass)"
            ).fetchone()
            counts = [
                conn.execute(f"SELECT count(*) FROM {t}").fetchone()
                for t in ("audit_events", "accommodation_registrations")
            ]
        t = time.perf_counter()
        downgrade(url, "0027")
        down = time.perf_counter() - t
        print(
            json.dumps(
                {
                    "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "audit_events": counts[0][0] if counts[0] else None,
                    "accommodation_registrations": counts[1][0] if counts[1] else None,
                    "partitions": parts[0] if parts else None,
                    "load_seconds": round(loaded, 1),
                    "upgrade_0028_seconds": round(up, 1),
                    "downgrade_0027_seconds": round(down, 1),
                    "load_average": os.getloadavg(),
                },
                indent=1,
            )
        )
    finally:
        with psycopg.connect(g.PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


if __name__ == "__main__":
    main()
