"""Fixtures shared by every storage test: each runs on SQLite and on PostgreSQL.

SQLite: a temp file per test, made by ``migrate.upgrade``. PostgreSQL: one fresh database
``cnvisa_test_<random>`` per session, made by ``migrate.upgrade`` and emptied (TRUNCATE) before each test;
dropped at the end. ``CNVISA_TEST_PG_URL`` overrides the server. PostgreSQL missing is a failure, never a
skip: CI must not pass without it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases.audit import CHAINS, GENESIS
from cnvisa.store import migrate
from cnvisa.store.db import make_engine
from cnvisa.store.tables import Base

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def _admin_dsn() -> str:
    url = make_url(os.environ.get("CNVISA_TEST_PG_URL") or DEFAULT_PG)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session (an asyncpg SQLAlchemy URL)."""
    dsn = _admin_dsn()
    name = f"cnvisa_test_{secrets.token_hex(6)}"
    try:
        asyncio.run(_admin(dsn, f'CREATE DATABASE "{name}"'))
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        pytest.fail(
            f"PostgreSQL is required by the case-core tests and is not usable at "
            f"{make_url(dsn).render_as_string(hide_password=True)}: {exc!r}. Start PostgreSQL or set "
            "CNVISA_TEST_PG_URL (these tests fail rather than skip without it).",
            pytrace=False,
        )
    url = (
        make_url(dsn)
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )
    try:
        migrate.upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database of one test, migrated and empty (but for the audit chain's genesis head)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'cnvisa.sqlite3'}"
        migrate.upgrade(url)
        return url
    url = request.getfixturevalue("pg_url")
    assert isinstance(url, str)
    return url


async def _truncate(engine: AsyncEngine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await conn.execute(text("ALTER SEQUENCE audit_seq RESTART"))
        await conn.execute(
            text("INSERT INTO audit_head (id, seq, last_seq, hash) VALUES (:id, 0, 0, :h)"),
            [{"id": chain, "h": GENESIS} for chain in range(CHAINS)],
        )


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(db_url)
    if eng.dialect.name == "postgresql":
        await _truncate(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def dialect(engine: AsyncEngine) -> str:
    return engine.dialect.name
