"""Reads that tolerate a bounded lag, on a replica (issue 14: "cnvisa knows two database URLs").

The primary (``CNVISA_DATABASE_URL``) takes every write and every read that must see one. A replica
(``CNVISA_REPLICA_URL``, behind HAProxy's read port in the cluster) takes the public reads whose answer may be a
few seconds old: which routes, and why each may lag, is ``TOLERANT_ROUTES`` (tested route by route).

``TolerantReads`` has the interface of ``Reads`` (``first``, ``all``) and picks, per statement:

- the replica, when it answered its last lag probe within ``max_lag`` seconds (the probe runs at most once a
  ``probe_every`` seconds per process, never on the request's path twice);
- the primary, when there is no replica, when the replica lags past the bound, or when it failed (refused, cut,
  timed out): then it is left alone for ``retry_after`` seconds and the statement is run again on the primary —
  a read, so running it twice changes nothing, and the person asking sees no error.

Lag is measured on the replica itself: 0 when it has replayed all it received (an idle primary sends nothing,
and the replay timestamp would then grow without any lag), else the age of the last replayed transaction. A
server that is not in recovery (the primary named as a replica, or a replica promoted) has no lag."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from prometheus_client import Counter
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from cnvisa.store.fast import DRIVER_ERRORS, FastQuery, Reads

TOLERANT_ROUTES: Final = {
    "/api/v1/progress": "the progress inquiry: a state a few seconds old is what a person refreshing sees anyway",
    "/progress": "the same inquiry as a page",
}
"""Routes that read through ``TolerantReads``. Everything else reads the primary. The public document check and
the identity checks stay on the primary for now: the check of a document just issued must not say "not found",
and the identity check writes its count and audit in the same transaction as its read."""

LAG_SQL: Final = """
SELECT CASE
  WHEN NOT pg_is_in_recovery() THEN 0.0
  WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
  ELSE COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 1e9)
END::float8
"""
"""Seconds the replica is behind (see the module's docstring); 1e9 when it has replayed nothing yet."""

TOLERANT_READS: Final = Counter(
    "cnvisa_db_tolerant_reads_total",
    "Reads that tolerate lag, by where they ran: replica, or primary (no replica usable: down, lagging, failed).",
    ("target",),
)
_ON_REPLICA, _ON_PRIMARY = TOLERANT_READS.labels("replica"), TOLERANT_READS.labels("primary")

FAILURES: Final[tuple[type[BaseException], ...]] = (
    DBAPIError,
    PoolTimeout,
    OSError,
    TimeoutError,
    *DRIVER_ERRORS,
)
"""A replica that failed. The driver's own errors too: the lag probe runs on the plain pool outside the wrapper that
turns them into SQLAlchemy's, and a replica killed mid-probe raises asyncpg's ConnectionDoesNotExistError (the
cluster's replica-kill drill answered one inquiry 503 before this)."""


@dataclass
class ReplicaState:
    """What this process knows of the replica: when it was last probed, its lag then, and until when it is left
    alone after a failure (monotonic seconds)."""

    probed_at: float = float("-inf")
    lag: float = float("inf")
    down_until: float = float("-inf")
    used: int = 0
    """Statements answered by the replica (tests and metrics)."""
    fell_back: int = 0
    """Statements that went to the primary although a replica is configured."""


class TolerantReads(Reads):
    """``Reads`` on the replica when it may answer, else on the primary (the module's docstring)."""

    def __init__(
        self,
        primary: Reads,
        replica: Reads | None,
        *,
        max_lag: float = 5.0,
        probe_every: float = 1.0,
        retry_after: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(primary.sessions, primary.pool, primary.timeouts)  # ``pool``: decides the fast path
        self.primary = primary
        self.replica = replica
        self.max_lag = max_lag
        self.probe_every = probe_every
        self.retry_after = retry_after
        self.clock = clock
        self.state = ReplicaState()

    async def lag(self) -> float:
        """The replica's lag in seconds, probed on the replica (see ``LAG_SQL``)."""
        assert self.replica is not None and self.replica.pool is not None
        async with self.replica.pool.acquire(timeout=self.replica.timeouts.pool) as conn:
            value = await conn.fetchval(LAG_SQL)
        return float(value)

    async def _replica_usable(self) -> bool:
        if self.replica is None or self.replica.pool is None:
            return False
        now = self.clock()
        if now < self.state.down_until:
            return False
        if now - self.state.probed_at >= self.probe_every:
            self.state.probed_at = now
            try:
                self.state.lag = await self.lag()
            except FAILURES:
                self.state.down_until = now + self.retry_after
                return False
        return self.state.lag <= self.max_lag

    async def _read(self, run: Callable[[Reads], Awaitable[Any]]) -> Any:
        if await self._replica_usable():
            assert self.replica is not None
            try:
                answer = await run(self.replica)
            except FAILURES:
                self.state.down_until = self.clock() + self.retry_after
            else:
                self.state.used += 1
                _ON_REPLICA.inc()
                return answer
        if self.replica is not None:
            self.state.fell_back += 1
            _ON_PRIMARY.inc()
        return await run(self.primary)

    async def first(self, q: FastQuery, **params: Any) -> Mapping[Any, Any] | None:
        row: Mapping[Any, Any] | None = await self._read(lambda r: r.first(q, **params))
        return row

    async def all(self, q: FastQuery, **params: Any) -> Sequence[Mapping[Any, Any]]:
        rows: Sequence[Mapping[Any, Any]] = await self._read(lambda r: r.all(q, **params))
        return rows

    async def close(self) -> None:
        if self.replica is not None:
            await self.replica.close()
