"""The job queue's storage (issue 12, docs/jobs.md): pgqueuer's tables on PostgreSQL (made by Alembic revision
0022), written in the caller's transaction and read for ``/metrics``.

- ``enqueue(session, job, payload)``: one job, inserted on the ``AsyncSession``'s **own** asyncpg connection
  inside its transaction — committed with the change that caused it, gone with it on a rollback (pgqueuer's
  NOTIFY is delivered at commit only, so a rolled-back job wakes no worker either). On SQLite there is no queue
  table: it returns None and does nothing; there the durable record is the domain row the caller writes in the
  same transaction (an outbox row, an obligation), and a periodic job of ``cnvisa worker``'s in-process runner
  picks it up (docs/jobs.md, "Integrated").
- ``queue_backlog(session)``: per job name, the jobs waiting and the age of the oldest — what an operator
  alerts on — from one grouped read over the queue table's partial index of queued jobs.

The queue's objects are pgqueuer's, not the models' (``cnvisa.store.tables``): ``QUEUE_OBJECTS`` names them so
that schema comparisons leave them out (``is_model_object``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.store import partitions

QUEUE_OBJECTS: Final = frozenset(
    {"pgqueuer", "pgqueuer_log", "pgqueuer_schedules", "pgqueuer_statistics", "pgqueuer_status"}
)
"""pgqueuer's tables and type (revision 0022): made and kept by pgqueuer's SQL, not by the models."""

MAX_NAME: Final = 100
"""A job name's most characters (pgqueuer's ``entrypoint`` is text; a name is a registry key, never data)."""


def is_model_object(name: str | None, type_: str, *_: Any) -> bool:
    """Alembic's ``include_name`` hook: False for pgqueuer's tables (and their indexes) and for the monthly
    partitions of a partitioned table (``cnvisa.store.partitions``), so that a comparison of the database with the
    models does not report them as tables to drop."""
    return not (type_ == "table" and (name in QUEUE_OBJECTS or partitions.is_partition(name)))


def model_objects(dialect: str) -> Callable[..., bool]:
    """Alembic's ``include_object`` hook for one engine: on PostgreSQL the unique keys of the partitioned tables
    also hold the partition key (migration 0028; the models state them as SQLite keeps them), so they are left
    out of the comparison there and checked by tests/cases/test_partitions.py."""

    def include(obj: Any, name: str | None, type_: str, *_: Any) -> bool:
        return not (
            dialect == "postgresql" and type_ == "unique_constraint" and name in partitions.PARTITION_KEYED
        )

    return include


def encode(payload: Mapping[str, Any] | None) -> bytes | None:
    """A job's payload as stored: compact UTF-8 JSON (None: no payload)."""
    if payload is None:
        return None
    return json.dumps(dict(payload), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def decode(raw: bytes | None) -> dict[str, Any]:
    if not raw:
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("a job's payload is a JSON object")
    return value


def _check_name(job: str) -> None:
    if not job or len(job) > MAX_NAME or not job.replace("_", "").replace(".", "").isalnum():
        raise ValueError(f"job: {job!r} is not a job name (letters, digits, '_' and '.', at most {MAX_NAME})")


async def _asyncpg_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, with its transaction begun on the server. SQLAlchemy's asyncpg
    adapter begins the server transaction lazily, at the first statement: an INSERT sent on the raw connection
    before that would commit on its own, and survive the caller's rollback."""
    conn = await session.connection()
    raw: Any = (await conn.get_raw_connection()).driver_connection
    if not raw.is_in_transaction():
        await conn.exec_driver_sql("SELECT 1")
    if not raw.is_in_transaction():  # never enqueue outside the caller's transaction
        raise RuntimeError("the session's connection is not in a transaction: enqueue inside session.begin()")
    return raw


async def enqueue(
    session: AsyncSession,
    job: str,
    payload: Mapping[str, Any] | None = None,
    *,
    dedupe_key: str | None = None,
    execute_after: dt.timedelta | None = None,
    priority: int = 0,
) -> int | None:
    """Queue ``job`` with ``payload`` (a JSON object) in the session's transaction, on PostgreSQL; its id, or
    None when ``dedupe_key`` names a job still queued or running (skipped, not an error) — or on SQLite, where
    nothing is queued (see the module's note). The job runs only if the transaction commits."""
    _check_name(job)
    if session.get_bind().dialect.name != "postgresql":
        return None
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.queries import Queries

    raw = await _asyncpg_connection(session)
    ids = await Queries(AsyncpgDriver(raw)).enqueue(
        job,
        encode(payload),
        priority,
        execute_after,
        dedupe_key,
        on_conflict="skip",
    )
    return int(ids[0]) if ids and ids[0] is not None else None


@dataclass(frozen=True)
class Backlog:
    job: str
    queued: int
    """Jobs waiting (status ``queued``, including those whose ``execute_after`` — a retry's backoff — is ahead)."""
    oldest_seconds: float
    """Age of the oldest waiting job, from when it was queued (0 when none waits)."""


BACKLOG_SQL: Final = text(
    "SELECT entrypoint, count(*) AS queued, "
    "coalesce(extract(epoch FROM now() - min(created)), 0) AS oldest "
    "FROM pgqueuer WHERE status = 'queued' GROUP BY entrypoint "
    "UNION ALL "
    "SELECT DISTINCT entrypoint, 0, 0 FROM pgqueuer_schedules s WHERE NOT EXISTS "
    "(SELECT 1 FROM pgqueuer q WHERE q.entrypoint = s.entrypoint AND q.status = 'queued') "
    "ORDER BY 1"
)
"""pgqueuer's own backlog read (``Queries.queue_age``), plus a zero for each periodic job with none waiting: a
series that drops to zero rather than vanishing."""


async def queue_backlog(session: AsyncSession) -> list[Backlog]:
    """Per job name, the jobs waiting and the oldest one's age (PostgreSQL); [] on SQLite (no queue table)."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    rows = (await session.execute(BACKLOG_SQL)).all()
    return [Backlog(r[0], int(r[1]), float(r[2])) for r in rows]
