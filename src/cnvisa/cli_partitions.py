"""``cnvisa db partitions``: the monthly partitions of the tables that grow (issue 14, cnvisa.store.partitions) —
list them, make the months ahead now (what the worker's ``ensure_partitions`` job does daily), and drop the
months past their retention: only by this command, only with ``--yes``, never inside the table's minimum
retention, never the audit chains, and the drop written to the audit log (docs/operations.md, Retention)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

import typer

T = TypeVar("T")
DbUrl = Annotated[str | None, typer.Option("--database-url", help="Overrides CNVISA_DATABASE_URL")]

partitions_app = typer.Typer(
    help="Monthly partitions of audit_events and accommodation_registrations (PostgreSQL).",
    no_args_is_help=True,
)


SQLITE = "database: SQLite keeps plain tables; partitions are PostgreSQL's (migration 0028)"


def _today() -> dt.date:
    from cnvisa.cases.clock import SHANGHAI
    from cnvisa.cli import _clock

    day: dt.date = _clock().now().astimezone(SHANGHAI).date()
    return day


def _settle(go: Callable[[], Coroutine[Any, Any, T | None]]) -> T:
    """Run ``go()``: an error in one line, never a traceback; None (the database is not PostgreSQL) refused."""
    from cnvisa.cli import _fail

    try:
        out = asyncio.run(go())
    except ValueError as exc:
        _fail(str(exc))
    except Exception as exc:
        _fail(f"database: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    if out is None:
        _fail(SQLITE)
    return out


def _run(database_url: str | None, work: Callable[[Any], T]) -> T:
    """``work(sync_connection)`` in one transaction on PostgreSQL."""
    from cnvisa.store.db import make_engine

    async def go() -> T | None:
        engine = make_engine(database_url)
        try:
            if engine.dialect.name != "postgresql":
                return None
            async with engine.begin() as conn:
                return await conn.run_sync(work)
        finally:
            await engine.dispose()

    return _settle(go)


@partitions_app.command("list")
def list_partitions(database_url: DbUrl = None) -> None:
    """Each partitioned table's partitions with their bounds, its rows by partition and its retention (JSON)."""
    from sqlalchemy import text

    from cnvisa.store import partitions

    def work(conn: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for spec in partitions.TABLES:
            rows = conn.execute(
                text(f"SELECT tableoid::regclass::text, count(*) FROM {spec.table} GROUP BY 1")
            ).all()
            counts = dict(rows)
            out[spec.table] = {
                "column": spec.column,
                "retention": spec.retention,
                "partitions": {
                    name: {"bound": bound, "rows": counts.get(name, 0)}
                    for name, bound in sorted(partitions.partitions(conn, spec.table).items())
                },
            }
        return out

    typer.echo(json.dumps(_run(database_url, work), indent=2, ensure_ascii=False))


@partitions_app.command("ensure")
def ensure_partitions(
    database_url: DbUrl = None,
    ahead: Annotated[int, typer.Option("--ahead", min=0, max=24, help="Months after the current one")] = 3,
) -> None:
    """Make the current Beijing month's partition and the next ``--ahead`` months' now (idempotent)."""
    from cnvisa.store import partitions

    today = _today()
    typer.echo(json.dumps(_run(database_url, lambda conn: partitions.ensure(conn, today, ahead))))


@partitions_app.command("drop")
def drop_partitions(
    table: Annotated[str, typer.Argument(help="accommodation_registrations (audit_events is refused)")],
    before: Annotated[str, typer.Option("--before", help="YYYY-MM: months before this one are dropped")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Drop them; without it, only say which would go")
    ] = False,
    database_url: DbUrl = None,
) -> None:
    """Detach and drop the table's months before ``--before`` (a Beijing month), refused inside the table's
    minimum retention; the drop is written to the audit log."""
    from cnvisa.cases import audit
    from cnvisa.cases.workflow import Role
    from cnvisa.cli import _clock, _fail
    from cnvisa.store import partitions
    from cnvisa.store.db import make_engine, sessionmaker

    try:
        month = dt.date.fromisoformat(f"{before}-01")
    except ValueError:
        _fail(f"before: {before!r} is not a month (YYYY-MM)")
    clock = _clock()
    today = _today()

    async def go() -> list[str] | None:
        engine = make_engine(database_url)
        try:
            if engine.dialect.name != "postgresql":
                return None
            async with sessionmaker(engine)() as s, s.begin():
                conn = await s.connection()
                names: list[str] = await conn.run_sync(
                    lambda c: partitions.drop_before(c, table, month, today, dry_run=not yes)
                )
                if yes:  # in the drop's own transaction: no drop without its record
                    await audit.append(
                        s,
                        at=clock.now(),
                        actor_account_id=None,
                        role=Role.SYSTEM,
                        office_id=None,
                        case_id=None,
                        action="drop_partitions",
                        detail={"table": table, "before": before, "dropped": names},
                    )
                return names
        finally:
            await engine.dispose()

    names = _settle(go)
    key = "dropped" if yes else "would_drop"
    typer.echo(json.dumps({key: names, "table": table, "before": before}))
