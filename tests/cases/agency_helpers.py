"""Shared by the agency-adapter tests: a stand-in for the joint application's work-permit branch (a table of the
test's own, written by a fake handler with the signature of ``cnvisa.cases.joint.decide_work_permit_branch``),
messages, and a clock."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cnvisa.cases.actor import Actor
from cnvisa.cases.agencies import AgencyMessage, register_correlation
from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.cases.errors import BadInput, Conflict, GuardFailed
from cnvisa.cases.workflow import Role
from cnvisa.store.agency_tables import AgencyCorrelation, InterAgencyMessage
from cnvisa.store.db import sessionmaker
from cnvisa.store.tables import AuditEvent

START = dt.datetime(2025, 11, 3, 9, 0, tzinfo=SHANGHAI)
SYSTEM = Actor(None, Role.SYSTEM)
BRANCH = "JA-2025-000001-WP"


@dataclass
class FakeBranches:
    """The handler: moves the test's branch row to the message's kind and counts decisions. It writes before it
    checks, so that a refusal shows whether its write was undone. ``granted`` needs ``payload.number``; a
    payload with ``stale`` raises Conflict; ``delay`` holds the transaction open (concurrency tests)."""

    delay: float = 0.0
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    async def __call__(
        self,
        s: AsyncSession,
        *,
        correlation_id: str,
        kind: str,
        payload: dict[str, Any],
        actor: Actor,
        via: str,
        now: dt.datetime,
    ) -> dict[str, Any]:
        self.calls.append((correlation_id, kind, via))
        await s.execute(
            text("UPDATE wp_branch SET state = :k, decisions = decisions + 1 WHERE correlation_id = :c"),
            {"k": kind, "c": correlation_id},
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if kind == "granted" and not payload.get("number"):
            raise BadInput("payload.number", "a granted work permit needs its number")
        if payload.get("guard"):
            raise GuardFailed("branch_open", "Law Art 41", "the branch is closed")
        if payload.get("stale"):
            raise Conflict("the branch was changed by someone else")
        return {"correlation_id": correlation_id, "state": kind, "at": now}


async def open_branch(engine: AsyncEngine, correlation_id: str = BRANCH) -> async_sessionmaker[AsyncSession]:
    """The test's branch table and one branch; the correlation opened with the work-permit authority."""
    sessions = sessionmaker(engine)
    async with sessions() as s, s.begin():
        await s.execute(
            text(
                "CREATE TABLE IF NOT EXISTS wp_branch (correlation_id VARCHAR(80) PRIMARY KEY, "
                "state VARCHAR(20) NOT NULL, decisions INTEGER NOT NULL)"
            )
        )
    async with sessions() as s, s.begin():
        await s.execute(text("INSERT INTO wp_branch VALUES (:c, 'submitted', 0)"), {"c": correlation_id})
        await register_correlation(
            s, correlation_id=correlation_id, agency="WP", subject="work_permit_branch", now=START
        )
    return sessions


def message(
    sequence: int,
    kind: str = "under_review",
    payload: dict[str, Any] | None = None,
    *,
    message_id: str | None = None,
    correlation_id: str = BRANCH,
    sender: str = "WP",
) -> AgencyMessage:
    return AgencyMessage(
        message_id=message_id or f"WP-MSG-{sequence:04d}",
        correlation_id=correlation_id,
        sequence=sequence,
        kind=kind,
        payload=payload if payload is not None else {"note": f"message {sequence}"},
        sent_at=START + dt.timedelta(minutes=sequence),
        sender=sender,
    )


async def branch(sessions: async_sessionmaker[AsyncSession], correlation_id: str = BRANCH) -> tuple[str, int]:
    async with sessions() as s:
        row = (
            await s.execute(
                text("SELECT state, decisions FROM wp_branch WHERE correlation_id = :c"),
                {"c": correlation_id},
            )
        ).one()
        return row[0], row[1]


async def last_in(sessions: async_sessionmaker[AsyncSession], correlation_id: str = BRANCH) -> int:
    async with sessions() as s:
        corr = await s.get(AgencyCorrelation, correlation_id)
        assert corr is not None
        return corr.last_sequence_in


async def records(
    sessions: async_sessionmaker[AsyncSession], direction: str = "in"
) -> list[InterAgencyMessage]:
    async with sessions() as s:
        return list(
            (
                await s.execute(
                    select(InterAgencyMessage)
                    .where(InterAgencyMessage.direction == direction)
                    .order_by(InterAgencyMessage.id)
                )
            )
            .scalars()
            .all()
        )


async def agency_events(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEvent]:
    async with sessions() as s:
        return list(
            (
                await s.execute(
                    select(AuditEvent)
                    .where(AuditEvent.action.like("agency_message_%"))
                    .order_by(AuditEvent.seq)
                )
            )
            .scalars()
            .all()
        )


async def count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as s:
        return int((await s.execute(select(func.count()).select_from(InterAgencyMessage))).scalar_one())


def clock() -> ManualClock:
    return ManualClock(START)
