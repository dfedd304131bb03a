"""The queue's job functions (registered in ``cnvisa.worker.registry.JOBS``). Each is idempotent by key: run
twice — a worker killed half-way, a tick while another worker ran it — its effect happens once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases.channels import channels
from cnvisa.cases.clock import SHANGHAI, Clock
from cnvisa.cases.delivery import OutboxService
from cnvisa.cases.sweep import daily_sweep as sweep
from cnvisa.http.settings import Settings
from cnvisa.store import partitions
from cnvisa.web.notify_texts import NotificationTexts

if TYPE_CHECKING:
    from cnvisa.worker.registry import JobContext


async def daily_sweep(ctx: JobContext, payload: dict[str, Any]) -> Mapping[str, Any]:
    """``cnvisa db sweep``'s work (``cnvisa.cases.sweep``): every step changes only what is due on the platform's
    Beijing today, so a second run changes nothing. Payload: nothing (the port-visa arrival window is read from
    ``CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS`` in the worker's environment)."""
    settings = Settings()  # the office rules of reminders and escalations (refused at start when bad)
    report = await sweep(
        ctx.sessions,
        ctx.clock,
        reminder_steps=settings.reminder_steps_days,
        near_working_days=settings.escalation_working_days,
    )
    return report.summary()


async def ensure_partitions(ctx: JobContext, payload: dict[str, Any]) -> Mapping[str, Any]:
    """The monthly partitions of the current Beijing month and the next ``ahead`` (3) months of every partitioned
    table (``cnvisa.store.partitions``, migration 0028): a month that has its partition is skipped, so a second
    run creates nothing. SQLite: nothing to do (plain tables)."""
    if ctx.dialect != "postgresql":
        return {"created": [], "skipped": "sqlite: plain tables"}
    today = ctx.clock.now().astimezone(SHANGHAI).date()
    ahead = int(payload.get("ahead", partitions.AHEAD))
    async with ctx.sessions() as s, s.begin():
        conn = await s.connection()
        return await conn.run_sync(lambda sync: partitions.ensure(sync, today, ahead))


def outbox_service(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> OutboxService:
    """The delivery service on the configured channels (inbox; e-mail and SMS when their settings are set)."""
    config = settings.notify_channels
    return OutboxService(
        sessions,
        clock,
        channels=channels(config),
        texts=NotificationTexts(),
        rules=settings.notify_retry,
        domain=config.smtp.domain if config.smtp else "cnvisa.localhost",
    )


async def deliver_outbox(ctx: JobContext, payload: dict[str, Any]) -> Mapping[str, Any]:
    """``cnvisa db deliver``'s pass (``OutboxService.deliver_due``), repeated while rows are due, for at most
    ``seconds``: each pass claims at most ``limit`` rows, records each attempt before sending and is safe beside
    another pass. ``at_once`` (2; 1 on SQLite, one writer) such loops run side by side, each with its own
    channels: while one pass waits for the database the other sends (at 200 a pass, 1.6× the messages a second
    of one loop, benchmarks/RESULTS.md). Run twice, a message already sent is not claimed again.

    ``more`` in the summary: the time ran out on a full pass, so rows may still be due — the runner runs the job
    again at once instead of waiting for the next tick (a backlog drains at full speed, and a SIGTERM still waits
    at most ``seconds`` for the running job)."""
    settings = Settings()
    limit, budget = int(payload.get("limit", 200)), float(payload.get("seconds", 8))
    at_once = 1 if ctx.dialect == "sqlite" else max(1, int(payload.get("at_once", 2)))
    ends = time.monotonic() + budget

    async def passes() -> tuple[dict[str, int], bool]:
        service = outbox_service(ctx.sessions, ctx.clock, settings)
        totals = {"sent": 0, "retry": 0, "failed": 0}
        while True:
            done = await service.deliver_due(limit=limit)
            for k in totals:
                totals[k] += len(done.get(k, ()))
            if sum(len(v) for v in done.values()) < limit:
                return totals, False
            if time.monotonic() >= ends:
                return totals, True

    loops = await asyncio.gather(*(passes() for _ in range(at_once)))
    out: dict[str, Any] = {k: sum(t[k] for t, _ in loops) for k in ("sent", "retry", "failed")}
    out["more"] = any(more for _, more in loops)
    return out
