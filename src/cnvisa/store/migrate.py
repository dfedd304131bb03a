"""``cnvisa db upgrade``: Alembic migrations are the only way the schema is made."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.store.db import database_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url(url))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def revision(message: str, url: str | None = None) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True)


def code_heads() -> frozenset[str]:
    """The schema revisions this code expects (Alembic's heads), read from the migration scripts, not the
    database."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


async def database_revisions(session: AsyncSession) -> frozenset[str]:
    """The revisions the database says it is at (empty when it was never migrated)."""
    try:
        rows = await session.execute(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:
        await session.rollback()
        return frozenset()
    return frozenset(r[0] for r in rows)
