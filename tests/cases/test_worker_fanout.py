"""One deliverer per core (issue 12: "delivered … with one worker per core"): on PostgreSQL every ``cnvisa
worker`` ticks the outbox's delivery itself (``Job.each_worker``), so two workers both deliver; the rows are
split by the claim's ``FOR UPDATE SKIP LOCKED`` and each message reaches the SMTP server once."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from case_helpers import World
from notify_helpers import SmtpHandler, smtp_server
from sqlalchemy import func, insert, select
from test_worker import _processes, _read, _spawn, _stop, _wait

from cnvisa.cases.channels import EMAIL
from cnvisa.store.outbox_tables import Notification, NotificationAttempt
from cnvisa.worker.registry import every_seconds

pytestmark = pytest.mark.timeout(300)
MESSAGES = 3000
_SENT = re.compile(r"job deliver_outbox #\S+ \(attempt \d+\) done in [\d.]+ s: \{'sent': (\d+)")


class SlowSmtp(SmtpHandler):
    """Accepts after a short wait (a relay's round trip): the delivery lasts long enough for both workers to
    tick while rows are due."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.002)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_workers_both_deliver_and_no_message_twice(
    world: World, db_url: str, tmp_path: Path
) -> None:
    now = world.clock.now()
    handler = SlowSmtp()
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]

    def output() -> str:
        return _read(logs)

    with smtp_server(handler) as port, _processes() as started:
        env = {
            "CNVISA_CLOCK_START": (now + dt.timedelta(minutes=1)).isoformat(),
            "CNVISA_SMTP_HOST": "127.0.0.1",
            "CNVISA_SMTP_PORT": str(port),
            "CNVISA_JOB_SCHEDULE_DELIVER_OUTBOX": every_seconds(1),
            "CNVISA_JOB_SCHEDULE_DAILY_SWEEP": "off",
            "CNVISA_JOB_SCHEDULE_ENSURE_PARTITIONS": "off",
        }
        cli = [sys.executable, "-m", "cnvisa.cli", "worker", "--database-url", db_url]
        procs = [await _spawn(started, log, *cli, env=env) for log in logs]

        async def both_ticking() -> bool:  # each has run the delivery at least once (nothing due yet)
            return all(log.exists() and "job deliver_outbox" in log.read_text() for log in logs)

        await _wait("both workers to tick the delivery", both_ticking, output)
        async with world.sessions() as s, s.begin():
            await s.execute(
                insert(Notification),
                [
                    {
                        "subject_kind": "case",
                        "subject_id": 50_000 + n,
                        "stage": "approved",
                        "channel": EMAIL,
                        "recipient_account_id": world.applicant.account_id,
                        "address": f"holder{n}@example.com",
                        "language": "en",
                        "template": "approved",
                        "params": {"case": f"F{n}", "matter": "visa"},
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for n in range(MESSAGES)
                ],
            )

        async def all_sent() -> bool:
            async with world.sessions() as s:
                left = await s.scalar(select(func.count()).where(Notification.state != "sent"))
            return left == 0

        await _wait(f"the {MESSAGES} e-mails to be sent", all_sent, output, timeout=240)
        for proc in procs:
            await _stop(proc, output)

    per_worker = [sum(int(n) for n in _SENT.findall(log.read_text())) for log in logs]
    assert sum(per_worker) == MESSAGES and all(n > 0 for n in per_worker), (per_worker, output()[-3000:])
    assert "(each worker)" in logs[0].read_text()
    ids = [m["Message-ID"] for m in handler.received]
    assert len(ids) == len(set(ids)) == MESSAGES  # each once at the server
    async with world.sessions() as s:
        attempts = (await s.execute(select(NotificationAttempt.notification_id))).scalars().all()
        stored = set((await s.execute(select(Notification.message_id))).scalars())
    assert len(attempts) == len(set(attempts)) == MESSAGES  # one attempt each: none claimed twice
    assert stored == set(ids)


async def test_a_job_that_says_more_runs_again_at_once() -> None:
    """A summary with ``more`` (the delivery's time ran out on a full pass) queues the job again at once on the
    queue that ran it — no waiting for the next tick — and one without stops the chain."""
    import datetime as _dt

    from pgqueuer import PgQueuer

    from cnvisa.store import queue
    from cnvisa.worker.registry import Job, JobContext
    from cnvisa.worker.runner import register

    runs: list[int] = []
    done = asyncio.Event()

    async def backlog(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
        runs.append(len(runs))
        if len(runs) == 4:
            done.set()
        return {"sent": 200, "more": len(runs) < 4}

    pgq = PgQueuer.in_memory()
    register(pgq, (Job("backlog", backlog, payload={"limit": 200}),), JobContext(None, None, "sqlite"))  # type: ignore[arg-type]
    assert pgq.queries is not None
    await pgq.queries.enqueue("backlog", queue.encode({"limit": 200}), 0, None, None)
    runner = asyncio.create_task(pgq.run(dequeue_timeout=_dt.timedelta(seconds=0.2), batch_size=1))
    try:
        try:
            async with asyncio.timeout(30):
                await done.wait()
        except TimeoutError:
            pytest.fail(f"the job ran {len(runs)} time(s) in 30 s: 'more' did not queue it again")
        await asyncio.sleep(1.0)  # a fifth run would have started by now
    finally:
        pgq.shutdown.set()
        await asyncio.wait_for(runner, 30)
    assert runs == [0, 1, 2, 3]
