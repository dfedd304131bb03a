"""The job queue (issue 12, docs/jobs.md "Integrated"): pgqueuer's schema made by Alembic (0022) and checked by
pgqueuer itself; jobs enqueued in the caller's transaction; the registry's schedules; at-least-once delivery
with an effect that happens once — a worker SIGKILLed mid-job, its job run again by another after the heartbeat
timeout; ``cnvisa worker`` running the daily sweep on its schedule on PostgreSQL and, in process, on SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from case_helpers import VISA_EXTENSION, World, key
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.store import migrate, queue
from cnvisa.store.db import sessionmaker
from cnvisa.store.outbox_tables import Notification
from cnvisa.worker import registry
from cnvisa.worker.registry import JOBS, Job, by_name, daily_at_beijing, every_seconds, schedule_of
from cnvisa.worker.runner import APPLICATION_NAME, WorkerOptions, asyncpg_dsn

HERE = Path(__file__).parent
SRC = HERE.parents[1] / "src"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), str(HERE)]))}
HEARTBEAT = 2.0
"""The heartbeat timeout of the test workers (30 s in production): a dead worker's job is re-picked after it."""
WAIT = 90.0
"""The most any step waits for a worker (a loaded 2-core machine); past it the test fails saying what it waited
for and what the workers wrote."""


# --- the registry -------------------------------------------------------------------------------------------


def test_the_daily_sweep_is_at_0005_beijing_in_utc_cron() -> None:
    sweep = by_name()["daily_sweep"]
    assert daily_at_beijing(0, 5) == "5 16 * * *" == sweep.cron  # 00:05 UTC+8 is 16:05 UTC the day before
    assert daily_at_beijing(8, 30) == "30 0 * * *" and daily_at_beijing(23, 59) == "59 15 * * *"
    assert sweep.retry.max_attempts >= 2 and sweep.concurrency_limit == 1
    assert every_seconds(30) == "* * * * * */30"
    with pytest.raises(ValueError, match="every_seconds: 7"):
        every_seconds(7)


def test_a_schedule_is_configured_by_its_variable_and_a_bad_one_is_named() -> None:
    sweep = by_name()["daily_sweep"]
    assert schedule_of(sweep, {}) == "5 16 * * *"
    assert schedule_of(sweep, {"CNVISA_JOB_SCHEDULE_DAILY_SWEEP": "0 17 * * *"}) == "0 17 * * *"
    assert schedule_of(sweep, {"CNVISA_JOB_SCHEDULE_DAILY_SWEEP": "off"}) is None
    with pytest.raises(ValueError, match="CNVISA_JOB_SCHEDULE_DAILY_SWEEP: 'daily'"):
        schedule_of(sweep, {"CNVISA_JOB_SCHEDULE_DAILY_SWEEP": "daily"})


def test_job_names_are_unique_and_the_worker_options_are_checked() -> None:
    async def nothing(ctx: registry.JobContext, payload: dict[str, Any]) -> None:
        return None

    with pytest.raises(ValueError, match="repeat: \\['x'\\]"):
        by_name((Job("x", nothing), Job("x", nothing)))
    assert set(by_name(JOBS)) == {j.name for j in JOBS}
    with pytest.raises(ValueError, match="--concurrency: at least twice --batch-size"):
        WorkerOptions(concurrency=10, batch_size=6).check()
    with pytest.raises(ValueError, match="--heartbeat-timeout"):
        WorkerOptions(heartbeat_timeout=0.5).check()


# --- the schema ---------------------------------------------------------------------------------------------


async def _pgqueuer_plan(url: str) -> tuple[str, ...]:
    import asyncpg
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.queries import Queries

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return (await Queries(AsyncpgDriver(conn)).plan_upgrade()).statements
    finally:
        await conn.close()


def test_the_migration_makes_pgqueuers_schema_and_its_downgrade_drops_it(
    db_templates: Any, tmp_path: Path
) -> None:
    """pgqueuer's own upgrade planner finds nothing to do after ``alembic upgrade`` (the frozen SQL is its
    schema); downgraded to 0020 it would have to make everything; upgraded again, nothing. SQLite: no queue."""
    url = db_templates.copy("postgresql", None, tmp_path)
    try:
        assert asyncio.run(_pgqueuer_plan(url)) == ()
        migrate.downgrade(url, "0020")
        plan = asyncio.run(_pgqueuer_plan(url))
        assert any(s.startswith("CREATE TABLE pgqueuer ") for s in plan), plan
        migrate.upgrade(url)
        assert asyncio.run(_pgqueuer_plan(url)) == ()
    finally:
        db_templates.drop(url)
    lite = db_templates.copy("sqlite", None, tmp_path)
    with sqlite3.connect(make_url(lite).database) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert not {n for n in names if n.startswith("pgqueuer")}


# --- enqueue in the caller's transaction ---------------------------------------------------------------------


async def _jobs(engine: AsyncEngine) -> list[tuple[str, bytes | None, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT entrypoint, payload, status::text FROM pgqueuer ORDER BY id"))
        return [(r[0], r[1], r[2]) for r in rows]


async def test_an_enqueue_in_a_rolled_back_transaction_leaves_no_job(engine: AsyncEngine) -> None:
    """The job is inserted on the session's own connection: unseen by others before the commit, kept with it,
    gone with a rollback — also when the enqueue is the transaction's first statement (SQLAlchemy begins the
    server transaction lazily). SQLite has no queue: nothing is enqueued, None answered."""
    sessions = sessionmaker(engine)
    if engine.dialect.name == "sqlite":
        async with sessions() as s, s.begin():
            assert await queue.enqueue(s, "daily_sweep", {"a": 1}) is None
        return

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with sessions() as s, s.begin():
            assert await queue.enqueue(s, "remind", {"obligation": 1}) is not None  # first statement
            raise Undo
    with pytest.raises(Undo):
        async with sessions() as s, s.begin():
            await s.execute(text("SELECT count(*) FROM obligations"))
            await queue.enqueue(s, "remind", {"obligation": 2})
            assert await _jobs(engine) == []  # another connection sees nothing before the commit
            raise Undo
    assert await _jobs(engine) == []

    async with sessions() as s, s.begin():
        first = await queue.enqueue(s, "remind", {"obligation": 3, "stage": "7d"}, dedupe_key="o3-7d")
        again = await queue.enqueue(s, "remind", {"obligation": 3, "stage": "7d"}, dedupe_key="o3-7d")
    assert first is not None and again is None  # the same key while the first waits: skipped, not an error
    [(name, payload, status)] = await _jobs(engine)
    assert (name, queue.decode(payload), status) == ("remind", {"obligation": 3, "stage": "7d"}, "queued")
    with pytest.raises(ValueError, match="job: 'no spaces'"):
        async with sessions() as s, s.begin():
            await queue.enqueue(s, "no spaces")


# --- real worker processes -----------------------------------------------------------------------------------


async def _wait(
    what: str, check: Callable[[], Awaitable[bool]], logs: Callable[[], str], timeout: float = WAIT
) -> None:
    """Poll ``check`` until true; fail naming ``what`` and showing the workers' output when it never is."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if await check():
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n--- workers' output ---\n{logs()}")


@contextlib.contextmanager
def _processes() -> Iterator[list[tuple[asyncio.subprocess.Process, Path]]]:
    """Worker processes started in the block are killed at its end, whatever happened."""
    started: list[tuple[asyncio.subprocess.Process, Path]] = []
    try:
        yield started
    finally:
        for proc, _ in started:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()


def _read(paths: list[Path]) -> str:
    return "\n".join(f"[{p.name}]\n{p.read_text(errors='replace')}" for p in paths if p.exists())


async def _spawn(
    started: list[tuple[asyncio.subprocess.Process, Path]],
    log: Path,
    *args: str,
    env: dict[str, str] | None = None,
) -> asyncio.subprocess.Process:
    out = log.open("wb")
    proc = await asyncio.create_subprocess_exec(*args, stdout=out, stderr=out, env={**ENV, **(env or {})})
    out.close()
    started.append((proc, log))
    return proc


async def _stop(proc: asyncio.subprocess.Process, logs: Callable[[], str]) -> None:
    """SIGTERM: the worker finishes and exits 0 within the bound, or the test fails saying so."""
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), timeout=30)
    except TimeoutError:
        pytest.fail(f"the worker did not stop within 30 s of SIGTERM\n{logs()}")
    assert proc.returncode == 0, f"the worker exited {proc.returncode} on SIGTERM\n{logs()}"


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_worker_killed_mid_job_its_job_runs_again_elsewhere_and_acts_once(
    engine: AsyncEngine, db_url: str, tmp_path: Path
) -> None:
    """Worker A takes the job and is SIGKILLed while it runs; worker B, started after, picks the job again once
    A's heartbeat is older than the timeout (2 s here) and completes it: two attempts, one effect (B's), the
    queue empty."""
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE job_attempts (key text NOT NULL, pid int NOT NULL)"))
        await conn.execute(text("CREATE TABLE job_effects (key text PRIMARY KEY, pid int NOT NULL)"))
    async with sessionmaker(engine)() as s, s.begin():
        await queue.enqueue(s, "slow_effect", {"key": "k1", "seconds": 4})
    worker = str(HERE / "queue_worker.py")
    a_log, b_log = tmp_path / "worker-a.log", tmp_path / "worker-b.log"

    def logs() -> str:
        return _read([a_log, b_log])

    async def scalar(sql: str) -> Any:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()

    with _processes() as started:
        a = await _spawn(started, a_log, sys.executable, worker, db_url, str(HEARTBEAT))

        async def a_started() -> bool:
            return bool(await scalar("SELECT count(*) FROM job_attempts"))

        await _wait("worker A to start the job", a_started, logs)
        a.kill()  # SIGKILL, mid-job: its attempt is committed, its effect not written
        await asyncio.wait_for(a.wait(), timeout=30)
        assert a.returncode == -signal.SIGKILL
        assert await scalar("SELECT count(*) FROM job_effects") == 0
        assert await scalar("SELECT status::text FROM pgqueuer") == "picked"  # A's, and A is gone

        b = await _spawn(started, b_log, sys.executable, worker, db_url, str(HEARTBEAT))

        async def effect() -> bool:
            return bool(await scalar("SELECT count(*) FROM job_effects"))

        await _wait("worker B to run the abandoned job again and write its effect", effect, logs)

        async def drained() -> bool:
            return await scalar("SELECT count(*) FROM pgqueuer") == 0

        await _wait("the done job to leave the queue", drained, logs)
        await _stop(b, logs)

    async with engine.connect() as conn:
        attempts = (await conn.execute(text("SELECT pid FROM job_attempts ORDER BY pid"))).scalars().all()
        effects = (await conn.execute(text("SELECT key, pid FROM job_effects"))).all()
        done = (
            (
                await conn.execute(
                    text("SELECT status::text FROM pgqueuer_log WHERE entrypoint = 'slow_effect'")
                )
            )
            .scalars()
            .all()
        )
    assert sorted(attempts) == sorted([a.pid, b.pid]), logs()
    assert [tuple(e) for e in effects] == [("k1", b.pid)]
    assert "successful" in done


async def test_cnvisa_worker_runs_the_daily_sweep_on_its_schedule(
    world: World, db_url: str, tmp_path: Path
) -> None:
    """``cnvisa worker`` with the sweep scheduled every second (``CNVISA_JOB_SCHEDULE_DAILY_SWEEP``): the notice
    left unanswered past its reply date lapses the case (Regulations Art 18 para 2) without anyone running
    ``cnvisa db sweep`` — on PostgreSQL from pgqueuer's schedule table and queue, on SQLite from the in-process
    runner. Tick after tick, the case lapses once (one ``lapse`` event). The outbox delivery job, scheduled the
    same way (``CNVISA_JOB_SCHEDULE_DELIVER_OUTBOX``), delivers the notice's message to the applicant's inbox
    once. SIGTERM stops the worker cleanly."""
    c = await world.submitted(files=VISA_EXTENSION.materials[:-1])
    n = await world.svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    respond_by = dt.date.fromisoformat(n["notice"]["respond_by"])
    env = {
        "CNVISA_CLOCK_START": f"{respond_by + dt.timedelta(days=1)}T00:30+08:00",
        "CNVISA_JOB_SCHEDULE_DAILY_SWEEP": every_seconds(1),
        "CNVISA_JOB_SCHEDULE_DELIVER_OUTBOX": every_seconds(1),
    }
    log = tmp_path / "worker.log"
    cli = [sys.executable, "-m", "cnvisa.cli", "worker", "--database-url", db_url, "--heartbeat-timeout", "5"]
    with _processes() as started:
        proc = await _spawn(started, log, *cli, env=env)

        async def lapsed() -> bool:
            return (await world.case(c["case_id"])).state == "lapsed"

        await _wait("the scheduled sweep to lapse the case", lapsed, lambda: _read([log]))

        async def ticked_again() -> bool:
            return log.read_text().count("job daily_sweep") >= 3

        await _wait("two more sweeps after the lapse", ticked_again, lambda: _read([log]))

        async def delivered() -> bool:
            async with world.sessions() as s:
                states = (
                    await s.execute(
                        select(Notification.state).where(
                            Notification.subject_id == c["case_id"], Notification.channel == "inbox"
                        )
                    )
                ).scalars()
                return "sent" in list(states)

        await _wait("the delivery job to deliver the notice to the inbox", delivered, lambda: _read([log]))
        await _stop(proc, lambda: _read([log]))
    out = log.read_text()
    engine_word = "in-process queue" if db_url.startswith("sqlite") else "durable queue"
    assert engine_word in out and "worker stopped" in out, out
    assert (await world.actions(c["case_id"])).count("lapse") == 1
    async with world.sessions() as s:
        rows = (
            await s.execute(
                select(Notification.stage, Notification.state, Notification.attempts).where(
                    Notification.subject_id == c["case_id"], Notification.channel == "inbox"
                )
            )
        ).all()
    assert [tuple(r) for r in rows if r.state == "sent"] and all(r.attempts <= 1 for r in rows), rows


def test_cnvisa_worker_names_a_bad_option_or_schedule(tmp_path: Path) -> None:
    import subprocess

    db_url = f"sqlite+aiosqlite:///{tmp_path / 'none.sqlite3'}"  # checked before any connection

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cnvisa.cli", "worker", "--database-url", db_url, *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**ENV, **(env or {})},
        )

    bad = run("--concurrency", "4", "--batch-size", "3")
    assert bad.returncode == 2 and "--concurrency: at least twice --batch-size (6)" in bad.stderr, bad.stderr
    bad = run(env={"CNVISA_JOB_SCHEDULE_DAILY_SWEEP": "at midnight"})
    assert bad.returncode == 2 and "CNVISA_JOB_SCHEDULE_DAILY_SWEEP" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_worker_that_loses_its_queue_connection_exits_with_the_error(
    engine: AsyncEngine, db_url: str, tmp_path: Path
) -> None:
    """The queue's connection killed on the server (a restart, a failover): the worker does not stay up
    listening to nothing — it exits 2 naming the error, for its supervisor to start it again."""
    log = tmp_path / "worker.log"
    cli = [sys.executable, "-m", "cnvisa.cli", "worker", "--database-url", db_url]
    with _processes() as started:
        proc = await _spawn(started, log, *cli)
        database = make_url(db_url).database

        async def connected() -> bool:
            async with engine.connect() as conn:
                found = await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = :a AND datname = :d"
                    ),
                    {"a": APPLICATION_NAME, "d": database},
                )
                return bool(found.scalar())

        await _wait("the worker's queue connection", connected, lambda: _read([log]))
        async with engine.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :a AND datname = :d"
                ),
                {"a": APPLICATION_NAME, "d": database},
            )
        try:
            await asyncio.wait_for(proc.wait(), timeout=WAIT)
        except TimeoutError:
            pytest.fail(f"the worker kept running {WAIT:.0f} s after losing its connection\n{_read([log])}")
    out = log.read_text()
    # the last line is the command's one-line error (pgqueuer's own log lines above it may carry the trace)
    assert proc.returncode == 2 and out.strip().splitlines()[-1].startswith("error: worker: "), out


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_failing_job_is_retried_with_backoff_then_held_as_failed(
    engine: AsyncEngine, db_url: str, tmp_path: Path
) -> None:
    """The job's ``Retry`` (max_attempts 3, 0.2 s doubling): a job failing once succeeds on its second run; a
    job that always fails runs max_attempts + 1 times (the first run and three retries, pgqueuer counting
    retries) and is then kept in the queue table as ``failed``, its traceback in ``pgqueuer_log``."""
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE job_attempts (key text NOT NULL, pid int NOT NULL)"))
        await conn.execute(text("CREATE TABLE job_effects (key text PRIMARY KEY, pid int NOT NULL)"))
    async with sessionmaker(engine)() as s, s.begin():
        await queue.enqueue(s, "flaky", {"key": "once", "failures": 1})
        await queue.enqueue(s, "flaky", {"key": "always", "failures": 99})
    log = tmp_path / "worker.log"

    async def rows(sql: str) -> list[Any]:
        async with engine.connect() as conn:
            return [tuple(r) for r in await conn.execute(text(sql))]

    with _processes() as started:
        proc = await _spawn(started, log, sys.executable, str(HERE / "queue_worker.py"), db_url, "5")

        async def settled() -> bool:
            return await rows("SELECT status::text FROM pgqueuer") == [("failed",)]

        await _wait("the failing job to be held as failed", settled, lambda: _read([log]))
        await _stop(proc, lambda: _read([log]))
    attempts = dict(await rows("SELECT key, count(*) FROM job_attempts GROUP BY key"))
    assert attempts == {"once": 2, "always": 4}, _read([log])
    assert await rows("SELECT key FROM job_effects") == [("once",)]
    [(tb,)] = await rows("SELECT traceback::text FROM pgqueuer_log WHERE status = 'failed'")
    assert "always: failure 4" in tb
