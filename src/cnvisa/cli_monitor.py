"""``cnvisa db escalations``: per office, the open cases past their statutory deadline and those near it
(issue 12; ``cnvisa.cases.queries.escalation``). "Near" is an office rule: ``CNVISA_ESCALATION_WORKING_DAYS``
(2 by default) or ``--near``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

DbUrl = Annotated[str | None, typer.Option("--database-url", help="Overrides CNVISA_DATABASE_URL")]


def sweep_rules() -> tuple[tuple[int, ...], int]:
    """The office rules ``cnvisa db sweep`` writes notifications by: the reminder steps
    (``CNVISA_REMINDER_STEPS_DAYS``) and the near-deadline rule of escalations (``CNVISA_ESCALATION_WORKING_DAYS``);
    a bad value stops the command, naming the variable."""
    from cnvisa.cli import _fail
    from cnvisa.http.settings import Settings

    try:
        settings = Settings()
    except ValueError as exc:
        _fail(str(exc))
    return settings.reminder_steps_days, settings.escalation_working_days


def escalations(
    database_url: DbUrl = None,
    near: Annotated[
        int | None,
        typer.Option(
            "--near",
            min=0,
            max=60,
            help="Working days or fewer left that count as near (office rule); default "
            "CNVISA_ESCALATION_WORKING_DAYS, else 2",
        ),
    ] = None,
) -> None:
    """Per office: open cases overdue and near their deadline, on the platform's today (Beijing; CNVISA_CLOCK_START
    when set); prints JSON."""
    import asyncio

    from cnvisa.cases.service import CaseService
    from cnvisa.cli import _clock, _fail
    from cnvisa.http.settings import Settings
    from cnvisa.store.db import make_engine, sessionmaker

    try:
        n = near if near is not None else Settings().escalation_working_days
    except ValueError as exc:
        _fail(str(exc))
    clock = _clock()

    async def run() -> dict[str, object]:
        engine = make_engine(database_url)
        try:
            svc = CaseService(sessionmaker(engine), clock)
            offices = await svc.escalation_counts(n)
            return {
                "today": svc.today().isoformat(),
                "near_working_days": n,
                "rule": "office rule",
                "offices": offices,
            }
        finally:
            await engine.dispose()

    try:
        out = asyncio.run(run())
    except Exception as exc:  # one line, never a traceback
        _fail(f"database: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


def deliver(
    database_url: DbUrl = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=10_000, help="Rows to claim in this pass")
    ] = 100,
) -> None:
    """One delivery pass of the notifications outbox (issue 12): claims at most --limit due messages, sends each
    over its channel (inbox; e-mail when CNVISA_SMTP_HOST is set; SMS when CNVISA_SMS_GATEWAY_URL is set), and
    records every attempt — the same function the job queue's worker runs on a schedule
    (``Platform.outbox.deliver_due``). Prints JSON: the rows sent, retried later and failed, and the outbox by
    state."""
    import asyncio

    from cnvisa.cli import _clock, _fail
    from cnvisa.http.settings import Settings
    from cnvisa.store.db import make_engine, sessionmaker
    from cnvisa.worker.jobs import outbox_service

    try:
        settings = Settings()
    except ValueError as exc:
        _fail(str(exc))
    clock = _clock()
    config = settings.notify_channels

    async def run() -> dict[str, object]:
        engine = make_engine(database_url)
        try:
            service = outbox_service(sessionmaker(engine), clock, settings)
            done = await service.deliver_due(limit=limit)
            return {
                **{k: len(v) for k, v in done.items()},
                "channels": list(config.offered),
                "outbox": await service.counts(),
            }
        finally:
            await engine.dispose()

    try:
        out = asyncio.run(run())
    except Exception as exc:  # one line, never a traceback
        _fail(f"database: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
