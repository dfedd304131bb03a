"""The tests' shared cache of compiled SQL (tests/compiled_cache.py): one compilation per statement and kind of
database, whatever the number of engines; never a statement compiled for one kind of database run on another."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import literal, select
from sqlalchemy.engine.default import CACHE_HIT, CACHE_MISS

from cnvisa.store.db import make_engine


def _statement() -> object:
    return select(literal(7).label(f"x_{secrets.token_hex(6)}"))  # a statement no other test compiled


async def _run(url: str, stmt: object) -> str:
    """Whether the engine found the statement compiled: ``hit`` or ``miss`` (SQLAlchemy's own record)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(stmt)  # type: ignore[call-overload]
            assert result.scalar_one() == 7
            return {CACHE_HIT: "hit", CACHE_MISS: "miss"}.get(result.context.cache_hit, "uncached")
    finally:
        await engine.dispose()


async def test_a_statement_is_compiled_once_for_every_engine_of_a_kind(tmp_path: Path, pg_url: str) -> None:
    stmt = _statement()
    assert await _run(f"sqlite+aiosqlite:///{tmp_path / 'a.sqlite3'}", stmt) == "miss"
    assert await _run(f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}", stmt) == "hit"  # another engine
    assert await _run(pg_url, stmt) == "miss"  # PostgreSQL: its own compilation
    assert await _run(pg_url, stmt) == "hit"
