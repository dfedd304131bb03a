"""`cnvisa db upgrade`, `cnvisa demo seed`, `cnvisa audit verify` on SQLite and PostgreSQL (issue 3)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.store.db import sessionmaker
from cnvisa.store.tables import AuditEvent, Case

ROOT = Path(__file__).parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cnvisa.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


async def test_seed_then_verify_then_tamper(engine: AsyncEngine, db_url: str) -> None:
    assert cli("db", "upgrade", "--database-url", db_url).returncode == 0  # already at head: a no-op
    seeded = cli("demo", "seed", "--cases", "300", "--seed", "5", "--database-url", db_url)
    assert seeded.returncode == 0, seeded.stderr
    async with sessionmaker(engine)() as s:
        states = {st for (st,) in await s.execute(select(Case.state).distinct())}
        assert len(states) == 12, states  # cases in every state
        assert (await s.execute(select(func.count()).select_from(Case))).scalar_one() == 300
    ok = cli("audit", "verify", "--database-url", db_url)
    assert ok.returncode == 0 and "audit chain ok" in ok.stdout
    async with sessionmaker(engine)() as s, s.begin():
        await s.execute(update(AuditEvent).where(AuditEvent.seq == 1).values(action="something_else"))
    broken = cli("audit", "verify", "--database-url", db_url)
    assert broken.returncode == 1 and "BROKEN at event 1" in broken.stdout, broken.stdout


def test_bad_database_url_is_one_line() -> None:
    r = cli("audit", "verify", "--database-url", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
