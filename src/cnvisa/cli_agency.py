"""``cnvisa agency poll [--once]``: the worker between cnvisa and the work-permit authority's own system
(issue 10 §1; docs/agencies.md). Each round sends what the outbox holds (submissions and withdrawal notices
recorded by the joint application's commands, or sent before without an answer) and then asks the authority for
each open branch's new messages, applying them in order through ``receive`` with
``cnvisa.cases.joint.decide_work_permit_branch`` (via ``external``, as the system). Configuration:
``CNVISA_WORK_PERMIT_URL``, ``_TOKEN``, ``_TIMEOUT``, ``_ATTEMPTS``, ``_BACKOFF``, ``_BACKOFF_MAX``,
``_POLL_SECONDS`` (``WorkPermitClientConfig.from_env``); the database from ``CNVISA_DATABASE_URL`` or
``--database-url``."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
from collections import Counter
from typing import Annotated, Any, NoReturn

import typer

agency_app = typer.Typer(help="Other agencies' systems (the work-permit authority).", no_args_is_help=True)
DbUrl = Annotated[str | None, typer.Option("--database-url", help="Overrides CNVISA_DATABASE_URL")]


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


async def one_round(sessions: Any, client: Any, clock: Any) -> dict[str, Any]:
    """Send the outbox, then poll once: counts of what was sent and received."""
    from cnvisa.cases.actor import SYSTEM
    from cnvisa.cases.agencies import deliver_pending, poll_once
    from cnvisa.cases.joint.decide import decide_work_permit_branch

    sent = await deliver_pending(sessions, client, actor=SYSTEM, clock=clock)
    receipts = await poll_once(sessions, client, decide_work_permit_branch, SYSTEM, clock)
    return {
        "sent": dict(Counter(d.outcome for d in sent)),
        "received": dict(Counter(r.outcome for r in receipts)),
        "refused": [r.reason for r in receipts if r.outcome == "refused"],
    }


@agency_app.command("poll")
def agency_poll(
    once: Annotated[bool, typer.Option("--once", help="one round, its counts printed as JSON")] = False,
    database_url: DbUrl = None,
) -> None:
    """Send the outbox to the work-permit authority and apply its decisions: once, or every
    CNVISA_WORK_PERMIT_POLL_SECONDS until interrupted (SIGINT, SIGTERM)."""
    from cnvisa.cases.agencies import WorkPermitClient, WorkPermitClientConfig
    from cnvisa.cases.clock import StartedClock, SystemClock
    from cnvisa.store.db import make_engine, sessionmaker

    try:
        config = WorkPermitClientConfig.from_env()
    except ValueError as exc:
        _fail(f"CNVISA_WORK_PERMIT_*: {exc}")
    start = os.environ.get("CNVISA_CLOCK_START")
    try:
        clock = StartedClock(dt.datetime.fromisoformat(start)) if start else SystemClock()
    except ValueError:
        _fail(f"CNVISA_CLOCK_START: {start!r} is not an ISO date-time (2025-11-20T09:00+08:00)")

    async def run() -> dict[str, Any]:
        engine = make_engine(database_url)
        try:
            sessions = sessionmaker(engine)
            async with WorkPermitClient(config) as client:
                if once:
                    return await one_round(sessions, client, clock)
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                rounds = 0
                while not stop.is_set():
                    try:
                        out = await one_round(sessions, client, clock)
                        typer.echo(json.dumps(out, sort_keys=True), err=True)
                    except (
                        Exception
                    ) as exc:  # the worker outlives one bad round (e.g. the database restarting)
                        typer.echo(f"poll failed: {type(exc).__name__}: {exc}", err=True)
                    rounds += 1
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=config.poll_seconds)
                return {"rounds": rounds}
        finally:
            await engine.dispose()

    try:
        result = asyncio.run(run())
    except Exception as exc:
        _fail(f"database: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    typer.echo(json.dumps(result, sort_keys=True))
