"""Reads that tolerate lag on a replica, with a fall back to the primary (issue 14; ``cnvisa.store.replica``).

PostgreSQL only: a replica is a PostgreSQL notion. The "replica" here is the test database itself (a server not
in recovery: no lag), a port where nothing listens (a replica down), and a replica whose probe reports a lag past
the bound. A real streaming replica is exercised by the cluster (``make cluster``), outside the suite."""

from __future__ import annotations

import dataclasses
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient
from test_progress import _a_case
from web_support import Web

from cnvisa.app import create_app
from cnvisa.http.settings import Settings
from cnvisa.store.replica import TOLERANT_ROUTES, TolerantReads

PG = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
SRC = Path(__file__).parents[2] / "src" / "cnvisa"


def _nothing_listens() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed on return: connections to it are refused


@contextmanager
def platform_with(
    db_url: str, replica_url: str, **settings: Any
) -> Iterator[tuple[TestClient, TolerantReads]]:
    base = Settings(database_url=db_url)
    app = create_app(dataclasses.replace(base, replica_url=replica_url, db_connect_timeout=2, **settings))
    with TestClient(app, follow_redirects=False) as client:
        lagging = app.state.platform.lagging
        assert isinstance(lagging, TolerantReads)
        yield client, lagging


def _ask(client: TestClient, number: str, passport: str) -> list[Any]:
    """The inquiry three ways: POST on the fast path, GET (deprecated), and the page."""
    api = client.post("/api/v1/progress", json={"number": number, "passport": passport})
    old = client.get("/api/v1/progress", params={"number": number, "passport": passport})
    page = client.post("/progress", data={"number": number, "passport": passport, "lang": "en"})
    return [api, old, page]


@PG
def test_a_replica_in_step_answers_the_inquiry(web: Web, db_url: str) -> None:
    number, passport, _ = _a_case(web)
    with platform_with(db_url, db_url) as (client, lagging):
        answers = _ask(client, number, passport)
        assert [r.status_code for r in answers] == [200, 200, 200], [r.text[:200] for r in answers]
        assert answers[0].json()["state"] == "accepted"
        assert lagging.state.used == 3 and lagging.state.fell_back == 0
        assert lagging.state.lag == 0.0  # not in recovery: no lag
        # the other reads stay on the primary: who is signed in, the applicant's cases
        client.get("/api/v1/offices")
        client.get("/my/cases")
        assert lagging.state.used == 3


@PG
def test_a_replica_down_falls_back_to_the_primary_without_an_error(web: Web, db_url: str) -> None:
    number, passport, _ = _a_case(web)
    down = re.sub(r"@[^/]+/", f"@127.0.0.1:{_nothing_listens()}/", db_url)
    with platform_with(db_url, down) as (client, lagging):  # the platform starts although the replica is down
        answers = _ask(client, number, passport)
        assert [r.status_code for r in answers] == [200, 200, 200]
        assert answers[0].json()["state"] == "accepted"
        assert lagging.state.used == 0 and lagging.state.fell_back == 3
        assert lagging.state.down_until > 0  # left alone for retry_after: not asked again on each request


@PG
def test_a_lagging_replica_is_passed_over_and_taken_back_when_it_catches_up(web: Web, db_url: str) -> None:
    number, passport, _ = _a_case(web)
    with platform_with(db_url, db_url, replica_max_lag=5.0) as (client, lagging):
        now = [1000.0]
        lags = [30.0]
        lagging.clock = lambda: now[0]

        async def probe() -> float:
            return lags[0]

        lagging.lag = probe  # type: ignore[method-assign]  # a replica 30 s behind (the probe's SQL: the test above)
        assert (
            client.post("/api/v1/progress", json={"number": number, "passport": passport}).status_code == 200
        )
        assert lagging.state.used == 0 and lagging.state.fell_back == 1
        lags[0] = 0.4
        assert (
            client.post("/api/v1/progress", json={"number": number, "passport": passport}).status_code == 200
        )
        assert lagging.state.used == 0  # probed at most once a second: the last probe still says 30 s
        now[0] += 1.5
        assert (
            client.post("/api/v1/progress", json={"number": number, "passport": passport}).status_code == 200
        )
        assert lagging.state.used == 1


def test_the_tolerant_routes_are_the_ones_that_read_tolerantly() -> None:
    """Which routes may read old data is stated in one table; the code that reads through it serves exactly those."""
    users = sorted(
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if re.search(r"\.tolerant\b", p.read_text())
    )
    assert users == ["api/progress.py", "web/pages/progress.py"], users
    assert set(TOLERANT_ROUTES) == {"/api/v1/progress", "/progress"}  # served by those two modules


@PG
def test_a_replica_killed_during_its_lag_probe_falls_back_without_an_error(web: Web, db_url: str) -> None:
    """The cluster's replica-kill drill: the replica died while the lag probe ran on it — asyncpg's own error, not
    SQLAlchemy's (the probe runs on the plain pool) — and the inquiry still answers, from the primary."""
    number, passport, _ = _a_case(web)
    with platform_with(db_url, db_url) as (client, lagging):

        async def killed() -> float:
            raise asyncpg.exceptions.ConnectionDoesNotExistError(
                "connection was closed in the middle of operation"
            )

        lagging.lag = killed  # type: ignore[method-assign]
        r = client.post("/api/v1/progress", json={"number": number, "passport": passport})
        assert r.status_code == 200 and r.json()["state"] == "accepted", r.text[:300]
        assert lagging.state.used == 0 and lagging.state.fell_back == 1 and lagging.state.down_until > 0
