"""An audit chain's numbers are drawn only once its head is locked (PostgreSQL; SQLite serialises writers from
BEGIN IMMEDIATE, so nothing races there): a command that waited for another's lock draws numbers after that
command's, so numbers rise along every chain (``cnvisa.cases.audit``). Drawn in the same SELECT as the lock,
PostgreSQL evaluated the draw before the wait and kept it — the first test failed so."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from case_helpers import World
from lock_helpers import hold_then_take_every_head, postgresql_only
from sqlalchemy import text

from cnvisa.cases import audit

CHAIN = 3


async def _last_drawn(world: World) -> int:
    async with world.sessions() as s:
        return int((await s.execute(text("SELECT last_value FROM audit_seq"))).scalar_one())


async def _by_lock_head(s: Any) -> list[int]:
    return (await audit._SessionWriter(s).lock_head(CHAIN, 2))[3]


async def test_numbers_are_drawn_once_the_chain_head_is_locked(world: World) -> None:
    if world.sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite: one writer at a time from BEGIN IMMEDIATE; no row lock to wait for")
    async with world.sessions() as holder, holder.begin():
        first = await _by_lock_head(holder)  # the head locked until this transaction ends

        async def wait_then_draw() -> list[int]:
            async with world.sessions() as s, s.begin():
                return await _by_lock_head(s)

        waiting = asyncio.create_task(wait_then_draw())
        await asyncio.sleep(0.5)
        assert not waiting.done()  # it waits for the lock …
        assert await _last_drawn(world) == max(first)  # … having drawn nothing yet
        later = await _by_lock_head_again(holder)
    drawn = await asyncio.wait_for(waiting, 10)
    assert min(drawn) > max(later)  # drawn after everything the holder drew under its lock


async def _by_lock_head_again(s: Any) -> list[int]:
    """More numbers drawn by the holder, still under its lock."""
    return sorted(
        (
            await s.execute(text("SELECT array_agg(nextval('audit_seq')) FROM generate_series(1, 2)"))
        ).scalar_one()
    )


async def test_a_new_case_takes_its_audit_head_after_the_rows_it_refers_to(world: World) -> None:
    """The head of an audit chain is the last lock a command takes (``audit.append``: call it last). A command
    that locks a person first and appends an audit event after (booking an appointment: the per-person limit,
    ``cnvisa.cases.appointments``) must not meet a new application for that person holding the head it needs
    while waiting for the person's row — a deadlock PostgreSQL breaks by failing one of them. It did so in CI
    when the new case's insert also locked its chain head (the foreign key's row lock comes at the statement's
    end, after the head). Here the holder locks the person, the application waits for it, then the holder takes
    every chain's head and commits: both must succeed."""
    postgresql_only(world.sessions)
    await (
        world.applied()
    )  # warm: the office's code known to the service, so the application's first lock is its insert
    c = await hold_then_take_every_head(
        world.sessions,
        "SELECT id FROM people WHERE id = :p FOR UPDATE",
        {"p": world.person_id},
        world.applied,
    )
    assert c["case_id"]
    async with world.sessions() as s:
        assert (await audit.verify(s)).ok
