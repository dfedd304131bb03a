"""The application factory: ``cnvisa serve`` runs ``create_app`` under uvicorn. It composes the JSON API
(``cnvisa.api``) and the pages (``cnvisa.web``), which never import each other."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from cnvisa import __version__
from cnvisa.api import openapi_doc, progress
from cnvisa.cases.clock import Clock, StartedClock
from cnvisa.cases.clock import today as clock_today
from cnvisa.cases.joint.service import JointService
from cnvisa.cases.queries.outbox_backlog import outbox_backlog as backlog_query
from cnvisa.cases.registry import Registry
from cnvisa.cases.service import CaseService
from cnvisa.http import logs, observe, outage, problems, route_index
from cnvisa.http.deps import Platform, page_principal
from cnvisa.http.headers import SecurityHeaders
from cnvisa.http.i18n import negotiate
from cnvisa.http.limits import BodyLimits
from cnvisa.http.settings import Settings
from cnvisa.law import calendar as workdays
from cnvisa.store import migrate, queue
from cnvisa.store.db import Timeouts, make_engine, sessionmaker
from cnvisa.store.fast import Reads
from cnvisa.store.replica import TolerantReads
from cnvisa.web.assets import Static
from cnvisa.web.notify_texts import NotificationTexts
from cnvisa.web.templating import render


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    logs.install()  # no passport number in the access log (PIPL Art 6; ASVS V7.1.1)
    if clock is None and settings.clock_start:
        try:
            start = dt.datetime.fromisoformat(settings.clock_start)
        except ValueError:
            raise SystemExit(
                f"CNVISA_CLOCK_START: {settings.clock_start!r} is not an ISO date-time (2025-11-20T09:00+08:00)"
            ) from None
        clock = StartedClock(start)
        logging.getLogger("cnvisa.web").warning("the clock starts at %s, not now (CNVISA_CLOCK_START)", start)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        bounds = Timeouts(
            settings.db_connect_timeout, settings.db_statement_timeout, settings.db_pool_timeout
        )
        wait = settings.lock_wait_seconds
        engine = make_engine(settings.database_url, lock_wait_seconds=wait, timeouts=bounds)
        observe.watch_pool(engine)
        sessions = sessionmaker(engine)
        reads = await Reads.open(engine, sessions, lock_wait_seconds=wait, timeouts=bounds)
        replica_engine, lagging = None, None
        if settings.replica_url:
            replica_engine = make_engine(settings.replica_url, lock_wait_seconds=wait, timeouts=bounds)
            replica = await Reads.open(
                replica_engine,
                sessionmaker(replica_engine),
                lock_wait_seconds=wait,
                timeouts=bounds,
                min_size=0,
            )
            lagging = TolerantReads(reads, replica, max_lag=settings.replica_max_lag)
        app.state.platform = Platform(
            sessions,
            CaseService(sessions, clock, reads),
            Registry(sessions, clock),
            settings,
            reads,
            JointService(sessions, clock, reads),
            lagging,
            NotificationTexts(),
        )
        # Everything loaded so far (law tables, templates, catalogs) lives as long as the worker: keep it out of
        # the collector's full passes, which would otherwise walk it and stall requests (p99).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await reads.close()
            await engine.dispose()
            if lagging is not None and replica_engine is not None:
                await lagging.close()
                await replica_engine.dispose()
            observe.unwatch_pool(engine)

    app = FastAPI(
        title="cnvisa — China Visa Service Platform",
        version=__version__,
        description="Visas, stay permits and residence permits of foreigners in China, under the Regulations "
        "(revised 2025), the Exit and Entry Administration Law and the NIA Guide. Every answer carries its "
        "citations. Errors are application/problem+json naming the field and the rule.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served by cnvisa.api.docs with the assets from the package, not from a CDN
        redoc_url=None,
        lifespan=lifespan,
        # no OpenTelemetry wiring here: the per-request probe for a tracer costs more than the progress query
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    problems.install(app, page_or_problem)
    openapi_doc.install(app)  # every error answer, header and bound stated (ASVS 4.0 V13.1.5, V13.2.5)

    # Database answers that are the client's to act on (a number out of range, NUL in text: 422; a lock
    # not granted in time: 503, retry) are handled here, not re-raised as server errors.
    @app.exception_handler(DBAPIError)
    @app.exception_handler(OverflowError)
    async def _database(request: Request, exc: Exception) -> HTMLResponse | JSONResponse:
        return await page_or_problem(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> HTMLResponse | JSONResponse:
        return await page_or_problem(request, exc)  # a 500 with no traceback to the client

    app.add_middleware(progress.FastPath)
    app.add_middleware(
        BodyLimits, settings=settings, answer=page_or_problem
    )  # 413 past the route class's limit
    outage.install(app, settings.request_timeout, page_or_problem)  # 503 when the database stalls or is down
    # pages and JSON compressed (outside the fast path, so its answers too); PDFs, JPEG and PNG are compressed
    # already. Level 6: nearly level 9's size at a fraction of its CPU.
    app.add_middleware(
        GZipMiddleware,
        minimum_size=500,
        compresslevel=6,
        exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf", "image/jpeg", "image/png"),
    )
    app.add_middleware(SecurityHeaders, https=settings.secure_cookies)  # on every answer
    app.add_middleware(observe.Observe)  # outermost: the request id and the time of everything inside
    app.mount("/static", Static(), name="static")
    from cnvisa.api import docs
    from cnvisa.api import routes as api_routes
    from cnvisa.web import pages

    app.include_router(docs.router)
    app.include_router(
        observe.router(
            observe.allowed_networks(settings.metrics_allow),
            ready,
            job_backlog,
            outbox_backlog,
            calendar_days_left,
        )
    )

    for router in api_routes.ROUTERS:
        app.include_router(router, prefix="/api/v1")
    for router in pages.ROUTERS:
        app.include_router(router)
    route_index.install(app)  # last: each router then passed over at once when none of its routes can match
    return app


async def ready(request: Request) -> dict[str, dict[str, object]]:
    """``/readyz``: the database answers within its bound, and its schema is the code's (Alembic's heads) — an
    instance behind the load balancer takes traffic only then. No error text leaves: only what failed."""
    platform: Platform = request.app.state.platform
    bound = platform.settings.db_connect_timeout + platform.settings.db_statement_timeout
    try:
        async with asyncio.timeout(bound), platform.sessions() as s:
            await s.execute(text("SELECT 1"))
            found = await migrate.database_revisions(s)
    except (TimeoutError, OSError, DBAPIError) as exc:
        return {"database": {"ok": False, "error": type(exc).__name__}, "schema": {"ok": False}}
    expected = migrate.code_heads()
    return {
        "database": {"ok": True},
        "schema": {"ok": found == expected, "database": sorted(found), "code": sorted(expected)},
        "calendar": calendar_readiness(request),
    }


def calendar_days_left(request: Request) -> int:
    """Days from today (Beijing, the platform's clock) to the last day whose working days can be counted."""
    platform: Platform = request.app.state.platform
    last = dt.date(workdays.loaded_years()[1], 12, 31)
    return (last - clock_today(platform.cases.clock)).days


def calendar_readiness(request: Request) -> dict[str, object]:
    """Informative, never ``ok: False``: every instance has the same calendar, so taking one out of the balancer
    would help nobody; the warning (and ``cnvisa_calendar_days_left``) is for the operator to load the notice."""
    left = calendar_days_left(request)
    out: dict[str, object] = {"ok": True, "loaded": list(workdays.loaded_years()), "days_left": left}
    if left < observe.CALENDAR_WARN_DAYS:
        year = workdays.loaded_years()[1] + 1
        out["warning"] = (
            f"the State Council holiday notice for {year} is not loaded: working days past "
            f"{year - 1}-12-31 cannot be counted (add src/cnvisa/law/data/calendar/{year}.toml)"
        )
    return out


async def job_backlog(request: Request) -> observe.Backlog:
    """The job queue's waiting jobs per entrypoint, for ``/metrics`` (PostgreSQL; [] on SQLite)."""
    platform: Platform = request.app.state.platform
    async with platform.sessions() as s:
        return [(b.job, b.queued, b.oldest_seconds) for b in await queue.queue_backlog(s)]


async def outbox_backlog(request: Request) -> observe.OutboxRows:
    """The notifications not yet sent per channel and state, for ``/metrics`` (both engines)."""
    platform: Platform = request.app.state.platform
    async with platform.sessions() as s:
        rows = await backlog_query(s, platform.cases.clock.now())
    return [(b.channel, b.state, b.messages, b.oldest_due_seconds) for b in rows]


async def page_or_problem(request: Request, exc: Exception) -> HTMLResponse | JSONResponse:
    """API paths answer problem+json; pages answer an HTML page in the reader's language, with the header of
    whoever is signed in (their navigation, their sign-out)."""
    if request.url.path.startswith("/api"):
        return problems.problem_response(request, exc)
    p = problems.as_problem(exc)
    if p.status == 401:
        return HTMLResponse(
            status_code=303, headers={"Location": "/signin?next=" + quote(request.url.path, safe="")}
        )
    loc = negotiate(request)
    # who is signed in, for the header — but not by asking a database that has just failed (503, 500)
    who = (
        await page_principal(request)
        if p.status not in (500, 503)
        else getattr(request.state, "principal", None)
    )
    html = render(
        loc,
        "error.html",
        problem=p.body(request.url.path),
        explanation=problems.page_text(p),
        principal=who,
        csrf=who.csrf if who else None,
        path=request.url.path,
        lang_query=request.query_params.multi_items(),
        # a server-side failure: the id that finds its log lines and audit events (docs/operations.md)
        request_id=getattr(request.state, "request_id", None) if p.status >= 500 else None,
    )
    headers = {"Retry-After": str(p.extra.get("retry_after", 1))} if p.status == 503 else None
    if p.status == 429 and "retry_after" in p.extra:
        headers = {"Retry-After": str(p.extra["retry_after"])}
    return HTMLResponse(html, status_code=p.status, headers=headers)
