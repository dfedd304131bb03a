"""Fixtures of the case-core tests (the storage fixtures, over SQLite and PostgreSQL, are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from case_helpers import ON, World, at, seed_world
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases.clock import ManualClock
from cnvisa.cases.service import CaseService


@pytest.fixture
def make_world(engine: AsyncEngine) -> Callable[..., Awaitable[World]]:
    """Factory: seed the office SH01 (and BJ01), a person, accounts and a mandate; return actors and a
    ``CaseService(sessionmaker(engine), ManualClock(start))``."""

    async def factory(start: object = None) -> World:
        clock = ManualClock(at(ON) if start is None else start)  # type: ignore[arg-type]
        return await seed_world(engine, clock)

    return factory


@pytest.fixture
async def world(make_world: Callable[..., Awaitable[World]]) -> World:
    return await make_world()


@pytest.fixture
def svc(world: World) -> CaseService:
    return world.svc
