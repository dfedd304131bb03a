"""``cnvisa tokens`` and ``cnvisa accounts``: a verifier's API tokens listed and revoked, accounts switched off
and on, from the command line (issue 13; ASVS 4.0 V3.5.x). Every change is audited as the system."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer

tokens_app = typer.Typer(help="Verifiers' API tokens: list, revoke.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts: switch off, switch back on.", no_args_is_help=True)
DbUrl = Annotated[str | None, typer.Option("--database-url", help="Overrides CNVISA_DATABASE_URL")]
T = TypeVar("T")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _run(url: str | None, work: Callable[[Any, Any], Awaitable[T]]) -> T:
    """``work(sessions, now)`` on the database; a database failure is one line, never a traceback."""
    import datetime as dt
    import os

    from cnvisa.cases.clock import StartedClock, SystemClock
    from cnvisa.store.db import make_engine, sessionmaker

    start = os.environ.get("CNVISA_CLOCK_START")  # as ``cnvisa serve`` reads it
    try:
        clock = StartedClock(dt.datetime.fromisoformat(start)) if start else SystemClock()
    except ValueError:
        _fail(f"CNVISA_CLOCK_START: {start!r} is not an ISO date-time (2025-11-20T09:00+08:00)")

    async def run() -> T:
        engine = make_engine(url)
        try:
            return await work(sessionmaker(engine), clock.now().astimezone(dt.UTC))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except Exception as exc:
        _fail(f"database: {type(exc).__name__}: {str(exc).splitlines()[0]}")


@tokens_app.command("list")
def tokens_list(
    user: Annotated[str | None, typer.Option("--user", help="only this account's tokens")] = None,
    database_url: DbUrl = None,
) -> None:
    """Every API token (never the token itself): id, account, client, state, expiry, last use."""
    from sqlalchemy import select

    from cnvisa.http import tokens
    from cnvisa.store.tables import Account

    async def work(sessions: Any, now: Any) -> list[dict[str, Any]] | None:
        account_id = None
        if user is not None:
            async with sessions() as s:
                account_id = (
                    await s.execute(select(Account.id).where(Account.username == user))
                ).scalar_one_or_none()
            if account_id is None:
                return None
        return await tokens.of_account(sessions, now, account_id)

    rows = _run(database_url, work)
    if rows is None:
        _fail(f"--user: no account {user!r}")
    for r in rows:
        last = r["last_used_at"].isoformat() if r["last_used_at"] else "never"
        typer.echo(
            f"{r['id']}\t{r['username']}\t{r['label']}\t{r['state']}\t"
            f"expires {r['expires_at'].isoformat()}\tlast used {last}"
        )
    typer.echo(f"{len(rows)} token(s)")


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="the id `cnvisa tokens list` shows")],
    database_url: DbUrl = None,
) -> None:
    """Revoke one token at once, for good (audited)."""
    from cnvisa.cases.actor import SYSTEM
    from cnvisa.http import tokens

    if not _run(
        database_url, lambda sessions, now: tokens.revoke(sessions, SYSTEM, token_id, now, owner=None)
    ):
        _fail(f"ID: no token {token_id}")
    typer.echo(f"token {token_id} revoked")


def _switch(username: str, active: bool, url: str | None) -> None:
    from cnvisa.cases.actor import SYSTEM
    from cnvisa.http import tokens

    detail = _run(url, lambda sessions, now: tokens.set_active(sessions, SYSTEM, username, active, now))
    if detail is None:
        _fail(f"USERNAME: no account {username!r}")
    if active:
        typer.echo(f"{username} switched on; sessions and tokens from before stay dead")
    else:
        typer.echo(f"{username} switched off; {detail['tokens_revoked']} token(s) revoked, sessions closed")


@accounts_app.command("deactivate")
def accounts_deactivate(username: str, database_url: DbUrl = None) -> None:
    """Switch an account off: it can no longer sign in; its API tokens are revoked and its sessions closed."""
    _switch(username, False, database_url)


@accounts_app.command("activate")
def accounts_activate(username: str, database_url: DbUrl = None) -> None:
    """Switch an account back on: new sign-ins work; its old sessions and tokens do not come back."""
    _switch(username, True, database_url)
