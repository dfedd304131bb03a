"""The outage drill over every route (issue 13, "Shown by": PostgreSQL behind a stalling proxy → every route
answers 503 within the bound; released → the next request succeeds).

test_outage.py drills a sample of routes, stalled and refused. Here every route of the route matrix
(test_route_matrix.ROUTES, which fails when the app has a route without an entry) is sent as a role it admits,
while the proxy stalls every byte and again while it refuses connections: each answers within the request
deadline — 503 with Retry-After (problem+json under /api, a page elsewhere) unless it needs no database at all
(``NO_DATABASE``, answered as usual). Released (restored), every route is sent again and none answers a server
error: no restart is needed."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_authorisation_matrix import _client
from test_outage import BOUND, DRILL, MARGIN, behind_proxy
from test_route_matrix import PUBLIC, ROUTES, Case, Probe, _send, _setup
from web_support import TODAY, Web

from cnvisa.app import create_app
from cnvisa.cases.clock import SHANGHAI, ManualClock

NO_DATABASE = {
    ("GET", "/healthz"): "alive: the process answers (the load balancer asks /readyz for the database)",
    (
        "GET",
        "/metrics",
    ): "the process's own counters (the job queue's figures left out when the database does not answer in 2 s)",
    ("GET", "/api/openapi.json"): "the document",
    ("GET", "/api/docs"): "the API reference page",
    ("GET", "/api/redoc"): "the API reference page",
    ("GET", "/api/docs-assets/{name}"): "files of the package",
    ("GET", "/api/v1/matters"): "the law engine alone",
    ("POST", "/api/v1/assess"): "the law engine alone",
    ("GET", "/"): "the home page, signed out",
    ("GET", "/favicon.ico"): "a file of the package",
    ("GET", "/signin"): "the form and its own CSRF cookie",
    ("POST", "/signin"): "refused before the database: the form's own token is missing",
    ("GET", "/what-do-i-need"): "the law engine's questions, signed out",
    ("GET", "/what-do-i-need/{matter}"): "the law engine's questions, signed out",
    ("GET", "/progress"): "the inquiry form, signed out",
    ("GET", "/office"): "a redirect to the queue",
}
"""Routes that answer without the database (sent signed out, as their public entry is), and why: they must
still answer in time, and never a server error."""
OWN_MEDIA_TYPE = {"/readyz": "application/json"}
"""The load balancer's readiness probe answers its 503 as its own JSON (which check failed), not a problem."""
WORKERS = 8
"""Requests in flight at once while the database stalls (more than the pool's connections wait on the pool)."""


def _who(probe: Probe) -> str:
    """A role the route admits (public routes: signed out)."""
    if probe.allowed is PUBLIC:
        return "anonymous"
    return probe.csrf_as or sorted(probe.allowed)[0]


def _fresh(web: Web, signed_in: TestClient) -> TestClient:
    """Another browser with the same cookies, on the same application and event loop (one per request: the
    requests run at once, from threads)."""
    other = web.new_client()
    other.cookies.update(signed_in.cookies)
    return other


def _send_all(
    web: Web, c: Case, clients: dict[str, tuple[TestClient, str | None]], own: dict[str, Any]
) -> list[tuple[Probe, float, Any]]:
    def one(probe: Probe) -> tuple[Probe, float, Any]:
        client, csrf = own[probe.route] if probe.own_session else clients[_who(probe)]
        started = time.monotonic()
        r = _send(_fresh(web, client), csrf, probe, c)
        return probe, time.monotonic() - started, r

    with concurrent.futures.ThreadPoolExecutor(WORKERS, thread_name_prefix="every-route") as pool:
        futures = [pool.submit(one, probe) for probe in ROUTES]
        out = []
        for future in futures:
            try:  # a request that hangs fails the drill instead of hanging it
                out.append(
                    future.result(timeout=len(ROUTES) * (BOUND + MARGIN) / WORKERS + BOUND + 2 * MARGIN)
                )
            except concurrent.futures.TimeoutError:
                pytest.fail("a route did not answer while the database stalled")
    return out


def test_the_exemptions_are_routes() -> None:
    assert set(NO_DATABASE) <= {(p.method, p.route) for p in ROUTES if p.allowed is PUBLIC}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize(("outage", "recovery"), [("stall", "release"), ("refuse", "restore")])
def test_every_route_answers_503_in_time_while_postgresql_stalls_then_recovers(
    seeded: dict[str, Any], db_url: str, outage: str, recovery: str
) -> None:
    clock = ManualClock(dt.datetime.combine(TODAY, dt.time(9, 0), tzinfo=SHANGHAI))
    with behind_proxy(db_url) as (proxy, proxied):
        settings = dataclasses.replace(DRILL, database_url=proxied)
        with TestClient(create_app(settings, clock=clock), follow_redirects=False) as client:
            try:
                web = Web(client, clock, seeded, db_url)
                c = _setup(web)
                who = {_who(p) for p in ROUTES}
                clients = {name: _client(web, name) for name in sorted(who)}
                own = {p.route: _client(web, _who(p)) for p in ROUTES if p.own_session}
                getattr(proxy, outage)()
                wrong, late = [], []
                for probe, took, r in _send_all(web, c, clients, own):
                    key = (probe.method, probe.route)
                    seen = (*key, r.status_code, f"{took:.1f} s", r.text[:160])
                    if took > BOUND + MARGIN:
                        late.append(seen)
                    if key in NO_DATABASE:
                        if r.status_code >= 500:
                            wrong.append(seen)
                        continue
                    kind = OWN_MEDIA_TYPE.get(
                        probe.route,
                        "application/problem+json" if probe.route.startswith("/api/") else "text/html",
                    )
                    if not (
                        r.status_code == 503
                        and int(r.headers.get("retry-after", "0")) >= 1
                        and r.headers["content-type"].startswith(kind)
                    ):
                        wrong.append(seen)
                assert not late, f"answered later than {BOUND} s (+{MARGIN} s) ({outage}):\n" + "\n".join(
                    map(str, late)
                )
                assert not wrong, f"not 503 with Retry-After ({outage}):\n" + "\n".join(map(str, wrong))
                getattr(proxy, recovery)()
                # released: the next request of every route is answered (its own answer, not a server error)
                own = {p.route: _client(web, _who(p)) for p in ROUTES if p.own_session}
                failed = [
                    (probe.method, probe.route, r.status_code, r.text[:160])
                    for probe, _took, r in _send_all(web, c, clients, own)
                    if r.status_code >= 500
                ]
                assert not failed, f"after the {recovery}:\n" + "\n".join(map(str, failed))
            finally:
                proxy.restore()  # the database reachable again before the platform shuts down (its pool closes)
