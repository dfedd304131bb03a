"""Job-queue candidates for issue 12, measured side by side on PostgreSQL.

Compares procrastinate and pgqueuer (and a plain INSERT into an outbox table
as the floor: what the database itself costs) on the things issue 12 needs:

* ``txn``      -- a job enqueued inside the caller's own SQLAlchemy
                  ``AsyncSession`` transaction: commit -> one job, rollback -> none.
* ``enqueue``  -- enqueue throughput in the caller's transaction: one job per
                  transaction, one call per job (500 per transaction), and
                  batched (1,000 jobs per call and transaction).
* ``e2e``      -- end-to-end: N trivial jobs pre-enqueued, then two worker
                  processes (one per core) started; time until all are done.
* ``kill``     -- a worker SIGKILLed mid-job: how long until another worker
                  runs it again, how many times it started, how many effects.
* ``periodic`` -- a per-second periodic job scheduled by the queue with two
                  workers running: each tick must run once, not once per worker.

Each run creates a fresh database ``jq_bench_<lib>_<pid>`` on
``postgresql://postgres@127.0.0.1:5432`` (override with ``JQ_PG``) and drops it.

Reproduce (the libraries are NOT part of cnvisa's dependencies; install them
in a throwaway venv first)::

    python3 -m venv /tmp/jq-venv
    /tmp/jq-venv/bin/pip install procrastinate pgqueuer asyncpg \\
        'sqlalchemy[asyncio]' 'psycopg[binary]' psycopg_pool
    /tmp/jq-venv/bin/python benchmarks/jobqueue.py txn
    /tmp/jq-venv/bin/python benchmarks/jobqueue.py enqueue --n 100000
    /tmp/jq-venv/bin/python benchmarks/jobqueue.py e2e --n 20000
    /tmp/jq-venv/bin/python benchmarks/jobqueue.py kill
    /tmp/jq-venv/bin/python benchmarks/jobqueue.py periodic
    /tmp/jq-venv/bin/python benchmarks/jobqueue.py all --repeat 2   # A/B in turn

Every figure line is printed as JSON with the time (UTC) and the 1-minute load.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

PG = os.environ.get("JQ_PG", "postgresql://postgres@127.0.0.1:5432")
LIBS = ("procrastinate", "pgqueuer")

BUSINESS_DDL = [
    "CREATE TABLE IF NOT EXISTS obligation (id bigserial PRIMARY KEY, note text)",
    # effect: the job's visible result, idempotent by key (what 'happens once' means)
    "CREATE TABLE IF NOT EXISTS effect (key text PRIMARY KEY, at timestamptz DEFAULT now())",
    # attempt: every start of the job, committed before its work (survives a kill)
    "CREATE TABLE IF NOT EXISTS attempt (id bigserial PRIMARY KEY, key text, pid int,"
    " at timestamptz DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS tick (id bigserial PRIMARY KEY, fired text, pid int)",
    "CREATE TABLE IF NOT EXISTS outbox (id bigserial PRIMARY KEY, kind text, payload jsonb,"
    " due timestamptz DEFAULT now(), done boolean DEFAULT false)",
]


def stamp() -> dict:
    return {
        "utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "load1": round(os.getloadavg()[0], 2),
    }


def emit(**row) -> None:
    print(json.dumps({**stamp(), **row}), flush=True)


def dsn(db: str) -> str:
    return f"{PG}/{db}"


# --------------------------------------------------------------------------- #
# procrastinate
# --------------------------------------------------------------------------- #


def proc_app(db: str, stalled_after: float = 4.0):
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn(db)))

    @app.task(name="noop")
    async def noop(i: int) -> None:
        return None

    @app.task(
        name="slow_effect",
        retry=procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2),
    )
    async def slow_effect(key: str, seconds: float) -> None:
        await _slow_effect(db, key, seconds)

    # Stalled-job recovery is NOT automatic in procrastinate: a periodic task
    # asks for jobs in 'doing' whose worker stopped heart-beating and retries
    # them (procrastinate's documented recipe).
    @app.periodic(cron="* * * * * */1", periodic_id="retry_stalled")
    @app.task(name="retry_stalled", queueing_lock="retry_stalled", pass_context=True)
    async def retry_stalled(context, timestamp: int) -> None:
        jm = context.app.job_manager
        for job in await jm.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
            await jm.retry_job(job)

    @app.periodic(cron="* * * * * */1", periodic_id="tick")
    @app.task(name="tick", queueing_lock="tick")
    async def tick(timestamp: int) -> None:
        if os.environ.get("JQ_TICKS"):
            c = await asyncpg.connect(dsn(db))
            await c.execute("INSERT INTO tick (fired, pid) VALUES ($1, $2)", str(timestamp), os.getpid())
            await c.close()

    return app


async def proc_setup(db: str) -> None:
    app = proc_app(db)
    async with app.open_async():
        await app.schema_manager.apply_schema_async()


async def proc_worker(db: str, concurrency: int, stalled_after: float) -> None:
    app = proc_app(db, stalled_after)
    async with app.open_async():
        await app.run_worker_async(
            concurrency=concurrency,
            update_heartbeat_interval=1,
            stalled_worker_timeout=stalled_after,
            delete_jobs="successful",
            install_signal_handlers=True,
        )


def proc_engine(db: str):
    # procrastinate speaks psycopg 3: SQLAlchemy must use the psycopg dialect
    # so that the session's own connection can be handed to defer_async().
    return create_async_engine(f"postgresql+psycopg://{PG.split('://', 1)[1]}/{db}")


async def proc_raw(session: AsyncSession):
    conn = await session.connection()
    return (await conn.get_raw_connection()).driver_connection  # psycopg.AsyncConnection


async def proc_enqueue(app, session, kind: str, items: list[int]) -> None:
    raw = await proc_raw(session)
    task = app.tasks["noop"]
    if kind == "batch":
        await task.configure(connection=raw).batch_defer_async(*({"i": i} for i in items))
    else:
        for i in items:
            await task.configure(connection=raw).defer_async(i=i)


# --------------------------------------------------------------------------- #
# pgqueuer
# --------------------------------------------------------------------------- #


def pgq_engine(db: str):
    return create_async_engine(f"postgresql+asyncpg://{PG.split('://', 1)[1]}/{db}")


async def pgq_raw(session: AsyncSession):
    conn = await session.connection()
    return (await conn.get_raw_connection()).driver_connection  # asyncpg.Connection


async def pgq_setup(db: str) -> None:
    from pgqueuer import AsyncpgDriver, Queries

    c = await asyncpg.connect(dsn(db))
    await Queries(AsyncpgDriver(c)).install()
    await c.close()


async def pgq_enqueue(session, kind: str, items: list[int]) -> None:
    from pgqueuer import AsyncpgDriver, Queries

    q = Queries(AsyncpgDriver(await pgq_raw(session)))
    if kind == "batch":
        n = len(items)
        await q.enqueue(["noop"] * n, [str(i).encode() for i in items], [0] * n)
    else:
        for i in items:
            await q.enqueue("noop", str(i).encode())


async def pgq_worker(db: str, concurrency: int, stalled_after: float) -> None:
    from pgqueuer import PgQueuer
    from pgqueuer.executors import DatabaseRetryEntrypointExecutor

    conn = await asyncpg.connect(dsn(db))
    pgq = PgQueuer.from_asyncpg_connection(conn)

    @pgq.entrypoint("noop")
    async def noop(job) -> None:
        return None

    @pgq.entrypoint(
        "slow_effect",
        executor_factory=lambda p: DatabaseRetryEntrypointExecutor(parameters=p),
    )
    async def slow_effect(job) -> None:
        args = json.loads(job.payload)
        await _slow_effect(db, args["key"], args["seconds"])

    @pgq.schedule("tick", "* * * * * */1")
    async def tick(schedule) -> None:
        if os.environ.get("JQ_TICKS"):
            c = await asyncpg.connect(dsn(db))
            await c.execute(
                "INSERT INTO tick (fired, pid) VALUES ($1, $2)",
                schedule.next_run.isoformat() if hasattr(schedule, "next_run") else "?",
                os.getpid(),
            )
            await c.close()

    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, lambda: pgq.shutdown.set())
    await pgq.run(
        batch_size=concurrency,
        heartbeat_timeout=dt.timedelta(seconds=stalled_after),
        dequeue_timeout=dt.timedelta(seconds=1),
    )


# --------------------------------------------------------------------------- #
# shared
# --------------------------------------------------------------------------- #


async def _slow_effect(db: str, key: str, seconds: float) -> None:
    c = await asyncpg.connect(dsn(db))
    try:
        await c.execute("INSERT INTO attempt (key, pid) VALUES ($1, $2)", key, os.getpid())
        await asyncio.sleep(seconds)
        await c.execute("INSERT INTO effect (key) VALUES ($1) ON CONFLICT DO NOTHING", key)
    finally:
        await c.close()


async def create_db(lib: str) -> str:
    db = f"jq_bench_{lib}_{os.getpid()}"
    c = await asyncpg.connect(dsn("postgres"))
    await c.execute(f'DROP DATABASE IF EXISTS "{db}"')
    await c.execute(f'CREATE DATABASE "{db}"')
    await c.close()
    c = await asyncpg.connect(dsn(db))
    for ddl in BUSINESS_DDL:
        await c.execute(ddl)
    await c.close()
    await (proc_setup if lib == "procrastinate" else pgq_setup)(db)
    return db


async def drop_db(db: str) -> None:
    c = await asyncpg.connect(dsn("postgres"))
    await c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    await c.close()


async def pending(lib: str, db: str) -> int:
    c = await asyncpg.connect(dsn(db))
    try:
        if lib == "procrastinate":
            return await c.fetchval(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name='noop'"
                " AND status IN ('todo','doing')"
            )
        return await c.fetchval("SELECT count(*) FROM pgqueuer WHERE entrypoint='noop'")
    finally:
        await c.close()


def spawn_worker(lib: str, db: str, concurrency: int, stalled_after: float, env=None):
    return subprocess.Popen(
        [sys.executable, __file__, "_worker", lib, db, str(concurrency), str(stalled_after)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=open(f"/tmp/jq_worker_{lib}.log", "a"),
    )


def stop(procs) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


# --------------------------------------------------------------------------- #
# scenarios
# --------------------------------------------------------------------------- #


async def scenario_txn(lib: str) -> None:
    db = await create_db(lib)
    try:
        engine = proc_engine(db) if lib == "procrastinate" else pgq_engine(db)
        app = proc_app(db) if lib == "procrastinate" else None
        if app:
            await app.open_async()
        results = {}
        for outcome in ("commit", "rollback"):
            async with AsyncSession(engine) as s, s.begin() as tx:
                await s.execute(text("INSERT INTO obligation (note) VALUES (:n)"), {"n": outcome})
                if lib == "procrastinate":
                    await proc_enqueue(app, s, "single", [1])
                else:
                    await pgq_enqueue(s, "single", [1])
                # visible to another connection before commit? (must not be)
                c = await asyncpg.connect(dsn(db))
                seen_before = await pending_any(lib, c)
                await c.close()
                if outcome == "rollback":
                    await tx.rollback()
            c = await asyncpg.connect(dsn(db))
            results[outcome] = {
                "jobs_seen_by_others_before_commit": seen_before,
                "jobs_after": await pending_any(lib, c),
                "obligations_after": await c.fetchval("SELECT count(*) FROM obligation"),
            }
            await c.execute("DELETE FROM obligation")
            await clear_jobs(lib, c)
            await c.close()
        if app:
            await app.close_async()
        await engine.dispose()
        emit(scenario="txn", lib=lib, **results)
    finally:
        await drop_db(db)


async def pending_any(lib: str, c) -> int:
    if lib == "procrastinate":
        return await c.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE task_name='noop'")
    return await c.fetchval("SELECT count(*) FROM pgqueuer WHERE entrypoint='noop'")


async def clear_jobs(lib: str, c) -> None:
    if lib == "procrastinate":
        await c.execute("DELETE FROM procrastinate_jobs")
    else:
        await c.execute("DELETE FROM pgqueuer")


async def scenario_enqueue(lib: str, n: int) -> None:
    """Enqueue in the caller's SQLAlchemy transaction, three shapes."""
    db = await create_db(lib)
    try:
        engine = proc_engine(db) if lib == "procrastinate" else pgq_engine(db)  # the outbox floor: pgqueuer's
        app = proc_app(db) if lib == "procrastinate" else None
        if app:
            await app.open_async()
        shapes = [("single", 1, min(n // 20, 5000)), ("percall", 500, min(n // 5, 20000)), ("batch", 1000, n)]
        for kind, per_tx, total in shapes:
            t0 = time.perf_counter()
            done = 0
            while done < total:
                items = list(range(done, done + per_tx))
                async with AsyncSession(engine) as s, s.begin():
                    await s.execute(text("INSERT INTO obligation (note) VALUES ('x')"))
                    if lib == "procrastinate":
                        await proc_enqueue(app, s, kind, items)
                    elif lib == "pgqueuer":
                        await pgq_enqueue(s, kind, items)
                    else:  # plain outbox rows: the floor
                        raw = await pgq_raw(s)
                        if kind == "batch":
                            await raw.execute(
                                "INSERT INTO outbox (kind, payload) SELECT 'noop',"
                                " jsonb_build_object('i', i) FROM unnest($1::int[]) i",
                                items,
                            )
                        else:
                            for i in items:
                                await raw.execute(
                                    "INSERT INTO outbox (kind, payload) VALUES ('noop', $1::jsonb)",
                                    json.dumps({"i": i}),
                                )
                done += per_tx
            secs = time.perf_counter() - t0
            emit(
                scenario="enqueue",
                lib=lib,
                shape=kind,
                per_tx=per_tx,
                n=total,
                secs=round(secs, 2),
                per_s=round(total / secs),
            )
            async with AsyncSession(engine) as s, s.begin():
                await s.execute(
                    text(
                        "TRUNCATE procrastinate_jobs CASCADE"
                        if lib == "procrastinate"
                        else "TRUNCATE pgqueuer"
                        if lib == "pgqueuer"
                        else "TRUNCATE outbox"
                    )
                )
        if app:
            await app.close_async()
        await engine.dispose()
    finally:
        await drop_db(db)


async def scenario_e2e(lib: str, n: int, workers: int, concurrency: int) -> None:
    db = await create_db(lib)
    procs = []
    try:
        engine = proc_engine(db) if lib == "procrastinate" else pgq_engine(db)
        app = proc_app(db) if lib == "procrastinate" else None
        if app:
            await app.open_async()
        for start in range(0, n, 1000):
            async with AsyncSession(engine) as s, s.begin():
                items = list(range(start, min(n, start + 1000)))
                if lib == "procrastinate":
                    await proc_enqueue(app, s, "batch", items)
                else:
                    await pgq_enqueue(s, "batch", items)
        if app:
            await app.close_async()
        await engine.dispose()
        assert await pending(lib, db) == n
        t0 = time.perf_counter()
        procs = [spawn_worker(lib, db, concurrency, 30) for _ in range(workers)]
        left = n
        while left:
            await asyncio.sleep(0.2)
            left = await pending(lib, db)
            if time.perf_counter() - t0 > 600:
                raise TimeoutError(f"{left} jobs left")
        secs = time.perf_counter() - t0
        emit(
            scenario="e2e",
            lib=lib,
            n=n,
            workers=workers,
            concurrency=concurrency,
            secs=round(secs, 2),
            per_s=round(n / secs),
        )
    finally:
        stop(procs)
        await drop_db(db)


async def scenario_kill(lib: str, stalled_after: float = 4.0, job_secs: float = 3.0) -> None:
    """Start a worker, SIGKILL it during the job, start another, time recovery."""
    db = await create_db(lib)
    procs = []
    try:
        if lib == "procrastinate":
            app = proc_app(db)
            async with app.open_async():
                await app.tasks["slow_effect"].defer_async(key="k1", seconds=job_secs)
        else:
            from pgqueuer import AsyncpgDriver, Queries

            c = await asyncpg.connect(dsn(db))
            await Queries(AsyncpgDriver(c)).enqueue(
                "slow_effect", json.dumps({"key": "k1", "seconds": job_secs}).encode()
            )
            await c.close()
        c = await asyncpg.connect(dsn(db))
        w1 = spawn_worker(lib, db, 2, stalled_after)
        procs.append(w1)
        while not await c.fetchval("SELECT count(*) FROM attempt"):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        w1.send_signal(signal.SIGKILL)
        w1.wait()
        t_kill = time.perf_counter()
        w2 = spawn_worker(lib, db, 2, stalled_after)
        procs.append(w2)
        while (await c.fetchval("SELECT count(*) FROM attempt")) < 2:
            await asyncio.sleep(0.05)
            if time.perf_counter() - t_kill > 180:
                break
        restarted = time.perf_counter() - t_kill
        while not await c.fetchval("SELECT count(*) FROM effect"):
            await asyncio.sleep(0.05)
            if time.perf_counter() - t_kill > 180:
                break
        done = time.perf_counter() - t_kill
        await asyncio.sleep(2)
        emit(
            scenario="kill",
            lib=lib,
            stalled_after_s=stalled_after,
            job_s=job_secs,
            restarted_after_kill_s=round(restarted, 2),
            effect_after_kill_s=round(done, 2),
            attempts=await c.fetchval("SELECT count(*) FROM attempt"),
            effects=await c.fetchval("SELECT count(*) FROM effect"),
        )
        await c.close()
    finally:
        stop(procs)
        await drop_db(db)


async def scenario_periodic(lib: str, secs: float = 8.0) -> None:
    db = await create_db(lib)
    procs = []
    try:
        procs = [spawn_worker(lib, db, 2, 30, env={"JQ_TICKS": "1"}) for _ in range(2)]
        await asyncio.sleep(secs)
        stop(procs)
        c = await asyncpg.connect(dsn(db))
        rows = await c.fetch("SELECT fired, pid FROM tick ORDER BY id")
        await c.close()
        fired = [r["fired"] for r in rows]
        emit(
            scenario="periodic",
            lib=lib,
            window_s=secs,
            ticks=len(rows),
            distinct=len(set(fired)),
            pids=len({r["pid"] for r in rows}),
        )
    finally:
        stop(procs)
        await drop_db(db)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", choices=["txn", "enqueue", "e2e", "kill", "periodic", "all", "_worker"])
    ap.add_argument("rest", nargs="*")
    ap.add_argument("--lib", choices=[*LIBS, "outbox"], action="append")
    ap.add_argument("--n", type=int, default=0)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    if a.scenario == "_worker":
        lib, db, conc, stalled = a.rest
        run = proc_worker if lib == "procrastinate" else pgq_worker
        asyncio.run(run(db, int(conc), float(stalled)))
        return
    libs = a.lib or list(LIBS)
    scenarios = ["txn", "enqueue", "e2e", "kill", "periodic"] if a.scenario == "all" else [a.scenario]
    for _ in range(a.repeat):
        for sc in scenarios:
            for lib in libs + (["outbox"] if sc == "enqueue" and not a.lib else []):
                if lib == "outbox" and sc != "enqueue":
                    continue
                if sc == "txn":
                    asyncio.run(scenario_txn(lib))
                elif sc == "enqueue":
                    asyncio.run(scenario_enqueue(lib, a.n or 100_000))
                elif sc == "e2e":
                    asyncio.run(scenario_e2e(lib, a.n or 20_000, a.workers, a.concurrency))
                elif sc == "kill":
                    asyncio.run(scenario_kill(lib))
                elif sc == "periodic":
                    asyncio.run(scenario_periodic(lib))


if __name__ == "__main__":
    main()
