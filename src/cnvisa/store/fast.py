"""Hot reads: one SQLAlchemy Core SELECT, two executors.

The busiest requests (who is signed in, the officer's queue, the progress inquiry) read a few rows by index.
Through an ORM session on asyncpg each such read costs three round trips (BEGIN, the statement, ROLLBACK on
return to the pool) and the ORM's own work — about 1 ms on the project's machines, against 0.2 ms for the
statement alone. ``Reads`` runs the same statement, compiled once for PostgreSQL, on a small pool of plain
asyncpg connections: one round trip, no transaction (each statement is its own snapshot, which is all a single
read needs). On SQLite, or with no pool, it runs it on an ORM session — same query, same answers (tests run
both engines).

Only for reads whose columns need no Python-side type processing (integers, text, dates, timestamps,
booleans); JSON columns and anything written stay with the ORM.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import ClauseElement, Select
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cnvisa.store.db import CLIENT_GRACE_SECONDS, LOCK_WAIT_SECONDS, Timeouts

_PG = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
# The driver's errors become SQLAlchemy's, so the web layer answers them as it answers the ORM's (a lock not
# granted in time: 503; a number out of range: 422).
DRIVER_ERRORS: tuple[type[Exception], ...] = (asyncpg.PostgresError, asyncpg.InterfaceError)


class Compiled:
    """A statement with named bind parameters (``bindparam("name")``), compiled once for asyncpg: its SQL and
    the order of its positional parameters."""

    def __init__(self, stmt: ClauseElement) -> None:
        compiled: Any = stmt.compile(dialect=_PG)
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        # literals in the statement (``func.nextval("audit_seq")``) are parameters too, with their values
        self.defaults: dict[str, Any] = {
            name: bind.value for name, bind in compiled.binds.items() if not bind.required
        }

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        values = {**self.defaults, **params}
        missing = [n for n in self.names if n not in values]
        if missing:
            raise TypeError(f"missing bind parameter(s): {', '.join(missing)}")
        return [values[n] for n in self.names]


@contextmanager
def as_dbapi_errors(sql: str) -> Iterator[None]:
    """The driver's errors raised as SQLAlchemy's, for statements run on the plain pool."""
    try:
        yield
    except DRIVER_ERRORS as exc:
        raise DBAPIError(sql, None, exc) from exc


class FastQuery(Compiled):
    """A SELECT run by ``Reads``: on asyncpg as compiled, elsewhere as the statement itself."""

    def __init__(self, stmt: Select[Any, *tuple[Any, ...]]) -> None:
        super().__init__(stmt)
        self.stmt = stmt


async def _no_session_state(conn: Any) -> None:
    """What the pool does to a connection it takes back, beyond asyncpg's own rollback of a transaction left
    open: nothing. Its default (``Connection.reset``: advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL) was a round
    trip after every hot read; nothing here leaves session state behind — single statements, and transactions
    whose settings are ``SET LOCAL`` (``cnvisa.cases.audit.GroupCommit``); the pool's own settings are the
    connection's startup parameters."""


class Reads:
    """Where hot reads run: a plain asyncpg pool on PostgreSQL (``pool``), an ORM session otherwise."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], pool: Any = None, timeouts: Timeouts | None = None
    ) -> None:
        self.sessions = sessions
        self.pool = pool
        self.timeouts = timeouts or Timeouts()

    @classmethod
    async def open(
        cls,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        *,
        lock_wait_seconds: float = LOCK_WAIT_SECONDS,
        timeouts: Timeouts | None = None,
        min_size: int = 1,
    ) -> Reads:
        """With a pool when the engine is PostgreSQL on asyncpg: same database, same lock wait, and the same
        connect, statement and pool timeouts as the engine (``cnvisa.store.db.Timeouts``)."""
        t = timeouts or Timeouts()
        if engine.dialect.name != "postgresql" or engine.dialect.driver != "asyncpg":
            return cls(sessions, timeouts=t)
        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        server = {
            "lock_timeout": f"{max(1, int(lock_wait_seconds * 1000))}ms",
            # the only writes here are the public lookups' counts (cnvisa.http.throttle): not worth a wait for
            # the disk; a crash may lose the last few
            "synchronous_commit": "off",
        }
        bounds: dict[str, Any] = {}
        if t.connect is not None:
            bounds["timeout"] = t.connect
        if t.statement is not None:
            server["statement_timeout"] = f"{max(1, int(t.statement * 1000))}ms"
            bounds["command_timeout"] = t.statement + CLIENT_GRACE_SECONDS
        # min_size 0 (a replica): nothing is connected until the first read, so a replica down at start-up does
        # not stop the platform from starting
        pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=8, server_settings=server, reset=_no_session_state, **bounds
        )
        return cls(sessions, pool, t)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def all(self, q: FastQuery, **params: Any) -> Sequence[Mapping[Any, Any]]:
        if self.pool is None:
            q.args(params)  # the same check of the parameters on both executors
            async with self.sessions() as s:
                return (await s.execute(q.stmt, params)).mappings().all()
        rows: Sequence[Mapping[Any, Any]] = await self._on_pool("fetch", q, params)
        return rows

    async def first(self, q: FastQuery, **params: Any) -> Mapping[Any, Any] | None:
        if self.pool is None:
            q.args(params)
            async with self.sessions() as s:
                return (await s.execute(q.stmt, params)).mappings().first()
        row: Mapping[Any, Any] | None = await self._on_pool("fetchrow", q, params)
        return row

    async def _on_pool(self, method: str, q: FastQuery, params: Mapping[str, Any]) -> Any:
        args = q.args(params)
        with as_dbapi_errors(q.sql):
            # acquire with the pool timeout; the release (which resets the connection, a round trip) is bounded
            # by it too, and a connection that cannot be reset in time is closed, not returned to the pool
            async with self.pool.acquire(timeout=self.timeouts.pool) as conn:
                return await getattr(conn, method)(q.sql, *args)
