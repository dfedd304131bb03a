"""Fixtures shared by every storage test: each runs on SQLite and on PostgreSQL.

Each test gets a database of its own, copied from a template made once per session (per pytest-xdist worker):
``migrate.upgrade`` runs once per engine, not once per test. SQLite: the template file is copied into the
test's ``tmp_path``. PostgreSQL: ``CREATE DATABASE ... TEMPLATE`` (names ``cnvisa_test_<worker>_<random>_*``),
dropped after the test — in batches, on several connections at once (``DROP_BATCH``, ``DROP_CONNECTIONS``); the
templates are dropped at the end. A test whose fixtures name a seeded database
(``db_content``, overridden per folder, e.g. the web tests' demo data) gets a copy of a template seeded once.
``CNVISA_TEST_PG_URL`` overrides the server. PostgreSQL missing is a failure, never a skip: CI must not pass
without it.

Hypothesis: the ``default`` profile bounds the examples of every property test; ``CNVISA_HYPOTHESIS=long``
(e.g. ``CNVISA_HYPOTHESIS=long make test``) runs the long one. Under pytest-xdist every worker has its own
templates and databases; the browser tests run on one worker (``xdist_group``, ``--dist loadgroup``).
"""

from __future__ import annotations

import asyncio
import copy
import os
import queue
import secrets
import shutil
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

import compiled_cache
from cnvisa.store import migrate
from cnvisa.store.db import make_engine
from lock_order import _audit_head_is_the_last_lock  # noqa: F401  (autouse, every test)
from password_hashing import cheap_password_hashes

compiled_cache.install()

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
# PostgreSQL 15's DROP DATABASE waits for an immediate checkpoint (every dirty buffer of every test database
# written, every file fsynced): one drop per test made a checkpoint per test, which the commits of the tests
# running meanwhile queued behind. Drops sent together on several connections share their checkpoints; a batch
# bounds what is left on disk (≈ 12 MB a database).
DROP_BATCH = 24
DROP_CONNECTIONS = 8

# Bounded by default (an explicit @settings(max_examples=...) on a test is kept); the long run is opt-in.
settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile(
    "long", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("CNVISA_HYPOTHESIS", "default"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The browser tests share their screenshot folders: under pytest-xdist (--dist loadgroup) one worker runs
    # them all, one after the other.
    for item in items:
        if item.path.name == "test_e2e_browser.py":
            item.add_marker(pytest.mark.xdist_group("browser"))
        elif item.path.name == "test_accessibility.py":  # a browser and folder per language: side by side
            lang = item.callspec.params["lang"] if isinstance(item, pytest.Function) else ""
            item.add_marker(pytest.mark.xdist_group(f"browser-a11y-{lang}"))
    # The longest tests first (stable sort: the rest keep their order): the browser group starts on one worker
    # while the other takes the rest, instead of running alone at the end.
    first = ("test_e2e_browser.py", "test_accessibility.py", "test_schemathesis.py")
    items.sort(key=lambda item: first.index(item.path.name) if item.path.name in first else len(first))


DbContent = tuple[str, Callable[[AsyncEngine], Awaitable[Any]]]
"""What a test's database holds beyond the migrated schema: (name, build). ``build`` runs once per engine and
session on the template; what it returns is given (a copy) to every test whose database is copied from it."""


def _admin_dsn() -> str:
    url = make_url(os.environ.get("CNVISA_TEST_PG_URL") or DEFAULT_PG)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Templates:
    """The templates of one session (one xdist worker) and the databases copied from them."""

    tmp: Path
    prefix: str
    admin: psycopg.Connection[Any] | None = None
    made: dict[tuple[str, str], Any] = field(default_factory=dict)
    """(engine, content name) -> what the content's build returned."""
    results: dict[str, Any] = field(default_factory=dict)
    """A test database's URL -> the result of the template it was copied from."""
    count: int = 0
    unusable: str = ""
    to_drop: queue.Queue[str | None] = field(default_factory=queue.Queue)
    dropper: threading.Thread | None = None

    def pg(self) -> psycopg.Connection[Any]:
        if self.admin is None and not self.unusable:
            dsn = _admin_dsn()
            try:
                self.admin = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
            except psycopg.Error as exc:
                self.unusable = (
                    f"PostgreSQL is required by the storage tests and is not usable at "
                    f"{make_url(dsn).render_as_string(hide_password=True)}: {exc!r}. Start PostgreSQL or set "
                    "CNVISA_TEST_PG_URL (these tests fail rather than skip without it)."
                )
        if self.admin is None:  # every PostgreSQL test fails, without waiting for the server again
            pytest.fail(self.unusable, pytrace=False)
        return self.admin

    def _pg_url(self, name: str) -> str:
        return (
            make_url(_admin_dsn())
            .set(drivername="postgresql+asyncpg", database=name)
            .render_as_string(hide_password=False)
        )

    def _template(self, dialect: str, content: DbContent | None) -> str:
        """The template's name (PostgreSQL) or file (SQLite), made on first use."""
        key = (dialect, content[0] if content else "empty")
        name = f"{self.prefix}_{key[1]}"
        where = str(self.tmp / f"{name}.sqlite3") if dialect == "sqlite" else name
        if key in self.made:
            return where
        if dialect == "sqlite":
            url = f"sqlite+aiosqlite:///{where}"
        else:
            self.pg().execute(f'CREATE DATABASE "{name}"')
            url = self._pg_url(name)
        migrate.upgrade(url)
        self.made[key] = asyncio.run(_build(url, content)) if content else None
        if dialect == "sqlite":  # the whole database in the one file that is copied
            with sqlite3.connect(where) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return where

    def copy(self, dialect: str, content: DbContent | None, tmp_path: Path) -> str:
        """A fresh database for one test (an async SQLAlchemy URL), a copy of the template."""
        template = self._template(dialect, content)
        if dialect == "sqlite":
            path = tmp_path / "cnvisa.sqlite3"
            shutil.copyfile(template, path)
            url = f"sqlite+aiosqlite:///{path}"
        else:
            self.count += 1
            name = f"{self.prefix}_t{self.count}"
            self.pg().execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            url = self._pg_url(name)
        self.results[url] = self.made[(dialect, content[0] if content else "empty")]
        return url

    def result(self, url: str) -> Any:
        """What the build of the test database's content returned (a copy: tests may change it)."""
        return copy.deepcopy(self.results[url])

    def drop(self, url: str) -> None:
        """Forget a test's database; a PostgreSQL one is dropped by a thread, with others (``DROP_BATCH``),
        while the next tests run."""
        self.results.pop(url, None)
        if make_url(url).get_backend_name() == "postgresql":
            if self.dropper is None:
                self.dropper = threading.Thread(target=self._drop_queued, name="drop-test-databases")
                self.dropper.start()
            self.to_drop.put(make_url(url).database)

    def _drop_queued(self) -> None:
        connections: queue.Queue[psycopg.Connection[Any]] = queue.Queue()
        opened: list[psycopg.Connection[Any]] = []

        def drop_one(name: str) -> None:
            try:
                conn = connections.get_nowait()
            except queue.Empty:
                conn = psycopg.connect(_admin_dsn(), autocommit=True, connect_timeout=10)
                opened.append(conn)
            try:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except psycopg.Error as exc:  # left on the server, named: not a test's failure
                print(f"could not drop the test database {name}: {exc!r}")
            finally:
                connections.put(conn)

        batch: list[str] = []
        try:
            with ThreadPoolExecutor(DROP_CONNECTIONS, thread_name_prefix="drop") as pool:
                while True:
                    name = self.to_drop.get()
                    if name is not None:
                        batch.append(name)
                    if batch and (name is None or len(batch) >= DROP_BATCH):
                        list(pool.map(drop_one, batch))
                        batch = []
                    if name is None:
                        return
        except psycopg.Error as exc:  # the server gone: what is left is named
            print(f"could not drop the test databases {batch}: {exc!r}")
        finally:
            for conn in opened:
                conn.close()

    def close(self) -> None:
        if self.dropper is not None:
            self.to_drop.put(None)
            self.dropper.join(timeout=120)
        if self.admin is None:
            return
        for dialect, name in self.made:
            if dialect == "postgresql":
                self.admin.execute(f'DROP DATABASE IF EXISTS "{self.prefix}_{name}" WITH (FORCE)')
        self.admin.close()


async def _build(url: str, content: DbContent) -> Any:
    eng = make_engine(url)
    try:
        return await content[1](eng)
    finally:
        await eng.dispose()


@pytest.fixture(scope="session")
def db_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    templates = Templates(
        tmp_path_factory.mktemp("templates"), f"cnvisa_test_{worker}_{secrets.token_hex(4)}"
    )
    try:
        yield templates
    finally:
        templates.close()


@pytest.fixture(scope="session")
def pg_url(db_templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session (an asyncpg SQLAlchemy URL)."""
    url = db_templates.copy("postgresql", None, tmp_path_factory.getbasetemp())
    try:
        yield url
    finally:
        db_templates.drop(url)


@pytest.fixture
def db_content() -> DbContent | None:
    """What the test's database holds beyond the schema (None: nothing); overridden by folders' conftests."""
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, db_templates: Templates, db_content: DbContent | None
) -> Iterator[str]:
    """The database of one test, migrated and empty (but for the audit chain's genesis head), or holding
    ``db_content``."""
    url = db_templates.copy(request.param, db_content, tmp_path)
    try:
        yield url
    finally:
        db_templates.drop(url)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(db_url)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def cheap_demo_passwords() -> Iterator[None]:
    """The demo accounts a test seeds are hashed cheaply (password_hashing.py): the test does not sign in."""
    with cheap_password_hashes():
        yield


@pytest.fixture
def dialect(engine: AsyncEngine) -> str:
    return engine.dialect.name
