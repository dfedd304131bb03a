"""Engines and sessions. SQLite (a file under ``var/``, WAL mode) is the embedded default; PostgreSQL is the
production engine, chosen with ``CNVISA_DATABASE_URL`` (e.g. ``postgresql+asyncpg://localhost/cnvisa``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

DEFAULT_SQLITE = Path("var") / "cnvisa.sqlite3"


def database_url(url: str | None = None) -> str:
    url = url or os.environ.get("CNVISA_DATABASE_URL")
    if url:
        return url
    DEFAULT_SQLITE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{DEFAULT_SQLITE}"


def sync_url(url: str) -> str:
    """The synchronous driver URL for Alembic (same database)."""
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


LOCK_WAIT_SECONDS = 10  # the longest a statement waits for another transaction's lock (both engines)


@dataclass(frozen=True)
class Timeouts:
    """How long a request may wait on the database, in seconds (None: the driver's default, for the CLI's long
    jobs). ``connect``: to open a connection (asyncpg ``timeout``); ``statement``: one statement (PostgreSQL
    statement_timeout on the server, and asyncpg ``command_timeout`` a second later on the client, for a server
    or network that stalls); ``pool``: to get a connection from a full pool. A stalled database must not hold
    requests for ever."""

    connect: float | None = None
    statement: float | None = None
    pool: float | None = None


CLIENT_GRACE_SECONDS = 1.0
"""The client's statement timeout runs this much past the server's, so that a merely slow statement ends with the
server's clean error (57014) and only a stalled connection with the client's."""


def _disconnect_on_timeout(engine: AsyncEngine) -> None:
    """A statement that timed out on the client, or a socket error, leaves the connection in an unknown state
    (bytes may still be in flight): treat it as a disconnect, so that SQLAlchemy discards it and the pool's
    older connections instead of handing them out again — the platform recovers once the database answers,
    without a restart (cheaper than ``pool_pre_ping``'s extra round trip on every checkout)."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(ctx: Any) -> None:
        if isinstance(ctx.original_exception, (TimeoutError, OSError)):
            ctx.is_disconnect = True


def make_engine(
    url: str | None = None,
    *,
    lock_wait_seconds: float = LOCK_WAIT_SECONDS,
    timeouts: Timeouts | None = None,
    **kwargs: Any,
) -> AsyncEngine:
    """An engine on which no request waits for ever: a lock wait ends after ``lock_wait_seconds`` (SQLite
    busy_timeout; PostgreSQL lock_timeout), and on PostgreSQL a transaction left idle for a minute (a bug, or a
    client gone) is ended by the server, releasing its locks. The web layer answers these as 503 "busy, nothing
    changed" (cnvisa.http.problems). ``timeouts`` bound connecting, each statement and the wait for a pooled
    connection (the web passes them from its settings)."""
    url = database_url(url)
    wait_ms = max(1, int(lock_wait_seconds * 1000))
    # a database error's text never carries the statement's values (passport numbers, names) into the logs:
    # PIPL Art 6 minimisation, OWASP ASVS 4.0 V7.1.1
    kwargs.setdefault("hide_parameters", True)
    t = timeouts or Timeouts()
    if t.pool is not None:
        kwargs.setdefault("pool_timeout", t.pool)
    if is_sqlite(url):
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoint, no torn writes
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={wait_ms}")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # Writers queue at BEGIN instead of failing at their first write (SQLite has one writer).
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        # pysqlite's own transaction handling is switched off so that the BEGIN above is the only one.
        @event.listens_for(engine.sync_engine, "connect")
        def _no_autobegin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    if url.startswith("postgresql+asyncpg"):
        settings = kwargs.setdefault("connect_args", {}).setdefault("server_settings", {})
        settings.setdefault("lock_timeout", f"{wait_ms}ms")
        settings.setdefault("idle_in_transaction_session_timeout", "60s")
        args = kwargs["connect_args"]
        if t.connect is not None:
            args.setdefault("timeout", t.connect)
        if t.statement is not None:
            settings.setdefault("statement_timeout", f"{max(1, int(t.statement * 1000))}ms")
            args.setdefault("command_timeout", t.statement + CLIENT_GRACE_SECONDS)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    engine = create_async_engine(url, **kwargs)
    _disconnect_on_timeout(engine)
    return engine


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
