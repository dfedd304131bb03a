"""An audit chain's numbers are drawn only once its head is locked (PostgreSQL; SQLite serialises writers from
BEGIN IMMEDIATE, so nothing races there): a command that waited for another's lock draws numbers after that
command's, so numbers rise along every chain (``cnvisa.cases.audit``). Drawn in the same SELECT as the lock,
PostgreSQL evaluated the draw before the wait and kept it — the first test failed so, for both statements."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from case_helpers import World
from sqlalchemy import Integer, literal_column, select, text

from cnvisa.cases import audit

CHAIN = 3


async def _last_drawn(world: World) -> int:
    async with world.sessions() as s:
        return int((await s.execute(text("SELECT last_value FROM audit_seq"))).scalar_one())


async def _by_lock_head(s: Any) -> list[int]:
    return (await audit._SessionWriter(s).lock_head(CHAIN, 2))[3]


async def _by_prelocking(s: Any) -> list[int]:
    stmt = audit.prelocking(
        select(literal_column("1", Integer).label("one")), literal_column(str(CHAIN), Integer)
    )
    row = (await s.execute(stmt, {audit.PRELOCK_N: 2})).one()
    return sorted(row.audit_seqs)


@pytest.mark.parametrize("waiter", [_by_lock_head, _by_prelocking], ids=["lock_head", "prelocking"])
async def test_numbers_are_drawn_once_the_chain_head_is_locked(world: World, waiter: Any) -> None:
    if world.sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite: one writer at a time from BEGIN IMMEDIATE; no row lock to wait for")
    async with world.sessions() as holder, holder.begin():
        first = await _by_lock_head(holder)  # the head locked until this transaction ends

        async def wait_then_draw() -> list[int]:
            async with world.sessions() as s, s.begin():
                return await waiter(s)

        waiting = asyncio.create_task(wait_then_draw())
        await asyncio.sleep(0.5)
        assert not waiting.done()  # it waits for the lock …
        assert await _last_drawn(world) == max(first)  # … having drawn nothing yet
        later = await _by_lock_head_again(holder)
    drawn = await asyncio.wait_for(waiting, 10)
    assert min(drawn) > max(later)  # drawn after everything the holder drew under its lock


async def _by_lock_head_again(s: Any) -> list[int]:
    """More numbers drawn by the holder, still under its lock (as ``lock_head`` tops a prelocked head up)."""
    return sorted((await s.execute(audit._DRAW, {"n": 2})).scalar_one())
