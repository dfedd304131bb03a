"""``cnvisa db escalations``: per office, the open cases past their statutory deadline and those near it
(issue 12; ``cnvisa.cases.queries.escalation``). "Near" is an office rule: ``CNVISA_ESCALATION_WORKING_DAYS``
(2 by default) or ``--near``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

DbUrl = Annotated[str | None, typer.Option("--database-url", help="Overrides CNVISA_DATABASE_URL")]


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
