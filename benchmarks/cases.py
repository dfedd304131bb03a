"""Case-core speed (issue 3): submissions per second through the service layer (with audit) on PostgreSQL and
SQLite; the officer queue (next 50 by deadline in one office) at 1,000,000 stored cases on PostgreSQL; and
`cnvisa demo seed --cases 1000000` on PostgreSQL.

    .venv/bin/python benchmarks/cases.py submissions --engine postgresql --seconds 20
    .venv/bin/python benchmarks/cases.py submissions --engine sqlite --seconds 20
    .venv/bin/python benchmarks/cases.py queue --cases 1000000       # seeds a fresh PostgreSQL database first

PostgreSQL: postgresql://postgres@127.0.0.1:5432 (override with CNVISA_BENCH_PG_ADMIN). Load runs on this machine
only. Figures go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import statistics
import tempfile
import time
import uuid

import asyncpg
from sqlalchemy import insert

from cnvisa.cases.clock import ManualClock
from cnvisa.cases.records import FileIn
from cnvisa.cases.service import Actor, CaseService
from cnvisa.cases.workflow import Role
from cnvisa.demo import seed
from cnvisa.store.db import make_engine, sessionmaker
from cnvisa.store.migrate import upgrade
from cnvisa.store.tables import Account

PG_ADMIN = os.environ.get("CNVISA_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PDF = b"%PDF-1.4\n% cnvisa benchmark\n" + b"0" * 2000


async def fresh_pg(name: str) -> str:
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


async def database(engine_name: str) -> str:
    if engine_name == "postgresql":
        url = await fresh_pg("cnvisa_bench_submit")
    else:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    await asyncio.to_thread(upgrade, url)
    return url


APP = {
    "entry_date": "2025-11-01",
    "visa": {"category": "L", "entries": "single", "valid_until": "2026-03-01", "stay_days": 30},
    "requested": {"extension_days": 30},
    "materials": ["application_form", "photo"],
}


async def _load(url: str, first: int, workers: int, start_at: float, seconds: float) -> list[float]:
    """One process: ``workers`` concurrent applicants, each applying (open + submit) in a loop."""
    engine = make_engine(url)
    service = CaseService(sessionmaker(engine), ManualClock(dt.date(2025, 11, 20)))
    latencies: list[float] = []
    await asyncio.sleep(max(0.0, start_at - time.time()))
    deadline = time.perf_counter() + seconds

    async def worker(w: int) -> None:
        actor = Actor(1000 + w, Role.APPLICANT, person_id=1 + w)
        i = 0
        while time.perf_counter() < deadline:
            i += 1
            t = time.perf_counter()
            await service.apply(
                actor,
                key=f"a-{w}-{i}-{uuid.uuid4().hex[:8]}",
                person_id=1 + w,
                office_id=1,
                matter="visa_extension",
                inputs=APP,
                files=[FileIn("passport", "passport.pdf", PDF), FileIn("itinerary", "plan.pdf", PDF)],
            )
            latencies.append(time.perf_counter() - t)

    await asyncio.gather(*(worker(first + w) for w in range(workers)))
    await engine.dispose()
    return latencies


def _process(args: tuple[str, int, int, float, float]) -> list[float]:
    return asyncio.run(_load(*args))


async def submissions(engine_name: str, seconds: float, workers: int, processes: int) -> dict[str, float]:
    url = await database(engine_name)
    engine = make_engine(url)
    total = workers * processes
    await seed(engine, cases=total * 2, seed_value=1)  # offices, organisations, people
    async with engine.begin() as conn:
        await conn.execute(
            insert(Account),
            [
                {
                    "id": 1000 + w,
                    "username": f"bench-applicant-{w}",
                    "display_name": f"Applicant {w}",
                    "role": "applicant",
                    "person_id": 1 + w,
                    "active": True,
                }
                for w in range(total)
            ],
        )
    await engine.dispose()
    start_at = time.time() + 2.0  # every process starts its clock together
    jobs = [(url, p * workers, workers, start_at, seconds) for p in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = await asyncio.to_thread(pool.map, _process, jobs)
    latencies = sorted(x for r in results for x in r)
    return {
        "processes": processes,
        "workers_per_process": workers,
        "submissions_per_s": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "submissions": len(latencies),
    }


async def queue(cases: int, seed_cases: bool) -> dict[str, float]:
    name = "cnvisa_bench_queue"
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    seed_seconds = float("nan")
    if seed_cases:
        url = await fresh_pg(name)
        await asyncio.to_thread(upgrade, url)
        engine = make_engine(url)
        t = time.perf_counter()
        await seed(engine, cases=cases, seed_value=1)
        seed_seconds = time.perf_counter() - t
        async with engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")
        await engine.dispose()
    engine = make_engine(url)
    service = CaseService(sessionmaker(engine), ManualClock(dt.date(2025, 11, 20)))
    for _ in range(20):
        await service.queue(1, 50)
    samples = []
    for i in range(300):
        t = time.perf_counter()
        rows = await service.queue(1 + i % 8, 50)
        samples.append(time.perf_counter() - t)
        assert len(rows) == 50
    await engine.dispose()
    samples.sort()
    return {
        "cases": cases,
        "seed_seconds": seed_seconds,
        "queue_median_ms": statistics.median(samples) * 1000,
        "queue_p95_ms": samples[int(len(samples) * 0.95)] * 1000,
        "queue_max_ms": samples[-1] * 1000,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("submissions")
    s.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    s.add_argument("--seconds", type=float, default=20)
    s.add_argument("--workers", type=int, default=16, help="concurrent applicants per process")
    s.add_argument("--processes", type=int, default=2, help="service processes (the platform runs 2 workers)")
    q = sub.add_parser("queue")
    q.add_argument("--cases", type=int, default=1_000_000)
    q.add_argument("--no-seed", action="store_true", help="reuse the database of the previous run")
    args = p.parse_args()
    if args.what == "submissions":
        result = asyncio.run(submissions(args.engine, args.seconds, args.workers, args.processes))
    else:
        result = asyncio.run(queue(args.cases, not args.no_seed))
    for k, v in result.items():
        print(f"{k:24s} {v:,.2f}")


if __name__ == "__main__":
    main()
