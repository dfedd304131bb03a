"""A per-address limit of the public lookups (the progress inquiry, the check of a document's QR code): at most
``Settings.public_lookups_per_minute_per_ip`` a minute from one client address, each kind counted apart
(ASVS 4.0 V2.2.1, V11.1.4 anti-automation: 1,000 guesses of a passport number were all answered before).

Counted in the database (``request_counts``: key, minute, count), so every worker and every restart
sees one count: one statement per lookup, an upsert that increments and returns the count atomically on both
engines. On PostgreSQL it runs on the hot-read pool (cnvisa.store.fast), one round trip, without waiting for
the commit to reach the disk (a count lost in a crash costs nothing). A fixed window: an address may get up to
twice the limit across a window's edge, never more."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Table, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from starlette.requests import HTTPConnection

from cnvisa.http.deps import Platform, PlatformDep
from cnvisa.http.problems import Problem
from cnvisa.store.fast import Compiled, as_dbapi_errors
from cnvisa.store.tables import RequestCount

WINDOW = dt.timedelta(minutes=1)
_T = RequestCount.__table__
assert isinstance(_T, Table)


def _upsert(insert: Any) -> Any:
    stmt = insert(_T).values(key=bindparam("key"), minute=bindparam("minute"), count=1)
    return stmt.on_conflict_do_update(
        index_elements=[_T.c.key, _T.c.minute], set_={"count": _T.c.count + 1}
    ).returning(_T.c.count)


_UPSERTS = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}
_PG_UPSERT = Compiled(_UPSERTS["postgresql"])
_SWEEP = delete(_T).where(_T.c.minute < bindparam("before"))
_PG_SWEEP = Compiled(_SWEEP)


def window_of(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(second=0, microsecond=0)


async def count(p: Platform, key: str, now: dt.datetime) -> int:
    """Counts one request under ``key`` in the present window; the count so far, this one included. The first
    request of a window also sweeps the windows before the last one (of every key)."""
    window = window_of(now)
    params = {"key": key[:80], "minute": window}
    if p.reads.pool is not None:
        with as_dbapi_errors(_PG_UPSERT.sql):
            n: int = await p.reads.pool.fetchval(_PG_UPSERT.sql, *_PG_UPSERT.args(params))
            if n == 1:
                await p.reads.pool.execute(_PG_SWEEP.sql, *_PG_SWEEP.args({"before": window - WINDOW}))
        return n
    async with p.sessions() as s, s.begin():
        n = (await s.execute(_UPSERTS[s.get_bind().dialect.name], params)).scalar_one()
        if n == 1:
            await s.execute(_SWEEP, {"before": window - WINDOW})
    return n


async def admit(p: Platform, kind: str, ip: str | None) -> int | None:
    """None if a lookup of ``kind`` from ``ip`` is within the limit (and counts it), else the seconds to wait."""
    now = p.now()
    if await count(p, f"{kind}:{ip or '-'}", now) <= p.settings.public_lookups_per_minute_per_ip:
        return None
    return max(1, int((window_of(now) + WINDOW - now).total_seconds()) + 1)


def too_many(retry_after: int) -> Problem:
    """429 with Retry-After: problem+json on /api, the error page in the reader's language on pages."""
    return Problem(
        429,
        "Too many requests",
        f"too many lookups from this address: try again in {retry_after} s",
        rule="Settings.public_lookups_per_minute_per_ip",
        code="rate_limited",
        retry_after=retry_after,
    )


async def limit(p: Platform, kind: str, conn: HTTPConnection) -> None:
    """Counts a lookup of ``kind`` from the request's address; ``Problem`` 429 over the limit."""
    wait = await admit(p, kind, conn.client.host if conn.client else None)
    if wait is not None:
        raise too_many(wait)


async def check_lookup(conn: HTTPConnection, p: PlatformDep) -> None:
    """A route dependency: the public document check (API and page)."""
    await limit(p, "check", conn)
