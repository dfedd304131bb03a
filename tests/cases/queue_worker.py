"""A queue worker for test_worker.py: ``cnvisa.worker.runner.run_worker`` — the runner ``cnvisa worker`` uses —
with one test job, ``slow_effect``, in place of the registry's.

Usage: ``python queue_worker.py <database-url> <heartbeat-timeout-seconds>``. The job records an attempt
(committed, with this process's id), prints ``started <key>``, sleeps ``payload["seconds"]``, then writes its
effect with ``INSERT … ON CONFLICT (key) DO NOTHING``: idempotent by key, as every job of the platform must be.
The tables ``job_attempts`` and ``job_effects`` are the test's."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

from sqlalchemy import text

from cnvisa.cases.clock import SystemClock
from cnvisa.worker.registry import Job, JobContext, Retry
from cnvisa.worker.runner import WorkerOptions, run_worker


async def slow_effect(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    key, pid = payload["key"], os.getpid()
    async with ctx.sessions() as s, s.begin():
        await s.execute(text("INSERT INTO job_attempts (key, pid) VALUES (:k, :p)"), {"k": key, "p": pid})
    print(f"started {key}", flush=True)
    await asyncio.sleep(float(payload["seconds"]))
    async with ctx.sessions() as s, s.begin():
        await s.execute(
            text("INSERT INTO job_effects (key, pid) VALUES (:k, :p) ON CONFLICT (key) DO NOTHING"),
            {"k": key, "p": pid},
        )
    return {"key": key}


async def flaky(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Fails its first ``payload["failures"]`` runs, then writes its effect (key ``payload["key"]``)."""
    key = payload["key"]
    async with ctx.sessions() as s, s.begin():
        await s.execute(
            text("INSERT INTO job_attempts (key, pid) VALUES (:k, :p)"), {"k": key, "p": os.getpid()}
        )
        runs = (
            await s.execute(text("SELECT count(*) FROM job_attempts WHERE key = :k"), {"k": key})
        ).scalar()
    if runs <= int(payload["failures"]):
        raise RuntimeError(f"{key}: failure {runs}")
    async with ctx.sessions() as s, s.begin():
        await s.execute(
            text("INSERT INTO job_effects (key, pid) VALUES (:k, :p) ON CONFLICT (key) DO NOTHING"),
            {"k": key, "p": os.getpid()},
        )
    return {"key": key}


JOBS = (
    Job("slow_effect", slow_effect, Retry(max_attempts=3, initial_delay=0.1)),
    Job("flaky", flaky, Retry(max_attempts=3, initial_delay=0.2, multiplier=2.0)),
)

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    print("ready", flush=True)
    options = WorkerOptions(
        concurrency=2, batch_size=1, heartbeat_timeout=float(sys.argv[2]), dequeue_timeout=1
    )
    asyncio.run(run_worker(sys.argv[1], SystemClock(), options, jobs=JOBS))
