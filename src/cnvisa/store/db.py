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


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoint, no torn writes
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str | None = None, **kwargs: Any) -> AsyncEngine:
    url = database_url(url)
    if is_sqlite(url):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # Writers queue at BEGIN instead of failing at their first write (SQLite has one writer).
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        # pysqlite's own transaction handling is switched off so that the BEGIN above is the only one.
        @event.listens_for(engine.sync_engine, "connect")
        def _no_autobegin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return create_async_engine(url, **kwargs)


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
