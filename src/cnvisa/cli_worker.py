"""``cnvisa worker``: runs the job queue's jobs (issue 12; ``cnvisa.worker``) until SIGTERM or SIGINT — the daily
sweep on its schedule, and every job enqueued by the platform. PostgreSQL: pgqueuer's durable queue (any number
of workers); SQLite: the same jobs and schedules on an in-process queue (docs/jobs.md, "Integrated")."""

from __future__ import annotations

from typing import Annotated

import typer

DbUrl = Annotated[str | None, typer.Option("--database-url", help="Overrides CNVISA_DATABASE_URL")]


def worker(
    database_url: DbUrl = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=2, max=1000, help="Jobs running at once (≥ 2 × --batch-size)")
    ] = 20,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=500, help="Jobs taken per dequeue")
    ] = 10,
    heartbeat_timeout: Annotated[
        float,
        typer.Option(
            "--heartbeat-timeout",
            min=1,
            max=3600,
            help="Seconds without a heartbeat before a running job counts as abandoned and runs again",
        ),
    ] = 30.0,
) -> None:
    """Run the queue's jobs until stopped (SIGTERM, SIGINT: running jobs finish first). Schedules are UTC cron
    (CNVISA_JOB_SCHEDULE_<NAME> replaces one; the daily sweep is at 00:05 Beijing time)."""
    import asyncio
    import logging

    from cnvisa.cli import _clock, _fail
    from cnvisa.worker.registry import JOBS, with_schedules
    from cnvisa.worker.runner import WorkerOptions, run_worker

    options = WorkerOptions(concurrency, batch_size, heartbeat_timeout)
    try:
        options.check()
        jobs = with_schedules(JOBS)
    except ValueError as exc:
        _fail(str(exc))
    clock = _clock()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pgqueuer").setLevel(logging.WARNING)
    try:
        asyncio.run(run_worker(database_url, clock, options, jobs=jobs))
    except Exception as exc:  # one line, never a traceback
        _fail(f"worker: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
