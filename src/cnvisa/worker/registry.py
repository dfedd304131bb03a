"""The registry of the queue's jobs (issue 12, docs/jobs.md): each job is one ``Job`` entry in ``JOBS`` — its
name (the queue's entrypoint), its function, its retry policy and, for a periodic job, its schedule.

A job function takes the ``JobContext`` (the platform's sessions and clock) and the payload (a JSON object) and
returns a summary for the log. Delivery is at least once (a job whose worker died runs again after the
heartbeat timeout): a job must be idempotent by key — its effect is a state change that happens once whoever
runs it, or a row written with ``ON CONFLICT DO NOTHING`` on its key.

Schedules are cron expressions in **UTC** (pgqueuer computes the next run with croniter in UTC): write them with
``daily_at_beijing`` / ``every_seconds``. A tick does not run the function in the scheduler: it enqueues one job
(dedupe key = the job's name, so a tick while one is still waiting or running adds none), which any worker runs
with the job's retry policy, heartbeat recovery and ``/metrics`` backlog like any other job.
``CNVISA_JOB_SCHEDULE_<NAME>`` (e.g. ``CNVISA_JOB_SCHEDULE_DAILY_SWEEP``) replaces a job's schedule (office
rule; ``off`` turns it off)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases.clock import SHANGHAI, Clock


@dataclass(frozen=True)
class JobContext:
    """What every job gets: the platform's sessions (its engine) and clock (``CNVISA_CLOCK_START`` honoured)."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    dialect: str
    """``postgresql`` (the durable queue) or ``sqlite`` (the in-process runner)."""


JobFunction = Callable[[JobContext, dict[str, Any]], Awaitable[Mapping[str, Any] | None]]


@dataclass(frozen=True)
class Retry:
    """A failing job is queued again after ``initial_delay * multiplier ** attempts`` seconds (at most
    ``max_delay``), up to ``max_attempts`` retries (pgqueuer's count: ``max_attempts + 1`` runs in all); then it
    is kept as ``failed`` in the queue table, its traceback in ``pgqueuer_log``, for the operator (pgqueuer's
    ``on_failure="hold"``). A worker's death is not a failure: the job runs again after the heartbeat
    timeout, whatever its attempts."""

    max_attempts: int = 5
    initial_delay: float = 1.0
    max_delay: float = 300.0
    multiplier: float = 2.0


@dataclass(frozen=True)
class Job:
    name: str
    run: JobFunction
    retry: Retry = field(default_factory=Retry)
    cron: str | None = None
    """UTC cron (5 fields, or 6 with seconds last); None: run only when enqueued."""
    payload: Mapping[str, Any] | None = None
    """What a scheduled tick enqueues."""
    concurrency_limit: int = 0
    """At most this many running at once in a worker (0: no limit)."""
    each_worker: bool = False
    """On PostgreSQL every ``cnvisa worker`` ticks this job itself (its own in-process queue), instead of one
    worker taking each tick from the shared schedule: for work split by the rows it claims (``FOR UPDATE SKIP
    LOCKED``), so that one worker per core means one deliverer per core. SQLite: as any job."""


def daily_at_beijing(hour: int, minute: int) -> str:
    """The UTC cron of a daily run at ``hour:minute`` Asia/Shanghai (UTC+8 all year: China keeps no summer
    time), e.g. 00:05 Beijing -> ``5 16 * * *`` (16:05 UTC the day before)."""
    at = dt.datetime(2025, 1, 1, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)
    return f"{at.minute} {at.hour} * * *"


def every_seconds(n: int) -> str:
    """The cron of a run every ``n`` seconds (``n`` divides 60), croniter's seconds field last."""
    if n < 1 or 60 % n:
        raise ValueError(f"every_seconds: {n} does not divide a minute")
    return f"* * * * * */{n}"


def schedule_of(job: Job, environ: Mapping[str, str] | None = None) -> str | None:
    """The job's schedule: ``CNVISA_JOB_SCHEDULE_<NAME>`` when set (``off``: none), else ``job.cron``. A bad
    expression raises ``ValueError`` naming the variable."""
    from croniter import croniter  # type: ignore[import-untyped]

    var = "CNVISA_JOB_SCHEDULE_" + job.name.upper().replace(".", "_")
    raw = (os.environ if environ is None else environ).get(var, "").strip()
    if not raw:
        return job.cron
    if raw.lower() == "off":
        return None
    if not croniter.is_valid(raw):
        raise ValueError(f"{var}: {raw!r} is not a cron expression (UTC; 5 fields, or 6 with seconds last)")
    return raw


def _registry() -> tuple[Job, ...]:
    from cnvisa.worker import jobs

    return (
        Job(
            "daily_sweep",
            jobs.daily_sweep,
            Retry(max_attempts=5, initial_delay=60.0, max_delay=1800.0),
            cron=daily_at_beijing(0, 5),
            concurrency_limit=1,
        ),
        Job(  # the notifications outbox (issue 12; docs/notifications.md): the rows due, every 10 seconds
            "deliver_outbox",
            jobs.deliver_outbox,
            Retry(max_attempts=10, initial_delay=5.0, max_delay=600.0),
            cron=every_seconds(10),
            payload={"limit": 200, "seconds": 8, "at_once": 2},
            concurrency_limit=1,  # one job at a time in a worker; its ``at_once`` loops are the parallelism
            each_worker=True,  # every worker delivers: passes never take one row (SKIP LOCKED)
        ),
        Job(  # monthly partitions made ahead (issue 14, cnvisa.store.partitions): daily, before the month turns
            "ensure_partitions",
            jobs.ensure_partitions,
            Retry(max_attempts=5, initial_delay=60.0, max_delay=1800.0),
            cron=daily_at_beijing(0, 20),
            payload={"ahead": 3},
            concurrency_limit=1,
        ),
    )


JOBS: Final[tuple[Job, ...]] = _registry()
"""Every job of the platform. ``cnvisa worker`` registers each as a queue entrypoint and each ``cron`` as a
schedule."""


def by_name(jobs: tuple[Job, ...] = JOBS) -> dict[str, Job]:
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise ValueError(f"job names repeat: {sorted({n for n in names if names.count(n) > 1})}")
    return {j.name: j for j in jobs}


def with_schedules(jobs: tuple[Job, ...], environ: Mapping[str, str] | None = None) -> tuple[Job, ...]:
    """The jobs with their schedules as configured (``schedule_of``)."""
    return tuple(replace(j, cron=schedule_of(j, environ)) for j in jobs)
