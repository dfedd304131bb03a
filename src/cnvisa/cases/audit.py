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

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.store.tables import AuditEvent, AuditHead

GENESIS = "0" * 64
CHAINS = 16


def chain_for(case_id: int | None) -> int:
    return secrets.randbelow(CHAINS) if case_id is None else case_id % CHAINS


def canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _utc(at: dt.datetime) -> dt.datetime:
    """SQLite returns stored instants without their offset; every instant is stored in UTC."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def event_hash(e: AuditEvent) -> str:
    fields = {
        "seq": e.seq,
        "at": _utc(e.at).isoformat(timespec="microseconds"),
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
) -> AuditEvent:
    """Append one event inside the caller's transaction (call it last, to hold the chain lock briefly).

    Under the lock: read the head; then write the event and move the head (one statement on PostgreSQL,
    a data-modifying CTE)."""
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    chain = chain_for(case_id)
    if postgres:
        # One round trip: lock the chain's head and draw the event's number.
        head_q = (
            select(func.nextval("audit_seq"), AuditHead.seq, AuditHead.last_seq, AuditHead.hash)
            .where(AuditHead.id == chain)
            .with_for_update()
        )
        seq, head_pos, head_last, head_hash = (await session.execute(head_q)).one()
    else:
        seq = await _next_seq(session)
        head_q = select(AuditHead.seq, AuditHead.last_seq, AuditHead.hash).where(AuditHead.id == chain)
        head_pos, head_last, head_hash = (await session.execute(head_q)).one()
    event = AuditEvent(
        seq=seq,
        at=_utc(at),
        actor_account_id=actor_account_id,
        role=role,
        office_id=office_id,
        case_id=case_id,
        action=action,
        state_before=state_before,
        state_after=state_after,
        detail=json.loads(canonical(detail or {})),
        chain=chain,
        chain_seq=head_pos + 1,
        prev_seq=head_last,
        prev_hash=head_hash,
        hash="",
    )
    event.hash = event_hash(event)
    values = {c.key: getattr(event, c.key) for c in AuditEvent.__table__.columns}
    move_head = (
        update(AuditHead)
        .where(AuditHead.id == chain)
        .values(seq=event.chain_seq, last_seq=event.seq, hash=event.hash)
    )
    if postgres:
        await session.execute(insert(AuditEvent).values(values).add_cte(move_head.cte("move_head")))
    else:
        await session.execute(insert(AuditEvent).values(values))
        await session.execute(move_head)
    return event


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
