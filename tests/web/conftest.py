"""Fixtures of the web tests: the whole platform over SQLite and PostgreSQL, with the demo data and sign-ins
(``cnvisa.demo``) and a clock fixed at 2025-11-20 09:00 Beijing time.

The demo data is seeded once per engine and session into a template; a test that uses ``seeded`` gets a copy of
that database (tests/conftest.py, ``db_content``) and the ids the seeding returned."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine
from web_support import TODAY, Web

from cnvisa.app import create_app
from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.demo import seed, seed_web
from cnvisa.demo.joint_story import seed_joint
from cnvisa.demo.port_visa_story import seed_port_visas
from cnvisa.http.settings import Settings
from password_hashing import cheap_password_hashes


async def _seed_demo(engine: AsyncEngine) -> dict[str, Any]:
    await seed(engine, cases=60, seed_value=3, today=TODAY)
    with cheap_password_hashes():  # the tests sign in thousands of times
        ids = await seed_web(engine, TODAY)
        joint = await seed_joint(engine, TODAY, ids)  # joint applications in every state (issue 10 §1)
    return {**ids, "port_visas": await seed_port_visas(engine, TODAY), "joint": joint}


@pytest.fixture
def db_content(request: pytest.FixtureRequest) -> tuple[str, Any] | None:
    """The tests that use ``seeded`` start from a copy of the seeded template."""
    return ("demo", _seed_demo) if "seeded" in request.fixturenames else None


@pytest.fixture
async def seeded(engine: AsyncEngine, db_url: str, db_templates: Any) -> dict[str, Any]:
    """The demo data (in the test's database from the start) and its ids."""
    ids = db_templates.result(db_url)
    assert isinstance(ids, dict)
    return ids


@pytest.fixture
def web(seeded: dict[str, Any], db_url: str) -> Iterator[Web]:
    clock = ManualClock(dt.datetime.combine(TODAY, dt.time(9, 0), tzinfo=SHANGHAI))
    app = create_app(Settings(database_url=db_url), clock=clock)
    with TestClient(app, follow_redirects=False) as client:
        yield Web(client, clock, seeded, db_url)
