"""Fixtures of the web tests: the whole platform over SQLite and PostgreSQL, with the demo data and sign-ins
(``cnvisa.demo``) and a clock fixed at 2025-11-20 09:00 Beijing time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine
from web_support import TODAY, Web

from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.demo import seed, seed_web
from cnvisa.web.app import create_app
from cnvisa.web.settings import Settings


@pytest.fixture
async def seeded(engine: AsyncEngine) -> dict[str, Any]:
    await seed(engine, cases=60, seed_value=3, today=TODAY)
    return await seed_web(engine, TODAY)


@pytest.fixture
def web(seeded: dict[str, Any], db_url: str) -> Iterator[Web]:
    clock = ManualClock(dt.datetime.combine(TODAY, dt.time(9, 0), tzinfo=SHANGHAI))
    app = create_app(Settings(database_url=db_url), clock=clock)
    with TestClient(app, follow_redirects=False) as client:
        yield Web(client, clock, seeded, db_url)
