"""The audit log: append-only, hash-chained, written in the same transaction as the change it records.

Every event has a global number ``seq`` and belongs to one of ``CHAINS`` hash chains (a case's events
are always in the chain ``case_id % CHAINS``; an event without a case — a staff member reading a list, a
search, an identity check — goes to a chain drawn at random, so that such reads do not queue behind one lock
either). Each event stores the
SHA-256 of its canonical form (sorted-key compact JSON of every field but ``hash``) and, from the
previous event of its chain, the hash (``prev_hash``) and the number (``prev_seq``) — so a changed event
breaks its own hash, a removed one is named by its successor, and a removed last one by the chain's head.

Why several chains: the head of a chain is locked by every appender until its transaction commits
(SELECT … FOR UPDATE on PostgreSQL; SQLite serialises writers anyway). One chain for the whole country
would make every command wait for every other; sixteen let commands on different cases commit in
parallel while each case's history stays one unbroken chain.

``verify`` recomputes every chain and names the first event (lowest ``seq``) that does not match.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import hashlib
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, TypeVar, cast

from sqlalchemy import Integer, Table, bindparam, func, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases import context, metrics
from cnvisa.store.fast import Compiled, as_dbapi_errors
from cnvisa.store.instant import as_utc
from cnvisa.store.tables import AuditEvent, AuditHead

GENESIS = "0" * 64
CHAINS = 16


def chain_for(case_id: int | None) -> int:
    return secrets.randbelow(CHAINS) if case_id is None else case_id % CHAINS


def canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def event_hash(e: AuditEvent | SimpleNamespace) -> str:
    fields = {
        "seq": e.seq,
        "at": as_utc(e.at).isoformat(timespec="microseconds"),
        "actor": e.actor_account_id,
        "role": e.role,
        "office": e.office_id,
        "case": e.case_id,
        "action": e.action,
        "before": e.state_before,
        "after": e.state_after,
        "detail": e.detail,
        "chain": e.chain,
        "chain_seq": e.chain_seq,
        "prev_seq": e.prev_seq,
        "prev": e.prev_hash,
    }
    return hashlib.sha256(canonical(fields)).hexdigest()


async def _next_seq(session: AsyncSession) -> int:
    """SQLite: the next number (the writer holds the database lock from BEGIN IMMEDIATE to commit)."""
    return int((await session.execute(select(func.coalesce(func.max(AuditEvent.seq), 0)))).scalar_one()) + 1


async def append(
    session: AsyncSession,
    *,
    at: dt.datetime,
    actor_account_id: int | None,
    role: str,
    office_id: int | None,
    case_id: int | None,
    action: str,
    state_before: str | None = None,
    state_after: str | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one event inside the caller's transaction; the event's row is returned. Call it last: the chain's
    head is then held briefly, and it is the last lock the command takes — a row locked after it (even a foreign
    key's share lock on the person of a new case) could deadlock with a command that holds that row and appends
    to the same chain (tests/cases/test_audit_lock.py). Work that moves rows after recording an event records
    it inside ``last``. Every test on PostgreSQL is held to this (tests/lock_order.py names the statement)."""
    event = {
        "at": at,
        "actor_account_id": actor_account_id,
        "role": role,
        "office_id": office_id,
        "case_id": case_id,
        "action": action,
        "state_before": state_before,
        "state_after": state_after,
        "detail": detail,
    }
    return (await append_many(session, [event]))[0]


# The statements are built once, with named parameters, so that appending compiles nothing (SQLAlchemy's
# statement cache): the audit write is on the path of every command.
_EVENTS = cast(Table, AuditEvent.__table__)
_HEADS = cast(Table, AuditHead.__table__)
_INSERT = insert(_EVENTS).values({c.key: bindparam(c.key, type_=c.type) for c in _EVENTS.columns})
_MOVE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.id == bindparam("head_id"))
    .values(seq=bindparam("head_seq"), last_seq=bindparam("head_last"), hash=bindparam("head_hash"))
)
_INSERT_MOVING_HEAD = _INSERT.add_cte(_MOVE_HEAD.cte("move_head"))
"""PostgreSQL, one event: the insert and the head's move in one statement (a data-modifying CTE)."""


def _draw(n: Any) -> Any:
    """``n`` numbers of the global sequence, as one array."""
    return (
        select(func.array_agg(func.nextval("audit_seq")))
        .select_from(func.generate_series(1, n))
        .scalar_subquery()
    )


def _locked_head(chain: Any) -> Any:
    """The head of ``chain`` locked FOR UPDATE, as a subquery: a query that draws numbers over it draws them only
    once the lock is held. (Drawn in the same SELECT as the lock, PostgreSQL evaluates the draw — an InitPlan —
    before it waits for the lock and keeps it after the wait: a command that waited wrote numbers drawn before
    those of the command it waited for.)"""
    return (
        select(_HEADS.c.seq, _HEADS.c.last_seq, _HEADS.c.hash).where(_HEADS.c.id == chain).with_for_update()
    )


_HEAD_LOCKED = _locked_head(bindparam("chain")).subquery("locked")
_LOCK_HEAD_PG = select(
    _HEAD_LOCKED.c.seq,
    _HEAD_LOCKED.c.last_seq,
    _HEAD_LOCKED.c.hash,
    _draw(bindparam("n", type_=Integer)),
)
"""PostgreSQL: lock the chain's head and draw the group's numbers, in one round trip (drawn once the lock is held,
so numbers rise along the chain)."""
_HEAD = select(_HEADS.c.seq, _HEADS.c.last_seq, _HEADS.c.hash).where(_HEADS.c.id == bindparam("chain"))


_GROUP_IN_ONE = 8
"""PostgreSQL: a group of up to this many events (one command's) is inserted with the head's move in ONE
statement; a larger group (the reads' group commit) as executemany and an update."""


@functools.cache
def _moving_head(n: int, also: Any = None, *, one: bool = False) -> Any:
    """PostgreSQL, ``n`` events: one INSERT of ``n`` rows with the head's move (a data-modifying CTE) and, when
    given, ``also``'s row (another CTE); built once per shape. ``one``: the single event's plain INSERT (its
    parameters the column keys); else the parameters are each column's key suffixed with the row's index and
    the rows are a UNION ALL of one-row SELECTs, not a multi-row VALUES: SQLAlchemy caches the compiled form of
    the one, never of the other (it would compile it again at every command)."""
    if one:
        stmt = _INSERT_MOVING_HEAD
    else:
        cols = list(_EVENTS.columns)
        rows = [select(*(bindparam(f"{c.key}_{i}", type_=c.type) for c in cols)) for i in range(n)]
        stmt = insert(_EVENTS).from_select(cols, union_all(*rows)).add_cte(_MOVE_HEAD.cte("move_head"))
    return stmt if also is None else stmt.add_cte(also.cte("also_row"))


class _SessionWriter:
    """Appends through the caller's ORM session (both engines)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.postgres = session.bind is not None and session.bind.dialect.name == "postgresql"

    async def lock_head(self, chain: int, n: int) -> tuple[int, int, str, list[int]]:
        s = self.session
        if self.postgres:
            pos, last, hash_, drawn = (await s.execute(_LOCK_HEAD_PG, {"chain": chain, "n": n})).one()
            return pos, last, hash_, sorted(drawn)
        # SQLite: the writer holds the database lock from BEGIN IMMEDIATE to commit
        first = await _next_seq(s)
        pos, last, hash_ = (await s.execute(_HEAD, {"chain": chain})).one()
        return pos, last, hash_, list(range(first, first + n))

    async def insert(
        self, rows: list[dict[str, Any]], head: dict[str, Any], also: Also | None = None
    ) -> None:
        """``also``: a row of another table written in the same statement (PostgreSQL, a group of up to
        ``_GROUP_IN_ONE``), else just before."""
        if self.postgres and len(rows) <= _GROUP_IN_ONE:
            extra = also.params if also is not None else {}
            stmt = also.statement if also is not None else None
            if len(rows) == 1:
                await self.session.execute(_moving_head(1, stmt, one=True), {**rows[0], **head, **extra})
            else:
                params = {f"{k}_{i}": v for i, row in enumerate(rows) for k, v in row.items()}
                await self.session.execute(_moving_head(len(rows), stmt), {**params, **head, **extra})
            return
        if also is not None:
            await self.session.execute(also.statement, also.params)
        await self.session.execute(_INSERT, rows)
        await self.session.execute(_MOVE_HEAD, head)


class _PoolWriter:
    """Appends on a plain asyncpg connection in a transaction (PostgreSQL; the group commit of reads): the same
    statements, compiled once for asyncpg (cnvisa.store.fast)."""

    LOCK = Compiled(_LOCK_HEAD_PG)
    INSERT = Compiled(_INSERT)
    INSERT_MOVING_HEAD = Compiled(_INSERT_MOVING_HEAD)
    MOVE_HEAD = Compiled(_MOVE_HEAD)

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def lock_head(self, chain: int, n: int) -> tuple[int, int, str, list[int]]:
        row = await self.conn.fetchrow(self.LOCK.sql, *self.LOCK.args({"chain": chain, "n": n}))
        return row[0], row[1], row[2], sorted(row[3])

    async def insert(
        self, rows: list[dict[str, Any]], head: dict[str, Any], also: Also | None = None
    ) -> None:
        assert also is None  # (the reads' group commit writes nothing else)
        # the driver's json codec takes text: the canonical form the hash was computed over
        rows = [{**r, "detail": canonical(r["detail"]).decode()} for r in rows]
        if len(rows) == 1:
            q = self.INSERT_MOVING_HEAD
            await self.conn.execute(q.sql, *q.args({**rows[0], **head}))
        else:
            await self.conn.executemany(self.INSERT.sql, [self.INSERT.args(r) for r in rows])
            await self.conn.execute(self.MOVE_HEAD.sql, *self.MOVE_HEAD.args(head))


@dataclass(frozen=True)
class Also:
    """A row of another table to write with the events: ``statement`` an INSERT built once with its own
    parameter names (they must not be the events'), ``params`` their values. On PostgreSQL it is a CTE of the
    statement that inserts the events and moves the head: one round trip less on every command (the runner's
    idempotency record)."""

    statement: Any
    params: Mapping[str, Any]


async def append_many(
    session: AsyncSession, events: Sequence[Mapping[str, Any]], *, also: Also | None = None
) -> list[dict[str, Any]]:
    """Append events inside the caller's transaction: what ``append`` does for one, and a group of events
    (``GroupCommit``) for several. Inside a request each event's detail names the request (``request_id``).
    ``also``: a row written with them (``Also``); with no events, on its own."""
    stamped = [{**e, "detail": context.stamped(e.get("detail"))} for e in events]
    if not stamped and also is not None:
        await session.execute(also.statement, also.params)
    return await _append(_SessionWriter(session), stamped, also)


DEFERRED = "deferred_audit"
"""``session.info`` key of the events a command has recorded and writes last (``Runner._run``, ``last``)."""


@contextlib.asynccontextmanager
async def last(session: AsyncSession) -> AsyncIterator[list[dict[str, Any]]]:
    """The events recorded inside (``session.info[DEFERRED]``) are appended when the block ends without an
    error, in one group: the head is the last lock (``append``), whatever the block moves after recording an
    event. Inside a command that already collects them (``Runner._run``) its list is used and it writes them."""
    outer = session.info.get(DEFERRED)
    if outer is not None:
        yield outer
        return
    events: list[dict[str, Any]] = []
    session.info[DEFERRED] = events
    try:
        yield events
        await append_many(session, events)
    finally:
        session.info.pop(DEFERRED, None)


_Fn = TypeVar("_Fn", bound=Callable[..., Awaitable[Any]])


def events_last(fn: _Fn) -> _Fn:
    """``fn(session, …)`` run inside ``last(session)``: its events written last, whoever calls it."""

    @functools.wraps(fn)
    async def run(session: AsyncSession, *args: Any, **kwargs: Any) -> Any:
        async with last(session):
            return await fn(session, *args, **kwargs)

    return cast(_Fn, run)


async def _append(
    writer: _SessionWriter | _PoolWriter, events: Sequence[Mapping[str, Any]], also: Also | None = None
) -> list[dict[str, Any]]:
    """Events without a case share one chain drawn at random for the call; each chain's head is locked once, in
    ascending chain order (two writers never wait for each other crosswise), its events numbered in the order
    given, hashed and inserted, and the head moved once."""
    if not events:
        return []
    caseless = chain_for(None)
    by_chain: dict[int, list[Mapping[str, Any]]] = {}
    for e in events:
        case_id = e.get("case_id")
        by_chain.setdefault(caseless if case_id is None else chain_for(case_id), []).append(e)
    written: list[dict[str, Any]] = []
    for chain in sorted(by_chain):
        group = by_chain[chain]
        head_pos, head_last, head_hash, seqs = await writer.lock_head(chain, len(group))
        rows = []
        for seq, e in zip(seqs, group, strict=True):
            row: dict[str, Any] = {
                "seq": seq,
                "at": as_utc(e["at"]),
                "actor_account_id": e.get("actor_account_id"),
                "role": e["role"],
                "office_id": e.get("office_id"),
                "case_id": e.get("case_id"),
                "action": e["action"],
                "state_before": e.get("state_before"),
                "state_after": e.get("state_after"),
                "detail": json.loads(canonical(e.get("detail") or {})),
                "chain": chain,
                "chain_seq": head_pos + 1,
                "prev_seq": head_last,
                "prev_hash": head_hash,
            }
            row["hash"] = event_hash(SimpleNamespace(**row))
            head_pos, head_last, head_hash = row["chain_seq"], seq, row["hash"]
            rows.append(row)
        written.extend(rows)
        head = {"head_id": chain, "head_seq": head_pos, "head_last": head_last, "head_hash": head_hash}
        await writer.insert(rows, head, also)
        also = None  # (written with the first chain's events)
    return written


_DURABLE_COMMIT = "SET LOCAL synchronous_commit TO on"


class GroupCommit:
    """Audit events of staff reads, committed in groups.

    A read is answered only after its event is committed (as before), but the reads that arrive while one
    group is being written go together in the next: one transaction and one lock of each chain head for the
    group, instead of one per read. With no other reads waiting a group is a single event, written at once.
    On PostgreSQL with a plain asyncpg pool (cnvisa.store.fast) the group is written on it."""

    MAX_GROUP = 200

    def __init__(self, sessions: async_sessionmaker[AsyncSession], pool: Any = None) -> None:
        self._sessions = sessions
        self._pool = pool
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def append(self, **event: Any) -> None:
        loop = asyncio.get_running_loop()
        if self._writer is not None and self._writer.get_loop() is not loop:
            self._writer, self._pending = None, []  # a new event loop (tests): nothing of the old one waits
        done: asyncio.Future[None] = loop.create_future()
        # stamped here, in the reader's request: the group is written by another task
        self._pending.append(({**event, "detail": context.stamped(event.get("detail"))}, done))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._drain())
        await done

    async def _write(self, events: list[dict[str, Any]]) -> None:
        if self._pool is not None:
            with as_dbapi_errors("audit: append a group"):
                async with self._pool.acquire() as conn, conn.transaction():
                    # the pool commits without waiting for the disk (its other writes are the public lookups'
                    # counts); an audit event is answered only once durable, on the synchronous standby too
                    await conn.execute(_DURABLE_COMMIT)
                    await _append(_PoolWriter(conn), events)
            return
        async with self._sessions() as s, s.begin():
            await _append(_SessionWriter(s), events)  # stamped already, each in its own request

    async def _drain(self) -> None:
        while self._pending:
            group = self._pending[: self.MAX_GROUP]
            del self._pending[: self.MAX_GROUP]
            metrics.AUDIT_GROUP.observe(len(group))
            try:
                await self._write([e for e, _ in group])
            except Exception as exc:  # every read of the group fails with it: none is answered unaudited
                for _, f in group:
                    if not f.done():
                        f.set_exception(exc)
            else:
                for _, f in group:
                    if not f.done():
                        f.set_result(None)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    """Events verified: all of them when ok, else those numbered before the first bad one."""
    first_bad_seq: int | None = None
    reason: str | None = None


async def verify(session: AsyncSession, batch: int = 5000) -> VerifyResult:
    """Recompute every chain; report the lowest-numbered event that does not match."""
    bad: list[tuple[int, str]] = []
    good: list[int] = []
    heads = {h.id: h for h in (await session.execute(select(AuditHead))).scalars().all()}
    for chain in range(CHAINS):
        head = heads.get(chain)
        if head is None:
            return VerifyResult(False, 0, None, f"the head of chain {chain} is missing")
        prev_seq, prev_hash, position = 0, GENESIS, 0
        chain_bad: tuple[int, str] | None = None
        last_position = 0
        while chain_bad is None:
            rows = (
                (
                    await session.execute(
                        select(AuditEvent)
                        .where(AuditEvent.chain == chain, AuditEvent.chain_seq > last_position)
                        .order_by(AuditEvent.chain_seq)
                        .limit(batch)
                    )
                )
                .scalars()
                .all()
            )
            if not rows:
                break
            for e in rows:
                position += 1
                if e.chain_seq != position or e.prev_seq != prev_seq:
                    missing = e.prev_seq if e.prev_seq != prev_seq else e.seq
                    chain_bad = (
                        missing,
                        f"event {missing} is missing (chain {chain} breaks before event {e.seq})",
                    )
                    break
                if e.prev_hash != prev_hash:
                    chain_bad = (e.seq, "its prev_hash does not match the previous event of its chain")
                    break
                if event_hash(e) != e.hash:
                    chain_bad = (e.seq, "its content does not match its hash")
                    break
                good.append(e.seq)
                prev_seq, prev_hash = e.seq, e.hash
                last_position = e.chain_seq
            session.expunge_all()
        if chain_bad is None and (head.seq != last_position or head.hash != prev_hash):
            if head.seq > last_position:
                chain_bad = (
                    head.last_seq,
                    f"event {head.last_seq} is missing (the head of chain {chain} records it)",
                )
            else:
                chain_bad = (prev_seq, f"the head of chain {chain} does not match its last event")
        if chain_bad is not None:
            bad.append(chain_bad)
    if not bad:
        return VerifyResult(True, len(good))
    first, reason = min(bad)
    return VerifyResult(False, sum(1 for s in good if s < first), first, reason)
