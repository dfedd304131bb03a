"""Engines and sessions. SQLite (a file under ``var/``, WAL mode) is the embedded default; PostgreSQL is the
production engine, chosen with ``CNVISA_DATABASE_URL`` (e.g. ``postgresql+asyncpg://localhost/cnvisa``)."""

from __future__ import annotations

import os
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


def make_engine(
    url: str | None = None, *, lock_wait_seconds: float = LOCK_WAIT_SECONDS, **kwargs: Any
) -> AsyncEngine:
    """An engine on which no request waits for ever: a lock wait ends after ``lock_wait_seconds`` (SQLite
    busy_timeout; PostgreSQL lock_timeout), and on PostgreSQL a transaction left idle for a minute (a bug, or a
    client gone) is ended by the server, releasing its locks. The web layer answers these as 503 "busy, nothing
    changed" (cnvisa.http.problems)."""
    url = database_url(url)
    wait_ms = max(1, int(lock_wait_seconds * 1000))
    # a database error's text never carries the statement's values (passport numbers, names) into the logs:
    # PIPL Art 6 minimisation, OWASP ASVS 4.0 V7.1.1
    kwargs.setdefault("hide_parameters", True)
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
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return create_async_engine(url, **kwargs)


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
