"""What a national operator watches (issue 14): a request id on every answer, Prometheus metrics, health and
readiness probes.

- **Request id**: taken from the caller's ``X-Request-ID`` when it is a harmless token (a proxy in front may set
  one), made otherwise; answered in ``X-Request-ID``, carried in problem+json (``request_id``), in every log line
  of the request and in the audit events the request writes (``cnvisa.cases.context``), so one complaint can be
  followed from the page through the logs to the audit chain.
- **Metrics** (``prometheus-client``): latency histograms and answer counts per route *template* (never the
  path a client typed: ``/my/cases/{case_id}``, not ``/my/cases/17`` — bounded label sets and no personal data
  in a label), the database pool in use, and collectors the platform adds (audit group size, …). Under
  several worker processes (``cnvisa serve --workers N``) the values are shared through
  ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode), so any worker answers for all.
- **Job queue** (issue 12): ``cnvisa_job_queue_depth`` and ``cnvisa_job_queue_oldest_age_seconds`` per
  entrypoint (job name), read from the queue table at each scrape (``cnvisa.store.queue.queue_backlog``: one
  grouped read over pgqueuer's partial index of queued jobs) — not kept in any process, so every worker answers
  the same figures and a drained queue reads 0, never a stale value. PostgreSQL only: on SQLite (no queue table,
  the in-process runner's queue is the worker's memory) the two families are printed with no samples.
- **Outbox** (issue 12): ``cnvisa_outbox_messages`` per channel and state (pending, sending, failed) and
  ``cnvisa_outbox_oldest_due_age_seconds`` — read at each scrape (``cnvisa.cases.queries.outbox_backlog``), both
  engines.
- ``/metrics`` is for the operator's network only: answered to the addresses in ``CNVISA_METRICS_ALLOW``
  (loopback by default), 404 to everyone else — its figures tell an outsider how busy each office is.
- ``/healthz``: the process answers. ``/readyz``: the database answers within its bound and its schema is the
  code's (Alembic's head): a load balancer sends traffic only to a ready instance."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases import context

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID_HEADER: Final = "X-Request-ID"
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
"""An inbound id is kept only when it is a plain token (no spaces, no text that would forge a log line)."""

BUCKETS: Final = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)
"""Seconds. Fine below 25 ms (the progress inquiry's p99 target), coarse up to the request timeout (20 s)."""

LATENCY: Final = Histogram(
    "cnvisa_http_request_duration_seconds",
    "Time from the request's arrival to the end of its answer, per route template and method.",
    ("route", "method"),
    buckets=BUCKETS,
)
ANSWERS: Final = Counter(
    "cnvisa_http_responses_total",
    "Answers per route template, method and status code.",
    ("route", "method", "status"),
)
DB_IN_USE: Final = Gauge(
    "cnvisa_db_pool_connections_in_use",
    "Database connections checked out of the application's SQLAlchemy pool (summed over live workers).",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE: Final = Gauge(
    "cnvisa_db_pool_size",
    "Connections the pool keeps open (its size setting; overflow comes on top), summed over live workers.",
    multiprocess_mode="livesum",
)
_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def watch_pool(engine: AsyncEngine) -> None:
    """Count connections in use from the pool's own checkout/checkin events (exact, no sampling)."""
    pool = engine.sync_engine.pool
    size = getattr(pool, "size", None)
    if callable(size):
        DB_POOL_SIZE.inc(size())
    event.listen(pool, "checkout", lambda *_: DB_IN_USE.inc())
    event.listen(pool, "checkin", lambda *_: DB_IN_USE.dec())


def unwatch_pool(engine: AsyncEngine) -> None:
    size = getattr(engine.sync_engine.pool, "size", None)
    if callable(size):
        DB_POOL_SIZE.dec(size())


def route_of(scope: Scope) -> str:
    """The route template that answered, or a fixed word: a path nobody routed is not a label value (a
    scanner's thousand paths would be a thousand series)."""
    raw = scope.get("path", "")
    route = scope.get("route")
    template, regex = getattr(route, "path", None), getattr(route, "path_regex", None)
    if isinstance(template, str) and regex is not None and isinstance(raw, str):
        # an included router's route knows its own part only (FastAPI ≥ 0.16x keeps routers nested): the
        # prefix is what precedes the part of the path its pattern matches
        for i, ch in enumerate(raw):
            if ch == "/" and regex.fullmatch(raw[i:]):
                return raw[:i] + template
        return template
    fast = scope.get("cnvisa.route")
    if isinstance(fast, str):
        return fast
    if isinstance(raw, str) and raw.startswith("/static/"):
        return "/static"
    return "unmatched"


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if _SAFE_ID.fullmatch(text):
                return text
            break
    return os.urandom(16).hex()  # 128 random bits; uuid4 costs 6x as much on the path of every request


class Observe:
    """Outermost middleware: the request id in and out, the time and status counted once per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = rid
        token = context.REQUEST_ID.set(rid)
        header = (REQUEST_ID_HEADER.lower().encode(), rid.encode())
        status = 500
        started = time.perf_counter()

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            elapsed = time.perf_counter() - started
            route, method = route_of(scope), scope.get("method", "GET")
            series = _SERIES.get((route, method, status))
            if series is None:  # a label lookup costs more than the observation: once per series
                series = _SERIES[(route, method, status)] = (
                    LATENCY.labels(route, method),
                    ANSWERS.labels(route, method, str(status)),
                )
            series[0].observe(elapsed)
            series[1].inc()
            context.REQUEST_ID.reset(token)


Backlog = list[tuple[str, int, float]]
"""Per entrypoint: jobs queued and the oldest one's age in seconds."""
BACKLOG_READ_SECONDS: Final = 2.0
"""The most a scrape waits for the queue's figures; past it they are left out (and the rest answered)."""


class _BacklogCollector:
    def __init__(self, rows: Backlog | None) -> None:
        self.rows = rows

    def collect(self) -> Any:
        depth = GaugeMetricFamily(
            "cnvisa_job_queue_depth",
            "Jobs waiting in the job queue per entrypoint (PostgreSQL; no samples on SQLite, whose in-process "
            "queue lives in the worker).",
            labels=["entrypoint"],
        )
        age = GaugeMetricFamily(
            "cnvisa_job_queue_oldest_age_seconds",
            "Age of the oldest waiting job per entrypoint, seconds (0 when none waits; PostgreSQL only).",
            labels=["entrypoint"],
        )
        for name, queued, oldest in self.rows or ():
            depth.add_metric([name], queued)
            age.add_metric([name], oldest)
        yield depth
        yield age


def backlog_text(rows: Backlog | None) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_BacklogCollector(rows))
    return generate_latest(registry)


OutboxRows = list[tuple[str, str, int, float]]
"""Per channel and state (pending, sending, failed): messages, and the oldest due one's wait in seconds."""


class _OutboxCollector:
    def __init__(self, rows: OutboxRows | None) -> None:
        self.rows = rows

    def collect(self) -> Any:
        messages = GaugeMetricFamily(
            "cnvisa_outbox_messages",
            "Notifications not sent per channel and state: pending (waiting or retrying), sending (claimed by a "
            "deliverer, its lease running), failed (given up after the retries: someone must look).",
            labels=["channel", "state"],
        )
        age = GaugeMetricFamily(
            "cnvisa_outbox_oldest_due_age_seconds",
            "How long the oldest notification due for delivery has waited, per channel and state, seconds "
            "(0 when none is due).",
            labels=["channel", "state"],
        )
        for channel, state, n, waited in self.rows or ():
            messages.add_metric([channel, state], n)
            if state != "failed":
                age.add_metric([channel, state], waited)
        yield messages
        yield age


def outbox_text(rows: OutboxRows | None) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_OutboxCollector(rows))
    return generate_latest(registry)


CALENDAR_WARN_DAYS: Final = 45
"""Days before the last loaded year ends from which ``/readyz`` warns (the State Council's notice for the next
year usually appears in November: the warning starts in mid-November)."""


def calendar_text(days_left: int) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    family = GaugeMetricFamily(
        "cnvisa_calendar_days_left",
        "Days from today (Beijing) to the last day of the last year whose State Council holiday notice is loaded. "
        "Working days past it cannot be counted: receipts and deadlines reaching into it are refused (503).",
    )
    family.add_metric([], days_left)
    registry.register(_Fixed(family))
    return generate_latest(registry)


class _Fixed:
    def __init__(self, family: GaugeMetricFamily) -> None:
        self.family = family

    def collect(self) -> Any:
        yield self.family


def metrics_text() -> bytes:
    """Every worker's figures under multiprocess mode; this process's otherwise."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def allowed_networks(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def may_scrape(client_host: str | None, networks: tuple[Any, ...]) -> bool:
    if not client_host:
        return False
    try:
        addr = ipaddress.ip_address(client_host)
    except ValueError:
        return client_host == "testclient" and any(n.is_loopback for n in networks)  # Starlette's TestClient
    return any(addr in n for n in networks)


ReadyCheck = Callable[[], Awaitable[dict[str, Any]]]
T = TypeVar("T")


async def _read(reader: Callable[[Request], Awaitable[T]], request: Request, what: str) -> T | None:
    """A scrape's read of the database, at most ``BACKLOG_READ_SECONDS``: slow or down, the family is printed
    without samples and the other figures still answer."""
    try:
        async with asyncio.timeout(BACKLOG_READ_SECONDS):
            return await reader(request)
    except Exception as exc:
        logging.getLogger("cnvisa.web").warning("/metrics: %s not read: %s", what, type(exc).__name__)
        return None


def router(
    networks: tuple[Any, ...],
    ready: Callable[[Request], Awaitable[dict[str, Any]]],
    backlog: Callable[[Request], Awaitable[Backlog]] | None = None,
    outbox: Callable[[Request], Awaitable[OutboxRows]] | None = None,
    calendar_days_left: Callable[[Request], int] | None = None,
) -> APIRouter:
    """``/healthz``, ``/readyz`` and ``/metrics``: outside the API's version and the OpenAPI document (they are
    the operator's, not the public's). ``backlog`` reads the job queue's figures at each scrape, ``outbox`` the
    notifications outbox's."""
    r = APIRouter(include_in_schema=False)

    @r.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "alive"}, headers={"Cache-Control": "no-store"})

    @r.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        checks = await ready(request)
        ok = all(c.get("ok") for c in checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not ready", "checks": checks},
            status_code=200 if ok else 503,
            headers={"Cache-Control": "no-store", **({} if ok else {"Retry-After": "5"})},
        )

    @r.get("/metrics")
    async def metrics(request: Request) -> Response:
        if not may_scrape(request.client.host if request.client else None, networks):
            return PlainTextResponse("Not Found", status_code=404)
        body = metrics_text()
        if backlog is not None:
            body += backlog_text(await _read(backlog, request, "job queue"))
        if outbox is not None:
            body += outbox_text(await _read(outbox, request, "outbox"))
        if calendar_days_left is not None:
            body += calendar_text(calendar_days_left(request))
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})

    return r
