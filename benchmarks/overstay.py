"""The daily sweep of illegal residence (issue 12 "Shown by": ≤ 5 s over 5,000,000 stays on PostgreSQL) —
``cnvisa.cases.queries.overstay.illegal_residence``, the national list and one office's.

    PYTHONPATH=src .venv/bin/python benchmarks/overstay.py build --people 5000000   # fresh database (minutes)
    PYTHONPATH=src .venv/bin/python benchmarks/overstay.py run [--rounds 5]          # times the sweep on it
    PYTHONPATH=src .venv/bin/python benchmarks/overstay.py run --full                # the full computation
    PYTHONPATH=src .venv/bin/python benchmarks/overstay.py drop

The data (bulk SQL with generate_series, benchmark data, not the demo): N people, each entered once on a visa
(stay 30/60/90 days, one in seven extended by 30) between 1 and 120 days before the day swept; 70 % also hold a
residence permit ending between 5 days before it and 394 days after, 1 % a void visa, 5 % have left again, 2 %
entered visa-free; one accommodation registration in three, in Shanghai (310115) or Beijing (110105). About
7 % of those in China are then past their last lawful day — far more than life, so the list is not trivially
short. Movements, holdings and
registrations are what the sweep reads; cases (receipts) are left empty here — their join is by an indexed
person_id like the others. PostgreSQL: postgresql://postgres@127.0.0.1:5432 (``CNVISA_BENCH_PG_ADMIN``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import time

import asyncpg
from sqlalchemy import select

from cnvisa.cases.queries.overstay import illegal_residence
from cnvisa.cases.queries.presence import ensure_fresh
from cnvisa.store.db import make_engine, sessionmaker
from cnvisa.store.migrate import upgrade
from cnvisa.store.tables import Office

PG_ADMIN = os.environ.get("CNVISA_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
DB = "cnvisa_bench_overstay"
ON = dt.date(2026, 3, 15)


def _url(name: str, driver: str = "postgresql+asyncpg") -> str:
    return f"{PG_ADMIN.rsplit('/', 1)[0].replace('postgresql', driver, 1)}/{name}"


async def build(people: int) -> None:
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{DB}"')
    await admin.close()
    await asyncio.to_thread(upgrade, _url(DB))
    conn = await asyncpg.connect(_url(DB, "postgresql"))
    started = time.perf_counter()
    on = ON
    await conn.execute(
        """INSERT INTO offices (code, name_zh, name_en, level, region, opening_hours, slot_minutes, slot_capacity)
           VALUES ('SH01', '上海', 'Shanghai', 'provincial', '310000', '{}', 30, 4),
                  ('BJ01', '北京', 'Beijing', 'provincial', '110000', '{}', 30, 4)"""
    )
    await conn.execute(
        """INSERT INTO people (id, surname, given_names, birth_date, sex, nationality, created_at)
           SELECT g, 'P' || g, 'X', DATE '1980-01-01', 'F', 'DEU', now() FROM generate_series(1, $1) g""",
        people,
    )
    # one visa each (1 % void); entry between 1 and 400 days before the day swept
    await conn.execute(
        """INSERT INTO holdings (id, person_id, kind, number, category, entries, entries_used, valid_from,
                                 valid_until, stay_days, extended_days, annotations, status)
           SELECT g, g, 'visa', 'V' || g, 'M', '1', 1, $2::date - 500, $2::date + 500,
                  (ARRAY[30, 60, 90])[1 + g % 3], CASE WHEN g % 7 = 0 THEN 30 ELSE 0 END, '[]',
                  CASE WHEN g % 100 = 0 THEN 'void' ELSE 'valid' END
           FROM generate_series(1, $1) g""",
        people,
        on,
    )
    await conn.execute(
        """INSERT INTO movements (person_id, direction, "on", port, holding_id, visa_free_programme)
           SELECT g, 'entry', $2::date - (1 + (g::bigint * 7919) % 120)::int, 'PVG',
                  CASE WHEN g % 50 = 1 THEN NULL ELSE g END,
                  CASE WHEN g % 50 = 1 THEN 'transit_240h' ELSE NULL END
           FROM generate_series(1, $1) g""",
        people,
        on,
    )
    await conn.execute(
        """INSERT INTO movements (person_id, direction, "on", port)
           SELECT g, 'exit', $2::date - ((g::bigint * 7919) % 120)::int + 2, 'PVG'
           FROM generate_series(1, $1) g WHERE g % 20 = 3""",
        people,
        on,
    )
    await conn.execute(
        """INSERT INTO holdings (id, person_id, kind, number, category, entries_used, valid_from, valid_until,
                                 extended_days, annotations, status)
           SELECT $1 + g, g, 'residence_permit', 'R' || g, 'work', 0, $2::date - 400,
                  $2::date + ((g::bigint * 104729) % 400 - 5)::int, 0, '[]', 'valid'
           FROM generate_series(1, $1) g WHERE g % 10 < 7""",
        people,
        on,
    )
    await conn.execute(
        """INSERT INTO accommodation_registrations (person_id, address, division_code, registered_from,
                                                   registered_until, registered_by, recorded_at)
           SELECT g, 'addr', CASE WHEN g % 2 = 0 THEN '310115' ELSE '110105' END, $2::date - 300, NULL,
                  'hotel', now()
           FROM generate_series(1, $1) g WHERE g % 3 = 0""",
        people,
        on,
    )
    for seq in ("people_id_seq", "holdings_id_seq"):
        await conn.execute(f"SELECT setval('{seq}', (SELECT max(id) FROM {seq.removesuffix('_id_seq')}))")
    await conn.execute("ANALYZE")
    await conn.close()
    print(f"built {people:,} people in {time.perf_counter() - started:.1f} s")


async def run(rounds: int, full: bool) -> None:
    """The sweep of the day (``current``: the maintained presence rows, rebuilt first when stale — the build writes
    with SQL, so the first round after a build rebuilds them and is timed apart) or, ``full``, the computation
    from every movement and holding."""
    engine = make_engine(_url(DB))
    sessions = sessionmaker(engine)
    async with sessions() as s:
        sh01 = (await s.execute(select(Office.id).where(Office.code == "SH01"))).scalar_one()
    if not full:
        async with sessions() as s, s.begin():
            t = time.perf_counter()
            rebuilt = await ensure_fresh(s, dt.datetime.now(dt.UTC))
        print(f"presence rows {'rebuilt' if rebuilt else 'fresh'} in {time.perf_counter() - t:.1f} s")
    for label, office in (("national", None), ("SH01", sh01)):
        times, found = [], 0
        for _ in range(rounds):
            async with sessions() as s, s.begin():
                t = time.perf_counter()
                found = len(await illegal_residence(s, ON, office_id=office, current=not full))
                times.append(time.perf_counter() - t)
        print(
            f"{label}: {found:,} found; seconds min {min(times):.2f} median {statistics.median(times):.2f} "
            f"max {max(times):.2f} ({rounds} rounds; load {os.getloadavg()[0]:.1f})"
        )
    await engine.dispose()


async def drop() -> None:
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    await admin.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--people", type=int, default=5_000_000)
    r = sub.add_parser("run")
    r.add_argument("--rounds", type=int, default=5)
    r.add_argument("--full", action="store_true", help="the full computation, not the presence rows")
    sub.add_parser("drop")
    args = ap.parse_args()
    if args.cmd == "build":
        asyncio.run(build(args.people))
    elif args.cmd == "run":
        asyncio.run(run(args.rounds, args.full))
    else:
        asyncio.run(drop())


if __name__ == "__main__":
    main()
