"""The notifications outbox (issue 12 "Shown by": 1,000,000 reminders enqueued and delivered to the local SMTP
server at ≥ 1,000/s with one worker per core; enqueueing alone ≥ 20,000/s) — ``cnvisa.cases.outbox.reminders``
(set-based, in the sweep's transaction) and the queue's ``deliver_outbox`` job (``OutboxService.deliver_due``).

    PYTHONPATH=src .venv/bin/python benchmarks/outbox.py build --people 500000 --email-every 1
    PYTHONPATH=src .venv/bin/python benchmarks/outbox.py run [--channel email] [--rows N] [--workers 2]
                                                             [--limit 200] [--at-once 2] [--max-seconds 600]
    PYTHONPATH=src .venv/bin/python benchmarks/outbox.py run --cnvisa-worker [--workers 2] [--rows N]
    PYTHONPATH=src .venv/bin/python benchmarks/outbox.py drop

The data (bulk SQL with generate_series, benchmark data): N people, each with an applicant account and one open
duty due 7 days after the day swept (the ``T-7`` step); one person in ``--email-every`` chose e-mail as well
(1: everyone), so the sweep writes N inbox rows and N / K e-mail rows.

``run``: (1) the reminders written as the sweep writes them (one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` per
stage and channel), timed to the commit; (2) every row of the other channels parked, the first ``--rows`` of
``--channel`` left due; (3) an SMTP server (aiosmtpd on uvloop, a handler that only counts and answers 250) in a
process of its own; (4) ``--workers`` processes (one per core), each running the ``deliver_outbox`` job (``--at-once`` loops of
passes of ``--limit``, as the queue's schedule runs it, with the platform's settings read from the environment) over
and over until nothing is due or ``--max-seconds`` passed. The rate is the rows sent between the workers' common
start and the last one's end; the SMTP server's count of messages accepted is printed beside it.
PostgreSQL: postgresql://postgres@127.0.0.1:5432 (``CNVISA_BENCH_PG_ADMIN``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing as mp
import os
import time
from multiprocessing.connection import Connection
from typing import Any

import asyncpg
from sqlalchemy import func, select, text, update

from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.cases.outbox import reminders
from cnvisa.store.db import make_engine, sessionmaker
from cnvisa.store.migrate import upgrade
from cnvisa.store.outbox_tables import Notification

PG_ADMIN = os.environ.get("CNVISA_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
DB = "cnvisa_bench_outbox"
ON = dt.date(2026, 5, 24)
SMTP_PORT = 8025
LAW = "Exit and Entry Administration Law"
CITES = json.dumps(
    [{"cite": f"{LAW} Art 32 para 1", "instrument": LAW, "article": "32", "paragraph": 1, "item": None}]
)


def _url(name: str, driver: str = "postgresql+asyncpg") -> str:
    return f"{PG_ADMIN.rsplit('/', 1)[0].replace('postgresql', driver, 1)}/{name}"


def _clock() -> ManualClock:
    return ManualClock(dt.datetime.combine(ON, dt.time(9), tzinfo=SHANGHAI))


async def build(people: int, email_every: int) -> None:
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{DB}"')
    await admin.close()
    await asyncio.to_thread(upgrade, _url(DB))
    conn = await asyncpg.connect(_url(DB, "postgresql"))
    t = time.perf_counter()
    await conn.execute(
        """INSERT INTO people (id, surname, given_names, birth_date, sex, nationality, created_at)
           SELECT g, 'P' || g, 'X', DATE '1980-01-01', 'F', 'DEU', now() FROM generate_series(1, $1) g""",
        people,
    )
    await conn.execute(
        """INSERT INTO accounts (id, username, display_name, role, person_id, active)
           SELECT g, 'u' || g, 'P' || g, 'applicant', g, true FROM generate_series(1, $1) g""",
        people,
    )
    await conn.execute(
        """INSERT INTO notification_preferences (account_id, language, email, email_on, sms_on, changed_at)
           SELECT g, CASE WHEN g % 2 = 0 THEN 'en' ELSE 'zh_CN' END, 'u' || g || '@example.com', true, false,
                  now()
           FROM generate_series(1, $1) g WHERE g % $2 = 0""",
        people,
        email_every,
    )
    await conn.execute(
        f"""INSERT INTO obligations (person_id, kind, basis, basis_id, due_by, label, citations, holidays_known,
                                    state, opened_at, changed_at)
            SELECT g, 'residence_permit_extension', 'holding', g, $2::date + 7, 'law', '{CITES}', true, 'open',
                   now(), now()
            FROM generate_series(1, $1) g""",
        people,
        ON,
    )
    for seq, table in (("people_id_seq", "people"), ("accounts_id_seq", "accounts")):
        await conn.execute(f"SELECT setval('{seq}', (SELECT max(id) FROM {table}))")
    await conn.execute("VACUUM ANALYZE")
    await conn.close()
    print(f"built {people:,} people, accounts and duties in {time.perf_counter() - t:.1f} s")


# ------------------------------------------------------------------------------------------------- the SMTP sink
def _sink(port: int, ready: Any, stop: Connection) -> None:
    """An SMTP server that accepts every message and does nothing else with it (counted, for the report)."""
    from aiosmtpd.controller import Controller

    class Accept:
        count = 0

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            Accept.count += 1
            return "250 OK"

    loop = None
    if os.environ.get("BENCH_SINK_UVLOOP", "1") == "1":
        import uvloop

        loop = uvloop.new_event_loop()
    controller = Controller(Accept(), hostname="127.0.0.1", port=port, ready_timeout=10, loop=loop)
    controller.start()
    ready.set()
    stop.recv()
    controller.stop()
    stop.send((Accept.count, time.process_time()))


# ------------------------------------------------------------------------------------------------- the workers
def _worker(limit: int, at_once: int, max_seconds: float, ready: Any, go: Any, out: Connection) -> None:
    os.environ.update(
        {
            "CNVISA_SMTP_HOST": "127.0.0.1",
            "CNVISA_SMTP_PORT": str(SMTP_PORT),
            "CNVISA_SMTP_FROM": "noreply@cnvisa.test",
        }
    )
    from cnvisa.worker.jobs import deliver_outbox
    from cnvisa.worker.registry import JobContext

    async def main() -> dict[str, Any]:
        engine = make_engine(_url(DB))
        ctx = JobContext(sessionmaker(engine), _clock(), "postgresql")
        async with ctx.sessions() as s:  # connect before the start
            await s.execute(text("SELECT 1"))
        ready.set()
        await asyncio.to_thread(go.wait)
        t0, cpu0 = time.perf_counter(), time.process_time()
        totals = {"sent": 0, "retry": 0, "failed": 0}
        runs = 0
        while time.perf_counter() - t0 < max_seconds:
            done = await deliver_outbox(ctx, {"limit": limit, "seconds": 8, "at_once": at_once})
            runs += 1
            for k in totals:
                totals[k] += done[k]
            if not any(done.values()):
                break
        took = time.perf_counter() - t0
        await engine.dispose()
        return {**totals, "jobs": runs, "seconds": took, "cpu": time.process_time() - cpu0}

    out.send(asyncio.run(main()))


async def _enqueue() -> None:
    engine = make_engine(_url(DB))
    sessions = sessionmaker(engine)
    async with sessions() as s, s.begin():
        await s.execute(text("TRUNCATE notification_attempts, notifications"))
    load = os.getloadavg()[0]
    t = time.perf_counter()
    async with sessions() as s, s.begin():
        written = await reminders(s, ON, _clock().now(), (30, 7, 1))
    took = time.perf_counter() - t
    print(
        f"enqueue: {written:,} rows in {took:.2f} s (to the commit) = {written / took:,.0f}/s "
        f"(load before {load:.1f}, after {os.getloadavg()[0]:.1f})"
    )
    await engine.dispose()


async def _only(channel: str, keep: int | None) -> int:
    """Leave due only the first ``keep`` rows of ``channel`` (all: None); park every other row still pending."""
    engine = make_engine(_url(DB))
    sessions = sessionmaker(engine)
    async with sessions() as s, s.begin():
        await s.execute(
            update(Notification)
            .where(Notification.state == "pending", Notification.channel != channel)
            .values(state="parked")
        )
        if keep is not None:
            first = (
                select(Notification.id)
                .where(Notification.channel == channel, Notification.state == "pending")
                .order_by(Notification.id)
                .offset(keep)
            )
            await s.execute(update(Notification).where(Notification.id.in_(first)).values(state="parked"))
        due = (await s.execute(select(func.count()).where(Notification.state == "pending"))).scalar_one()
    async with engine.connect() as c:
        await (await c.execution_options(isolation_level="AUTOCOMMIT")).execute(
            text("VACUUM ANALYZE notifications")
        )
    await engine.dispose()
    return int(due)


async def _counts() -> dict[str, int]:
    engine = make_engine(_url(DB))
    async with sessionmaker(engine)() as s:
        rows = (await s.execute(select(Notification.state, func.count()).group_by(Notification.state))).all()
    await engine.dispose()
    return {str(k): int(n) for k, n in rows}


def _due_and_sink(channel: str, rows: int | None, enqueue: bool) -> tuple[int, Any, Connection]:
    """The reminders written (``enqueue``), only ``rows`` of ``channel`` left due, and the SMTP sink started: the
    due count, the sink's process and the pipe that stops it."""
    if enqueue:
        asyncio.run(_enqueue())
    due = asyncio.run(_only(channel, rows))
    print(f"due: {due:,} {channel} rows")
    spawn = mp.get_context("spawn")
    ready, (stop_here, stop_there) = spawn.Event(), spawn.Pipe()
    sink = spawn.Process(target=_sink, args=(SMTP_PORT, ready, stop_there))
    sink.start()
    ready.wait(30)
    return due, sink, stop_here


def run(
    channel: str, rows: int | None, workers: int, limit: int, at_once: int, max_seconds: float, enqueue: bool
) -> None:
    _due, sink, stop_here = _due_and_sink(channel, rows, enqueue)
    spawn = mp.get_context("spawn")
    go = spawn.Event()
    procs = []
    for _ in range(workers):
        w_ready, (here, there) = spawn.Event(), spawn.Pipe()
        p = spawn.Process(target=_worker, args=(limit, at_once, max_seconds, w_ready, go, there))
        p.start()
        procs.append((p, w_ready, here))
    for _, w_ready, _ in procs:
        w_ready.wait(60)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    go.set()
    results = []
    for p, _, here in procs:
        if not here.poll(max_seconds + 120):  # a worker that hangs or died: stop everything, say so
            for q, _, _ in procs:
                q.kill()
            stop_here.send(None)
            raise SystemExit(
                f"a worker did not report within {max_seconds + 120:.0f} s (exit code {p.exitcode})"
            )
        results.append(here.recv())
    took = time.perf_counter() - t0
    for p, _, _ in procs:
        p.join()
    stop_here.send(None)
    accepted, sink_cpu = stop_here.recv()
    sink.join()
    sent = sum(r["sent"] for r in results)
    print(
        f"deliver {channel}: {sent:,} sent by {workers} workers ({at_once} loops of passes of {limit} each) "
        f"in {took:.2f} s = "
        f"{sent / took:,.0f}/s; the SMTP server accepted {accepted:,} (its CPU {sink_cpu:.1f} s) "
        f"(load before {load:.1f}, after {os.getloadavg()[0]:.1f})"
    )
    for r in results:
        print(
            f"  worker: {r['sent']:,} sent, {r['retry']} retry, {r['failed']} failed, {r['jobs']} job runs, "
            f"{r['seconds']:.1f} s, CPU {r['cpu']:.1f} s"
        )
    print("outbox:", asyncio.run(_counts()))


def run_cnvisa_workers(
    channel: str, rows: int | None, workers: int, max_seconds: float, enqueue: bool
) -> None:
    """The same rows delivered by ``workers`` real ``cnvisa worker`` processes (the registry's schedule and
    payload, on PostgreSQL: each ticks ``deliver_outbox`` itself and reruns it while it says ``more``). The
    rate is the rows sent from the first one sent until none is left due (polled every 0.25 s)."""
    import re
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    due, sink, stop_here = _due_and_sink(channel, rows, enqueue)
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
        "CNVISA_CLOCK_START": _clock().now().isoformat(),
        "CNVISA_SMTP_HOST": "127.0.0.1",
        "CNVISA_SMTP_PORT": str(SMTP_PORT),
        "CNVISA_SMTP_FROM": "noreply@cnvisa.test",
        "CNVISA_JOB_SCHEDULE_DAILY_SWEEP": "off",
        "CNVISA_JOB_SCHEDULE_ENSURE_PARTITIONS": "off",
    }
    logs = [Path(tempfile.mkstemp(prefix=f"outbox-worker{i}-", suffix=".log")[1]) for i in range(workers)]
    cmd = [sys.executable, "-m", "cnvisa.cli", "worker", "--database-url", _url(DB)]
    load = os.getloadavg()[0]
    started = time.perf_counter()
    procs = [subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT) for log in logs]

    async def watch() -> tuple[float, float, int]:
        engine = make_engine(_url(DB))
        first = last = 0.0
        left = due
        try:
            async with engine.connect() as c:
                while time.perf_counter() - started < max_seconds:
                    sent, left = (
                        await c.execute(
                            text(
                                "SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE state IN "
                                "('pending', 'sending')) FROM notifications WHERE channel = :ch"
                            ),
                            {"ch": channel},
                        )
                    ).one()
                    await c.rollback()
                    now = time.perf_counter()
                    if sent and not first:
                        first = now
                    if not left:
                        last = now
                        break
                    await asyncio.sleep(0.25)
        finally:
            await engine.dispose()
        return first, last, int(left)

    try:
        first, last, left = asyncio.run(watch())
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
        stop_here.send(None)
        accepted, sink_cpu = stop_here.recv()
        sink.join()
    per = [
        sum(int(n) for n in re.findall(r"done in [\d.]+ s: \{'sent': (\d+)", log.read_text())) for log in logs
    ]
    if left:
        print(f"NOT DONE: {left:,} rows still due after {max_seconds:.0f} s")
    took = (last or time.perf_counter()) - first
    print(
        f"deliver {channel} by {workers} `cnvisa worker` processes: {due - left:,} sent in {took:.2f} s from the "
        f"first sent = {(due - left) / took:,.0f}/s (first sent {first - started:.1f} s after start); the SMTP "
        f"server accepted {accepted:,} (its CPU {sink_cpu:.1f} s); per worker {per}; exit codes "
        f"{[p.returncode for p in procs]} (load before {load:.1f}, after {os.getloadavg()[0]:.1f})"
    )
    print("outbox:", asyncio.run(_counts()))
    for log in logs:
        log.unlink()


async def drop() -> None:
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    await admin.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--people", type=int, default=100_000)
    b.add_argument("--email-every", type=int, default=10, help="one person in K chose e-mail (1: everyone)")
    r = sub.add_parser("run")
    r.add_argument("--channel", default="email", choices=("email", "inbox"))
    r.add_argument("--rows", type=int, default=None, help="deliver the first N rows of the channel (all)")
    r.add_argument("--workers", type=int, default=2, help="delivering processes (one per core)")
    r.add_argument("--limit", type=int, default=200, help="rows per pass (the schedule's payload: 200)")
    r.add_argument(
        "--at-once", type=int, default=2, help="loops of passes side by side in a job (registry: 2)"
    )
    r.add_argument("--max-seconds", type=float, default=600.0)
    r.add_argument("--no-enqueue", action="store_true", help="deliver the rows already written")
    r.add_argument(
        "--cnvisa-worker",
        action="store_true",
        help="deliver with real `cnvisa worker` processes (their schedule) instead of the job called in a loop",
    )
    sub.add_parser("drop")
    args = ap.parse_args()
    if args.cmd == "build":
        asyncio.run(build(args.people, args.email_every))
    elif args.cmd == "run" and args.cnvisa_worker:
        run_cnvisa_workers(args.channel, args.rows, args.workers, args.max_seconds, not args.no_enqueue)
    elif args.cmd == "run":
        run(
            args.channel,
            args.rows,
            args.workers,
            args.limit,
            args.at_once,
            args.max_seconds,
            not args.no_enqueue,
        )
    else:
        asyncio.run(drop())


if __name__ == "__main__":
    main()
