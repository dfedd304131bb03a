"""Lock-order tests on PostgreSQL: a holder locks a row a command reaches late, the command waits for it, then
the holder takes every audit chain's head. The head must be the last lock a command takes (``audit.append``):
a command that already holds a head while it waits deadlocks with the holder, and PostgreSQL fails one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")


def postgresql_only(sessions: async_sessionmaker[AsyncSession]) -> None:
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite: one writer at a time from BEGIN IMMEDIATE; no row lock to wait for")


async def waiting_backends(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as s:
        return int(
            (
                await s.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND datname = current_database()"
                    )
                )
            ).scalar_one()
        )


async def hold_then_take_every_head(
    sessions: async_sessionmaker[AsyncSession],
    lock: str,
    params: Mapping[str, Any],
    command: Callable[[], Awaitable[T]],
    *,
    timeout: float = 20,
) -> T:
    """The holder locks with ``lock`` (a SELECT … FOR UPDATE), ``command`` starts and waits for it, then the
    holder takes every chain's head and commits. Returns what the command returned; fails naming who lost."""
    async with sessions() as holder, holder.begin():
        await holder.execute(text(lock), dict(params))
        running = asyncio.ensure_future(command())
        for _ in range(200):  # until the command waits for the holder's row
            if running.done():
                running.result()  # raises what it raised
                pytest.fail("the command never reached the locked row: the test proves nothing")
            if await waiting_backends(sessions):
                break
            await asyncio.sleep(0.05)
        else:
            running.cancel()
            pytest.fail("the command never waited for the locked row")
        await holder.execute(text("SET LOCAL lock_timeout = '5s'"))
        try:
            await holder.execute(text("SELECT id FROM audit_head ORDER BY id FOR UPDATE"))
        except Exception as exc:  # the holder was chosen as the deadlock's victim
            running.cancel()
            pytest.fail(f"the holder could not take the heads (the command held one while waiting): {exc}")
    return await asyncio.wait_for(running, timeout)
