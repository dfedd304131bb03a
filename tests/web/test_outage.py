"""A stalled or refused database gives 503 with Retry-After within the configured bound, writes nothing, and the
platform recovers without a restart (issue 13, defect 4; cnvisa.http.outage, cnvisa.store.db.Timeouts).

The drill: PostgreSQL behind a TCP proxy of the test's own (``Proxy``), switched to stall (connections accepted,
bytes held) and to refuse (listening socket closed, open connections cut). Every sampled database-backed route —
a page, an API read, an API write, the progress inquiry (its fast path), sign-in by API and by page — must answer
503 with Retry-After within the request deadline (plus a margin for a loaded machine); released or restored, the
next request succeeds. SQLite: a write transaction held elsewhere gives 503 within the lock wait."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import datetime as dt
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from web_support import PASSWORDS, TODAY

from cnvisa.app import create_app
from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.http.settings import Settings
from cnvisa.store.db import sync_url
from cnvisa.store.tables import Appointment, WebSession

# the request deadline of the drill (CNVISA_REQUEST_TIMEOUT): room for a sign-in on a loaded machine
BOUND = 6.0
MARGIN = 4.0  # a loaded two-core machine answers late by this much at most
DRILL = Settings(db_connect_timeout=1.0, db_statement_timeout=2.0, db_pool_timeout=1.0, request_timeout=BOUND)


HELPER = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="drill-request")


class Proxy:
    """A TCP proxy to PostgreSQL on an event loop of its own (a thread): ``stall`` holds every byte (new
    connections are accepted and wait), ``release`` lets them flow again; ``refuse`` closes the listening
    socket and cuts the open connections, ``restore`` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="db-proxy", daemon=True)
        self.thread.start()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.flowing = self._call(self._event)
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.restore()

    def _call(self, fn: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(fn(), self.loop).result(timeout=10)

    async def _event(self) -> asyncio.Event:
        event = asyncio.Event()
        event.set()
        return event

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers.add(up_writer)
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self.flowing.wait()  # stalled: the bytes wait here, and the kernel's buffers fill
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
            self.writers.discard(writer)

    def stall(self) -> None:
        self.loop.call_soon_threadsafe(self.flowing.clear)

    def release(self) -> None:
        self.loop.call_soon_threadsafe(self.flowing.set)

    def refuse(self) -> None:
        async def close() -> None:
            if self.server is not None:
                self.server.close()
                self.server = None
            for w in list(self.writers):
                w.transport.abort()
            self.writers.clear()

        self._call(close)

    def restore(self) -> None:
        async def listen() -> None:
            if self.server is None:
                self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
            self.flowing.set()

        self._call(listen)

    def close(self) -> None:
        self.refuse()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@contextmanager
def behind_proxy(db_url: str) -> Iterator[tuple[Proxy, str]]:
    url = make_url(db_url)
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    try:
        yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    finally:
        proxy.close()


def count(db_url: str, table: Any) -> int:
    engine = create_engine(sync_url(db_url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


class Routes:
    """The sampled database-backed routes, with what a signed-in applicant (alice) needs to call them."""

    def __init__(self, client: TestClient, ids: dict[str, Any]) -> None:
        self.client = client
        r = client.post("/api/v1/auth/signin", json={"username": "alice", "password": PASSWORDS["alice"]})
        assert r.status_code == 200, r.text
        self.csrf = r.json()["csrf"]
        self.cookies = dict(client.cookies)
        # a well-formed progress inquiry (the fast path answers it on PostgreSQL: 404 is a database answer too)
        self.progress = {"number": "SH2025112000001", "passport": "E12345678"}

    def fresh(self) -> TestClient:
        """Another browser (no cookies), on the same application and event loop."""
        other = TestClient(self.client.app, follow_redirects=False)
        other.portal = self.client.portal  # type: ignore[attr-defined]
        return other

    def sample(self) -> dict[str, Any]:
        c = self.client
        signin = {"username": "bob", "password": PASSWORDS["bob"]}
        return {
            "page GET /my/cases": lambda: c.get("/my/cases"),
            "API GET /api/v1/cases": lambda: c.get("/api/v1/cases"),
            "API POST /api/v1/appointments": lambda: c.post(
                "/api/v1/appointments", json={"slot_id": 1}, headers={"X-CSRF-Token": self.csrf}
            ),
            "API GET /api/v1/progress": lambda: c.get("/api/v1/progress", params=self.progress),
            # the progress inquiry as pages and clients now make it: the numbers in the body
            "API POST /api/v1/progress": lambda: self.fresh().post("/api/v1/progress", json=self.progress),
            "page POST /progress": lambda: self.fresh().post("/progress", data=self.progress),
            "API POST /api/v1/auth/signin": lambda: self.fresh().post("/api/v1/auth/signin", json=signin),
            "page POST /signin": lambda: page_signin(self.fresh()),
        }


def page_signin(client: TestClient) -> Any:
    form = client.get("/signin")  # (no database: the form and its CSRF cookie)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text[:300]
    return client.post(
        "/signin", data={"username": "alice", "password": PASSWORDS["alice"], "csrf": token[1]}
    )


def all_unavailable(routes: Routes, why: str) -> None:
    late: list[str] = []
    for name, call in routes.sample().items():
        started = time.monotonic()
        try:  # (in a thread: a request that hangs fails the test instead of hanging it)
            r = HELPER.submit(call).result(timeout=BOUND + 2 * MARGIN)
        except concurrent.futures.TimeoutError:
            pytest.fail(f"{why}: {name} did not answer within {BOUND + 2 * MARGIN} s")
        took = time.monotonic() - started
        assert r.status_code == 503, f"{why}: {name} answered {r.status_code}: {r.text[:300]}"
        assert int(r.headers["retry-after"]) >= 1, name
        kind = "application/problem+json" if "API" in name else "text/html"
        assert r.headers["content-type"].startswith(kind), (name, r.headers["content-type"])
        if took > BOUND + MARGIN:
            late.append(f"{name}: {took:.1f} s")
    assert not late, f"{why}: answered later than {BOUND} s (+{MARGIN} s): {late}"


def all_answer(routes: Routes, why: str) -> None:
    for name, call in routes.sample().items():
        if "POST" in name and "signin" not in name and "progress" not in name:
            continue  # (the write is checked by its absence: see below; the progress inquiry only reads)
        r = call()  # the first request after the recovery: no retry
        assert r.status_code in (200, 303, 404), f"{why}: {name} answered {r.status_code}: {r.text[:300]}"


@pytest.mark.timeout(240)
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize(("outage", "recovery"), [("stall", "release"), ("refuse", "restore")])
def test_a_stalled_or_refused_postgresql_gives_503_in_time_then_recovers(
    seeded: dict[str, Any], db_url: str, outage: str, recovery: str
) -> None:
    clock = ManualClock(dt.datetime.combine(TODAY, dt.time(9, 0), tzinfo=SHANGHAI))
    with behind_proxy(db_url) as (proxy, proxied):
        settings = dataclasses.replace(DRILL, database_url=proxied)
        with TestClient(create_app(settings, clock=clock), follow_redirects=False) as client:
            try:
                routes = Routes(client, seeded)
                all_answer(routes, "before")
                sessions, appointments = count(db_url, WebSession), count(db_url, Appointment)
                assert client.get("/readyz").status_code == 200
                getattr(proxy, outage)()
                all_unavailable(routes, outage)
                # the load balancer's probes (issue 14): alive, not ready — in time, and no error text
                started = time.monotonic()
                ready = client.get("/readyz")
                assert ready.status_code == 503 and ready.headers["retry-after"], ready.text
                assert ready.json()["checks"]["database"]["ok"] is False and "127.0.0.1" not in ready.text
                assert time.monotonic() - started < DRILL.db_connect_timeout + DRILL.db_statement_timeout + 2
                assert client.get("/healthz").status_code == 200
                getattr(proxy, recovery)()
                all_answer(routes, recovery)
                assert client.get("/readyz").status_code == 200
            finally:
                proxy.restore()  # the database reachable again before the platform shuts down (its pool closes)
            # nothing half-written: the sign-ins and the booking that met the outage left no row (the sign-ins
            # after the recovery add theirs: by API and by page)
            assert count(db_url, Appointment) == appointments
            assert count(db_url, WebSession) == sessions + 2


@contextmanager
def sqlite_write_lock(db_url: str) -> Iterator[None]:
    conn = sqlite3.connect(db_url.split("///", 1)[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_locked_sqlite_gives_503_within_the_lock_wait(seeded: dict[str, Any], db_url: str) -> None:
    clock = ManualClock(dt.datetime.combine(TODAY, dt.time(9, 0), tzinfo=SHANGHAI))
    settings = dataclasses.replace(DRILL, database_url=db_url, lock_wait_seconds=1.0)
    with TestClient(create_app(settings, clock=clock), follow_redirects=False) as client:
        routes = Routes(client, seeded)
        sessions = count(db_url, WebSession)
        with sqlite_write_lock(db_url):
            all_unavailable(routes, "locked")
        all_answer(routes, "unlocked")
        assert count(db_url, WebSession) == sessions + 2


def test_a_connection_cut_mid_operation_is_unavailable_not_a_crash() -> None:
    """The cluster drill (issue 14) saw 500s when a failover cut a pooled asyncpg connection mid-operation
    ("cannot switch to state …; another operation is in progress"): raw, wrapped by SQLAlchemy, or as the cause
    of the adapter's error, it is 503 with Retry-After like any other lost connection."""
    import asyncpg.exceptions
    from sqlalchemy.exc import DBAPIError

    from cnvisa.http.problems import unavailable

    cut = asyncpg.exceptions.InternalClientError(
        "cannot switch to state 12; another operation (2) is in progress"
    )
    adapted = RuntimeError("asyncpg adapter")
    adapted.__cause__ = cut
    assert unavailable(cut) and unavailable(DBAPIError("SELECT 1", None, cut))
    assert unavailable(DBAPIError("SELECT 1", None, adapted))
    assert not unavailable(DBAPIError("SELECT 1", None, ValueError("a bad value")))  # a real bug stays a 500
