"""``cnvisa worker``'s runner: the registry's jobs on pgqueuer until told to stop.

- **PostgreSQL**: ``PgQueuer`` on a dedicated asyncpg connection (LISTEN/NOTIFY wake-ups, batched dequeues),
  the jobs' own work on the platform's SQLAlchemy engine. A job picked by a worker that dies (SIGKILL, power)
  keeps status ``picked`` with a heartbeat that stops; once it is older than ``heartbeat_timeout`` any worker
  picks it again. Schedules live in ``pgqueuer_schedules``: one worker takes each tick (``FOR UPDATE SKIP
  LOCKED``), however many run.
- **SQLite**: ``PgQueuer.in_memory()`` in this process — the same entrypoints, retry policies and schedules, no
  PostgreSQL. Its queue is lost with the process: the durable record is the domain row (the obligation, the
  outbox row) that the next periodic run picks up, never the queue entry. Two workers on one SQLite file would
  each run every tick (no shared schedule table): the jobs being idempotent, that costs work, not correctness.

A job marked ``each_worker`` (the outbox's delivery) is ticked on PostgreSQL by every worker's own
``PgQueuer.in_memory()`` beside the shared queue, not by the shared schedule: each worker delivers, the rows split
by the claim's ``FOR UPDATE SKIP LOCKED`` (the shared queue's one job a tick would keep all but one worker idle).
A job whose summary says ``more`` is queued again at once on the queue that ran it, without waiting for a tick.

SIGTERM and SIGINT stop it cleanly: no new job is taken, the running ones finish, the connection closes (exit
0). On PostgreSQL, losing the queue's connection ends the worker with an error (exit 2), for its supervisor to
start it again; jobs it was running are picked again after the heartbeat timeout."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pgqueuer import PgQueuer
from pgqueuer.executors import DatabaseRetryEntrypointExecutor, EntrypointExecutorParameters
from pgqueuer.models import Job as QueuedJob
from pgqueuer.models import Schedule
from sqlalchemy.engine import make_url

from cnvisa.cases.clock import Clock
from cnvisa.store import queue
from cnvisa.store.db import database_url, is_sqlite, make_engine, sessionmaker
from cnvisa.worker.registry import JOBS, Job, JobContext, by_name, with_schedules

log = logging.getLogger("cnvisa.worker")
APPLICATION_NAME = "cnvisa worker"
"""The queue connection's name in ``pg_stat_activity``."""


@dataclass(frozen=True)
class WorkerOptions:
    concurrency: int = 20
    """At most this many jobs running at once in this worker (pgqueuer: at least twice the batch size)."""
    batch_size: int = 10
    """Jobs taken per dequeue."""
    heartbeat_timeout: float = 30.0
    """Seconds without a heartbeat after which a picked job counts as abandoned and is picked again. Keep it
    well above a heartbeat's interval (half of it) and below how long a lost job may wait."""
    dequeue_timeout: float = 30.0
    """Seconds a worker waits for a NOTIFY before looking at the queue again (deferred jobs, retries)."""

    def check(self) -> None:
        """A clear error naming the option (the CLI prints it)."""
        if self.batch_size < 1:
            raise ValueError("--batch-size: at least 1")
        if self.concurrency < 2 * self.batch_size:
            raise ValueError(
                f"--concurrency: at least twice --batch-size ({2 * self.batch_size}); got {self.concurrency}"
            )
        if self.heartbeat_timeout < 1:
            raise ValueError("--heartbeat-timeout: at least 1 second")


def asyncpg_dsn(url: str) -> str:
    """The libpq URL asyncpg connects with, from the platform's SQLAlchemy URL (same server and database)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _entrypoint(job: Job, ctx: JobContext, again: Callable[[], Awaitable[Any]]) -> Callable[[QueuedJob], Any]:
    async def run(queued: QueuedJob) -> None:
        started = time.perf_counter()
        payload = queue.decode(queued.payload)
        result = await job.run(ctx, payload)
        log.info(
            "job %s #%s (attempt %s) done in %.3f s: %s",
            job.name,
            queued.id,
            queued.attempts + 1,
            time.perf_counter() - started,
            dict(result or {}),
        )
        if (result or {}).get("more"):
            await again()

    return run


def _executor(job: Job) -> Callable[[EntrypointExecutorParameters], DatabaseRetryEntrypointExecutor]:
    r = job.retry

    def make(params: EntrypointExecutorParameters) -> DatabaseRetryEntrypointExecutor:
        return DatabaseRetryEntrypointExecutor(
            parameters=params,
            max_attempts=r.max_attempts,
            initial_delay=dt.timedelta(seconds=r.initial_delay),
            max_delay=dt.timedelta(seconds=r.max_delay),
            backoff_multiplier=r.multiplier,
        )

    return make


def register(pgq: PgQueuer, jobs: tuple[Job, ...], ctx: JobContext, *, ticked: bool = True) -> None:
    """Each job as an entrypoint with its retry policy; each schedule as a tick that enqueues the job once
    (``ticked`` False: the entrypoints only — another queue ticks them)."""
    queries = pgq.queries
    assert queries is not None
    for job in by_name(jobs).values():

        async def again(job: Job = job) -> None:  # no dedupe key: the running job still holds the tick's
            await queries.enqueue(job.name, queue.encode(job.payload), 0, None, None)

        pgq.entrypoint(
            job.name,
            concurrency_limit=job.concurrency_limit,
            on_failure="hold",
            executor_factory=_executor(job),
        )(_entrypoint(job, ctx, again))
        if job.cron is None or not ticked:
            continue

        async def tick(schedule: Schedule, job: Job = job) -> None:
            ids = await queries.enqueue(
                job.name, queue.encode(job.payload), 0, None, job.name, on_conflict="skip"
            )
            log.info(
                "schedule %s (%s): %s",
                job.name,
                schedule.expression,
                "queued" if ids[0] else "already queued",
            )

        pgq.schedule(job.name, job.cron, clean_old=True)(tick)


async def run_worker(
    url: str | None,
    clock: Clock,
    options: WorkerOptions | None = None,
    *,
    jobs: tuple[Job, ...] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run ``jobs`` (the registry's, schedules as configured) until SIGTERM/SIGINT or ``stop`` is set."""
    options = options or WorkerOptions()
    options.check()
    jobs = with_schedules(JOBS) if jobs is None else jobs
    url = database_url(url)
    engine = make_engine(url)
    connection = None
    try:
        ctx = JobContext(sessionmaker(engine), clock, engine.dialect.name)
        local: PgQueuer | None = None
        if is_sqlite(url):
            pgq = PgQueuer.in_memory()
            register(pgq, jobs, ctx)
        else:
            import asyncpg  # type: ignore[import-untyped]

            connection = await asyncpg.connect(
                asyncpg_dsn(url), server_settings={"application_name": APPLICATION_NAME}
            )
            pgq = PgQueuer.from_asyncpg_connection(connection)
            mine = tuple(j for j in jobs if j.each_worker and j.cron)
            register(pgq, tuple(j for j in jobs if j not in mine), ctx)
            if mine:  # ticked here, in this worker; the shared queue still runs one that someone enqueues
                register(pgq, mine, ctx, ticked=False)
                local = PgQueuer.in_memory()
                register(local, mine, ctx)
        queues = [q for q in (pgq, local) if q is not None]

        def shutdown() -> None:
            for q in queues:
                q.shutdown.set()

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, shutdown)
        watcher = asyncio.create_task(_relay(stop, shutdown)) if stop is not None else None
        log.info(
            "worker on %s (%s): jobs %s; schedules %s",
            engine.dialect.name,
            "durable queue" if connection is not None else "in-process queue",
            ", ".join(j.name for j in jobs),
            ", ".join(
                f"{j.name} {j.cron!r} UTC{' (each worker)' if local and j.each_worker else ''}"
                for j in jobs
                if j.cron
            )
            or "none",
        )
        try:
            await _run_all(queues, options, durable=connection is not None, shutdown=shutdown)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            if watcher is not None:
                watcher.cancel()
        log.info("worker stopped")
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(timeout=5)
        await engine.dispose()


async def _run_all(
    queues: list[PgQueuer], options: WorkerOptions, *, durable: bool, shutdown: Callable[[], None]
) -> None:
    """Run the queues together until one ends; then the others are told to stop, and the first error is raised
    (the shared queue's lost connection ends the worker, exit 2, for its supervisor to start a fresh one)."""

    async def one(q: PgQueuer, shared: bool) -> None:
        await q.run(
            dequeue_timeout=dt.timedelta(seconds=options.dequeue_timeout),
            batch_size=options.batch_size,
            max_concurrent_tasks=options.concurrency,
            heartbeat_timeout=dt.timedelta(seconds=options.heartbeat_timeout),
            # the queue's connection lost (server restarted, connection killed): end with the error, so the
            # supervisor (systemd, Kubernetes) starts a fresh worker, instead of one listening to nothing
            shutdown_on_listener_failure=durable and shared,
        )

    tasks = [asyncio.create_task(one(q, i == 0)) for i, q in enumerate(queues)]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        shutdown()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r


async def _relay(stop: asyncio.Event, shutdown: Callable[[], None]) -> None:
    await stop.wait()
    shutdown()
