"""No request waits for ever on a lock (cnvisa.store.db): when another transaction holds what a request needs
for longer than the lock wait, the answer is 503 "busy, nothing changed" with Retry-After — and the same request
succeeds once the lock is gone. On both engines."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from web_support import PASSWORDS, TODAY

from cnvisa.app import create_app
from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.http.settings import Settings
from cnvisa.store.db import sync_url


@contextmanager
def lock_held(db_url: str) -> Iterator[None]:
    """Another client holds the write lock (SQLite) or an exclusive lock on sign-in attempts (PostgreSQL)."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(db_url.split("///", 1)[1], isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    with psycopg.connect(sync_url(db_url).replace("postgresql+psycopg", "postgresql")) as conn:
        conn.execute("LOCK TABLE signin_attempts IN ACCESS EXCLUSIVE MODE")
        yield
        conn.rollback()


def test_a_held_lock_gives_503_then_the_retry_succeeds(seeded: dict[str, Any], db_url: str) -> None:
    clock = ManualClock(dt.datetime.combine(TODAY, dt.time(9, 0), tzinfo=SHANGHAI))
    app = create_app(Settings(database_url=db_url, lock_wait_seconds=0.3), clock=clock)
    signin = {"username": "alice", "password": PASSWORDS["alice"]}
    with TestClient(app) as client:
        with lock_held(db_url):
            r = client.post("/api/v1/auth/signin", json=signin)
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["retry-after"] == "1"
        assert r.json()["code"] == "busy" and "nothing was changed" in r.json()["detail"]
        assert "set-cookie" not in r.headers
        r = client.post("/api/v1/auth/signin", json=signin)
        assert r.status_code == 200, r.text


class _Orig(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def test_a_deadlock_or_serialisation_victim_is_busy_not_an_internal_error() -> None:
    """PostgreSQL rolls the victim's transaction back whole: nothing changed, so 503 with Retry-After (a retry
    may succeed), not 500."""
    from sqlalchemy.exc import DBAPIError

    from cnvisa.http.problems import as_problem

    for sqlstate in ("40P01", "40001"):
        p = as_problem(DBAPIError("UPDATE cases …", None, _Orig(sqlstate)))
        assert (p.status, p.code, p.extra.get("retry_after")) == (503, "busy", 1), sqlstate
    assert as_problem(DBAPIError("UPDATE cases …", None, _Orig("23505"))).status == 500
